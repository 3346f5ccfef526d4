//! Device overlays burnt into the photo by the capture software: a text bar, a scale bar,
//! measurement circles and blank rows. None of them is hair, and hairs under them are hidden.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::raster::Canvas;
use crate::glyphs::inked_cells;

/// Which overlays a view carries, recorded in the truth.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overlays {
    /// A text bar along the top or bottom edge.
    pub text_bar: bool,
    /// Date/magnification text printed directly on the image.
    pub floating_text: bool,
    /// A scale bar with its label.
    pub scale_bar: bool,
    /// Number of measurement circles.
    pub circles: usize,
    /// Blank (black) rows: letterbox bands or dropped lines.
    pub blank_rows: bool,
}

/// Paints overlays on a canvas and remembers which pixels they cover.
pub struct OverlayPainter<'a> {
    canvas: &'a mut Canvas,
    /// `true` where an overlay covers the pixel.
    pub covered: Vec<bool>,
}

impl<'a> OverlayPainter<'a> {
    /// A painter over `canvas` with nothing covered yet.
    pub fn new(canvas: &'a mut Canvas) -> Self {
        let n = canvas.width * canvas.height;
        Self {
            canvas,
            covered: vec![false; n],
        }
    }

    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: [f32; 3]) {
        let (w, h) = (self.canvas.width as i64, self.canvas.height as i64);
        for y in y0.max(0)..y1.min(h) {
            for x in x0.max(0)..x1.min(w) {
                let i = (y * w + x) as usize;
                self.canvas.rgb[i] = colour;
                self.covered[i] = true;
            }
        }
    }

    fn text(&mut self, text: &str, x: i64, y: i64, cell: i64, colour: [f32; 3]) {
        for (cx, cy) in inked_cells(text) {
            let (px, py) = (x + cx * cell, y + cy * cell);
            self.fill(px, py, px + cell, py + cell, colour);
        }
    }

    fn ring(&mut self, centre: [f64; 2], radius: f64, thickness: f64, colour: [f32; 3]) {
        let (w, h) = (self.canvas.width, self.canvas.height);
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f64 + 0.5 - centre[0]).powi(2) + (y as f64 + 0.5 - centre[1]).powi(2)).sqrt();
                if (d - radius).abs() <= thickness / 2.0 {
                    let i = y * w + x;
                    self.canvas.rgb[i] = colour;
                    self.covered[i] = true;
                }
            }
        }
    }
}

fn caption(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}  x{}  {}.{}mm",
        rng.random_range(2019..2027),
        rng.random_range(1..13),
        rng.random_range(1..29),
        rng.random_range(0..24),
        rng.random_range(0..60),
        [20, 30, 50, 70][rng.random_range(0..4)],
        rng.random_range(0..2),
        rng.random_range(0..10)
    )
}

/// Draws a random set of overlays on `canvas`; returns what was drawn and the covered pixels.
pub fn paint_overlays(rng: &mut ChaCha8Rng, canvas: &mut Canvas, um_per_px: f64) -> (Overlays, Vec<bool>) {
    let (w, h) = (canvas.width as i64, canvas.height as i64);
    let mut overlays = Overlays::default();
    let mut painter = OverlayPainter::new(canvas);
    let bright = [[1.0, 1.0, 1.0], [1.0, 1.0, 0.2], [0.2, 1.0, 0.3], [0.3, 0.9, 1.0]];
    let cell = (h / 160).max(1) + rng.random_range(0..2);
    if rng.random_bool(0.15) {
        overlays.blank_rows = true;
        if rng.random_bool(0.6) {
            let band = (h as f64 * rng.random_range(0.02..0.08)) as i64;
            painter.fill(0, 0, w, band, [0.0; 3]);
            painter.fill(0, h - band, w, h, [0.0; 3]);
        } else {
            for _ in 0..rng.random_range(1..4) {
                let y = rng.random_range(0..h);
                painter.fill(0, y, w, y + rng.random_range(1..4), [0.0; 3]);
            }
        }
    }
    if rng.random_bool(0.3) {
        overlays.text_bar = true;
        let bar = cell * 9;
        let y0 = if rng.random_bool(0.5) { 0 } else { h - bar };
        let shade = rng.random_range(0.0..0.25);
        painter.fill(0, y0, w, y0 + bar, [shade; 3]);
        let text = caption(rng);
        painter.text(&text, cell * 2, y0 + cell * 2, cell, [0.95; 3]);
    } else if rng.random_bool(0.2) {
        overlays.floating_text = true;
        let text = caption(rng);
        let colour = bright[rng.random_range(0..bright.len())];
        painter.text(
            &text,
            rng.random_range(0..w / 3),
            rng.random_range(0..(h - cell * 6).max(1)),
            cell,
            colour,
        );
    }
    if rng.random_bool(0.3) {
        overlays.scale_bar = true;
        let mm = if rng.random_bool(0.5) { 1.0 } else { 0.5 };
        let length = ((mm * 1000.0 / um_per_px) as i64).min(w / 2);
        let thick = rng.random_range(2..6);
        let colour = if rng.random_bool(0.5) { [1.0; 3] } else { [0.0; 3] };
        let (x0, y0) = (w - length - w / 20, h - h / 10);
        painter.fill(x0, y0, x0 + length, y0 + thick, colour);
        painter.fill(x0, y0 - thick * 2, x0 + thick, y0 + thick * 3, colour);
        painter.fill(x0 + length - thick, y0 - thick * 2, x0 + length, y0 + thick * 3, colour);
        let label = if mm == 1.0 { "1mm" } else { "0.5mm" };
        painter.text(label, x0, y0 - thick * 2 - cell * 6, cell, colour);
    }
    if rng.random_bool(0.15) {
        overlays.circles = rng.random_range(1..4);
        let colour = bright[rng.random_range(0..bright.len())];
        let centre = [w as f64 / 2.0 + rng.random_range(-0.1..0.1) * w as f64, h as f64 / 2.0];
        for k in 0..overlays.circles {
            let radius = h.min(w) as f64 * (0.2 + 0.1 * k as f64) * rng.random_range(0.9..1.1);
            painter.ring(centre, radius, rng.random_range(1.0..3.5), colour);
        }
    }
    let covered = painter.covered;
    (overlays, covered)
}
