//! What the dermatoscope and camera do to the scene: uneven light, vignetting, glare and
//! bubbles in the immersion fluid, focus blur, colour response, sensor noise and JPEG.

use image::{ImageBuffer, Rgb, RgbImage};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use super::noise;
use super::raster::Canvas;

/// A bright specular spot or an air bubble, in fractions of the image size.
#[derive(Debug, Clone, Serialize)]
pub struct Glare {
    /// Centre as fractions of width and height.
    pub centre: [f64; 2],
    /// Radius as a fraction of the smaller image side.
    pub radius: f64,
    /// Peak brightness added.
    pub strength: f32,
    /// An air bubble (bright rim, dark edge) rather than a soft spot.
    pub bubble: bool,
}

/// Per-view optical and colour settings, recorded in the truth.
#[derive(Debug, Clone, Serialize)]
pub struct Optics {
    /// Strength of the linear illumination gradient.
    pub illumination_gradient: f64,
    /// Direction of the gradient (radians).
    pub illumination_angle_rad: f64,
    /// Strength of low-frequency illumination unevenness.
    pub illumination_unevenness: f64,
    /// Darkening at the corners (0 none … 1 black).
    pub vignetting: f64,
    /// Glare spots and bubbles.
    pub glare: Vec<Glare>,
    /// Focus blur σ at the image centre (px).
    pub blur_sigma_px: f64,
    /// Extra blur σ towards one side of the image (tilted field), px.
    pub blur_tilt_px: f64,
    /// Direction of the tilt (radians).
    pub blur_tilt_angle_rad: f64,
    /// Per-channel white-balance gains.
    pub channel_gain: [f32; 3],
    /// Overall exposure gain.
    pub exposure: f32,
    /// Output gamma exponent applied to [0, 1] values.
    pub gamma: f32,
    /// Saturation factor (1 unchanged, 0 grey).
    pub saturation: f32,
    /// Gaussian sensor noise σ (fraction of full scale).
    pub noise_sigma: f32,
    /// JPEG quality of the compression the image went through, if any.
    pub jpeg_quality: Option<u8>,
    /// Noise salt for the unevenness pattern.
    pub salt: u64,
}

impl Optics {
    /// Random settings spanning far more than looks natural (harsh colour variety helps on real photos).
    pub fn generate(rng: &mut ChaCha8Rng) -> Self {
        let glare = (0..if rng.random_bool(0.45) {
            rng.random_range(1..5)
        } else {
            0
        })
            .map(|_| Glare {
                centre: [rng.random_range(0.0..1.0), rng.random_range(0.0..1.0)],
                radius: rng.random_range(0.01..0.15),
                strength: rng.random_range(0.15..0.8),
                bubble: rng.random_bool(0.3),
            })
            .collect();
        let saturation = if rng.random_bool(0.05) {
            0.0
        } else {
            rng.random_range(0.5..1.35)
        };
        Optics {
            illumination_gradient: rng.random_range(0.0..0.4),
            illumination_angle_rad: rng.random_range(0.0..std::f64::consts::TAU),
            illumination_unevenness: rng.random_range(0.0..0.2),
            vignetting: if rng.random_bool(0.6) {
                rng.random_range(0.05..0.6)
            } else {
                0.0
            },
            glare,
            blur_sigma_px: if rng.random_bool(0.35) {
                0.0
            } else {
                rng.random_range(0.3..1.8)
            },
            blur_tilt_px: if rng.random_bool(0.2) {
                rng.random_range(0.5..2.5)
            } else {
                0.0
            },
            blur_tilt_angle_rad: rng.random_range(0.0..std::f64::consts::TAU),
            channel_gain: [0; 3].map(|_| rng.random_range(0.75..1.25)),
            exposure: rng.random_range(0.65..1.35),
            gamma: rng.random_range(0.6..1.5),
            saturation,
            noise_sigma: if rng.random_bool(0.25) {
                0.0
            } else {
                rng.random_range(0.003..0.035)
            },
            jpeg_quality: rng.random_bool(0.6).then(|| rng.random_range(35..96)),
            salt: rng.random(),
        }
    }

    /// Focus blur σ (px) at pixel (x, y) of a `width × height` image.
    pub fn blur_sigma_at(&self, x: f64, y: f64, width: usize, height: usize) -> f64 {
        if self.blur_tilt_px == 0.0 {
            return self.blur_sigma_px;
        }
        let (s, c) = self.blur_tilt_angle_rad.sin_cos();
        let (u, v) = (x / width as f64 - 0.5, y / height as f64 - 0.5);
        self.blur_sigma_px + self.blur_tilt_px * (u * c + v * s + 0.71).clamp(0.0, 1.42) / 1.42
    }

    /// Applies the field's focus blur, spatially varying when the field is tilted.
    pub fn apply_blur(&self, canvas: &mut Canvas) {
        let max_sigma = self.blur_sigma_px + self.blur_tilt_px;
        if max_sigma < 0.05 {
            return;
        }
        let (w, h) = (canvas.width, canvas.height);
        let flat: Vec<f32> = canvas.rgb.iter().flatten().copied().collect();
        let Some(sharp) = ImageBuffer::<Rgb<f32>, Vec<f32>>::from_raw(w as u32, h as u32, flat) else {
            return;
        };
        let blurred = imageproc::filter::gaussian_blur_f32(&sharp, max_sigma as f32);
        for (i, p) in canvas.rgb.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f64 + 0.5, (i / w) as f64 + 0.5);
            let t = (self.blur_sigma_at(x, y, w, h) / max_sigma) as f32;
            let b = blurred.get_pixel((i % w) as u32, (i / w) as u32).0;
            for c in 0..3 {
                p[c] += (b[c] - p[c]) * t;
            }
        }
    }

    /// Multiplies by the illumination field and adds glare and bubbles.
    pub fn apply_lighting(&self, canvas: &mut Canvas) {
        let (w, h) = (canvas.width as f64, canvas.height as f64);
        let (s, c) = self.illumination_angle_rad.sin_cos();
        let side = w.min(h);
        for (i, p) in canvas.rgb.iter_mut().enumerate() {
            let (x, y) = ((i % canvas.width) as f64 + 0.5, (i / canvas.width) as f64 + 0.5);
            let (u, v) = (x / w - 0.5, y / h - 0.5);
            let radial = (u * u + v * v) * 2.0;
            let uneven = noise::fbm(x / side, y / side, 0.7, 2, self.salt);
            let light = (1.0 + self.illumination_gradient * (u * c + v * s) + self.illumination_unevenness * uneven)
                * (1.0 - self.vignetting * radial * radial);
            let mut add = 0.0f32;
            for g in &self.glare {
                let d = ((x - g.centre[0] * w).powi(2) + (y - g.centre[1] * h).powi(2)).sqrt() / (g.radius * side);
                add += if g.bubble {
                    let ring = (-((d - 1.0) / 0.08).powi(2)).exp();
                    let edge = (-((d - 0.88) / 0.06).powi(2)).exp();
                    (g.strength as f64 * (ring - 0.6 * edge)) as f32
                } else {
                    (g.strength as f64 * (-d * d * 2.0).exp()) as f32
                };
            }
            for ch in p.iter_mut() {
                *ch = *ch * light.max(0.0) as f32 + add;
            }
        }
    }

    /// Camera response: white balance, exposure, saturation, gamma and sensor noise, then 8-bit.
    pub fn develop(&self, canvas: &Canvas, rng: &mut ChaCha8Rng) -> RgbImage {
        let noise = Normal::new(0.0f32, self.noise_sigma.max(1e-9)).ok();
        let mut out = RgbImage::new(canvas.width as u32, canvas.height as u32);
        for (p, q) in canvas.rgb.iter().zip(out.pixels_mut()) {
            let v = [0, 1, 2].map(|c| p[c] * self.channel_gain[c] * self.exposure);
            let grey = 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
            let v = v.map(|x| grey + (x - grey) * self.saturation);
            q.0 = v.map(|x| {
                let n = match (&noise, self.noise_sigma > 0.0) {
                    (Some(d), true) => d.sample(rng),
                    _ => 0.0,
                };
                ((x.clamp(0.0, 1.0).powf(self.gamma) + n).clamp(0.0, 1.0) * 255.0).round() as u8
            });
        }
        out
    }
}

/// The image after a round trip through a JPEG encoder at `quality`, so its artefacts are baked in.
pub fn jpeg_round_trip(image: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    if image.write_with_encoder(encoder).is_err() {
        return image.clone();
    }
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .map(|d| d.to_rgb8())
        .unwrap_or_else(|_| image.clone())
}
