//! A small in-place radix-2 complex FFT (1-D and 2-D) for the coarse registration search:
//! cross-correlating two 128 × 128 hair rasters over every shift at once. Kept here rather
//! than pulling in an FFT crate because only power-of-two square grids are ever needed.

use std::f64::consts::PI;

/// A complex number as `(re, im)`.
pub type Complex = [f64; 2];

/// In-place FFT of `data` (length a power of two); `inverse` computes the unnormalised
/// inverse transform.
///
/// # Panics
/// If the length is not a power of two.
pub fn fft_1d(data: &mut [Complex], inverse: bool) {
    let n = data.len();
    assert!(n.is_power_of_two(), "FFT length {n} is not a power of two");
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            data.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let angle = sign * 2.0 * PI / len as f64;
        let (ws, wc) = angle.sin_cos();
        for start in (0..n).step_by(len) {
            let mut w = [1.0, 0.0];
            for k in 0..len / 2 {
                let a = data[start + k];
                let b = data[start + k + len / 2];
                let t = [b[0] * w[0] - b[1] * w[1], b[0] * w[1] + b[1] * w[0]];
                data[start + k] = [a[0] + t[0], a[1] + t[1]];
                data[start + k + len / 2] = [a[0] - t[0], a[1] - t[1]];
                w = [w[0] * wc - w[1] * ws, w[0] * ws + w[1] * wc];
            }
        }
        len <<= 1;
    }
}

/// In-place 2-D FFT of a row-major `side` × `side` grid.
///
/// # Panics
/// If `side` is not a power of two or `data.len() != side * side`.
pub fn fft_2d(data: &mut [Complex], side: usize, inverse: bool) {
    assert_eq!(data.len(), side * side, "grid is not {side} × {side}");
    for row in data.chunks_mut(side) {
        fft_1d(row, inverse);
    }
    let mut column = vec![[0.0, 0.0]; side];
    for x in 0..side {
        for y in 0..side {
            column[y] = data[y * side + x];
        }
        fft_1d(&mut column, inverse);
        for y in 0..side {
            data[y * side + x] = column[y];
        }
    }
}

/// The 2-D FFT of a `side` × `side` grid of real values, row-major.
pub fn spectrum(values: impl IntoIterator<Item = f64>, side: usize) -> Vec<Complex> {
    let mut grid: Vec<Complex> = values.into_iter().map(|v| [v, 0.0]).collect();
    fft_2d(&mut grid, side, false);
    grid
}

/// Circular cross-correlation surface (unnormalised) of two grids given by their spectra:
/// `B · conj(F)` transformed back, which peaks at the shift taking `follow` onto `base`.
pub fn cross_correlation(base: &[Complex], mut follow: Vec<Complex>, side: usize) -> Vec<Complex> {
    for (f, b) in follow.iter_mut().zip(base) {
        *f = [b[0] * f[0] + b[1] * f[1], b[1] * f[0] - b[0] * f[1]];
    }
    fft_2d(&mut follow, side, true);
    follow
}

/// A cell index along one axis of a circular `side` grid as a signed shift (−side/2 … side/2).
pub fn signed_shift(index: usize, side: usize) -> f64 {
    if index >= side / 2 {
        index as f64 - side as f64
    } else {
        index as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive DFT, as the reference.
    fn dft(data: &[Complex]) -> Vec<Complex> {
        let n = data.len();
        (0..n)
            .map(|k| {
                data.iter().enumerate().fold([0.0, 0.0], |acc, (t, v)| {
                    let (s, c) = (-2.0 * PI * (k * t) as f64 / n as f64).sin_cos();
                    [acc[0] + v[0] * c - v[1] * s, acc[1] + v[0] * s + v[1] * c]
                })
            })
            .collect()
    }

    #[test]
    fn matches_the_naive_dft_and_inverts() {
        let data: Vec<Complex> = (0..16)
            .map(|i| [(i as f64 * 0.7).sin(), (i as f64 * 0.3).cos()])
            .collect();
        let mut fast = data.clone();
        fft_1d(&mut fast, false);
        for (a, b) in fast.iter().zip(dft(&data)) {
            assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
        }
        fft_1d(&mut fast, true);
        for (a, b) in fast.iter().zip(&data) {
            assert!((a[0] / 16.0 - b[0]).abs() < 1e-12 && (a[1] / 16.0 - b[1]).abs() < 1e-12);
        }
    }
}
