//! Deterministic procedural noise evaluated in world coordinates (µm), so that two views of
//! the same scalp (baseline and follow-up) see exactly the same skin texture.

/// Mixes integers into a well-spread 64-bit hash (SplitMix64 finaliser).
pub fn hash64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hash of a lattice cell and a salt, uniform in [0, 1).
fn cell_unit(ix: i64, iy: i64, salt: u64) -> f64 {
    let h = hash64(salt ^ hash64((ix as u64).wrapping_mul(0x1656_67B1) ^ hash64(iy as u64)));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in [-1, 1] with features of about one unit.
pub fn value(x: f64, y: f64, salt: u64) -> f64 {
    let (fx, fy) = (x.floor(), y.floor());
    let (ix, iy) = (fx as i64, fy as i64);
    let (tx, ty) = (smooth(x - fx), smooth(y - fy));
    let corner = |dx: i64, dy: i64| cell_unit(ix + dx, iy + dy, salt) * 2.0 - 1.0;
    let top = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * tx;
    let bottom = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * tx;
    top + (bottom - top) * ty
}

/// Fractal sum of `octaves` value-noise layers with features of `scale` world units, in about [-1, 1].
pub fn fbm(x: f64, y: f64, scale: f64, octaves: u32, salt: u64) -> f64 {
    let (mut sum, mut amplitude, mut norm, mut frequency) = (0.0, 1.0, 0.0, 1.0 / scale);
    for octave in 0..octaves {
        sum += amplitude * value(x * frequency, y * frequency, salt.wrapping_add(octave as u64));
        norm += amplitude;
        amplitude *= 0.5;
        frequency *= 2.03;
    }
    sum / norm
}

/// Cellular (Worley) noise: distances to the nearest and second-nearest feature point, for
/// cells of `scale` world units. `f2 - f1` is small along cell borders, which draws the
/// polygonal network of skin micro-relief and pigment.
pub fn worley(x: f64, y: f64, scale: f64, salt: u64) -> (f64, f64) {
    let (sx, sy) = (x / scale, y / scale);
    let (ix, iy) = (sx.floor() as i64, sy.floor() as i64);
    let (mut f1, mut f2) = (f64::INFINITY, f64::INFINITY);
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (cx, cy) = (ix + dx, iy + dy);
            let px = cx as f64 + cell_unit(cx, cy, salt);
            let py = cy as f64 + cell_unit(cx, cy, salt ^ 0xA5A5);
            let d = ((px - sx).powi(2) + (py - sy).powi(2)).sqrt();
            if d < f1 {
                f2 = f1;
                f1 = d;
            } else if d < f2 {
                f2 = d;
            }
        }
    }
    (f1 * scale, f2 * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_and_bounded() {
        for i in 0..1000 {
            let (x, y) = (i as f64 * 0.37, i as f64 * -1.13);
            let v = fbm(x, y, 3.0, 4, 7);
            assert!((-1.0..=1.0).contains(&v));
            assert_eq!(v, fbm(x, y, 3.0, 4, 7));
        }
    }

    #[test]
    fn worley_distances_are_ordered() {
        for i in 0..200 {
            let (f1, f2) = worley(i as f64 * 13.7, i as f64 * 3.1, 50.0, 3);
            assert!(f1 <= f2 && f1 >= 0.0);
        }
    }
}
