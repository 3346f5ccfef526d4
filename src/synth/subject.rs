//! The scalp being photographed, in world micrometres: skin, its non-hair structures, and
//! follicular units with their hairs. Views (baseline, follow-up) are rendered from it.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

/// Hair pigmentation, as recorded in the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HairColour {
    /// Black.
    Black,
    /// Dark brown.
    DarkBrown,
    /// Brown.
    Brown,
    /// Red.
    Red,
    /// Blond.
    Blond,
    /// Grey.
    Grey,
    /// White.
    White,
}

const HAIR_COLOURS: [(HairColour, [f32; 3], f64); 7] = [
    (HairColour::Black, [0.06, 0.05, 0.045], 0.25),
    (HairColour::DarkBrown, [0.14, 0.09, 0.06], 0.2),
    (HairColour::Brown, [0.32, 0.21, 0.13], 0.15),
    (HairColour::Red, [0.58, 0.28, 0.14], 0.07),
    (HairColour::Blond, [0.78, 0.64, 0.42], 0.15),
    (HairColour::Grey, [0.62, 0.62, 0.62], 0.1),
    (HairColour::White, [0.9, 0.9, 0.88], 0.08),
];

impl HairColour {
    /// Whether the hair is light enough to be hard to see on skin (blond, grey, white).
    pub fn is_light(self) -> bool {
        matches!(self, HairColour::Blond | HairColour::Grey | HairColour::White)
    }
}

/// Which phototrichogram protocol the scalp was prepared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Hair clipped to short stubs (0.1–1.5 mm) with cut ends.
    Clipped,
    /// Unclipped hair, mostly running out of the field, with natural tapered tips.
    Unclipped,
}

/// One hair shaft in world coordinates.
#[derive(Debug, Clone)]
pub struct Hair {
    /// Stable id of the hair on this subject (the same hair keeps its id across visits).
    pub id: u32,
    /// Follicular unit (opening) the hair emerges from; 0 for hairs from outside the patch.
    pub unit_id: u32,
    /// Pigmentation class.
    pub colour: HairColour,
    /// Reflectance of the shaft core (display RGB).
    pub rgb: [f32; 3],
    /// Opacity of the shaft over skin, lower for translucent light hairs.
    pub opacity: f32,
    /// Strength of the glossy highlight.
    pub gloss: f32,
    /// Position of the highlight across the shaft, in half-widths from the axis.
    pub highlight_offset: f32,
    /// Shaft diameter in µm.
    pub width_um: f64,
    /// Where the shaft leaves the opening (µm).
    pub start_um: [f64; 2],
    /// Initial direction (radians).
    pub angle_rad: f64,
    /// Initial curvature (1/µm).
    pub curvature: f64,
    /// Seed of the shaft's shape, so a longer or shorter shaft keeps the same course.
    pub shape_seed: u64,
    /// Full shaft length (µm).
    pub length_um: f64,
    /// Whether the far end is a natural tapered tip (else a blunt cut end).
    pub tapered_tip: bool,
    /// Arc length (µm) after which the shaft lifts off the skin and goes out of focus.
    pub lift_off_um: Option<f64>,
    /// Defocus growth after lift-off, in pixels of blur σ per mm of shaft.
    pub defocus_px_per_mm: f64,
}

/// How much a shaft's curvature wanders per µm.
const CURVATURE_WANDER: f64 = 2e-7;

impl Hair {
    /// The centreline from the opening outwards (µm), sampled every `step_um`, stopping
    /// once it leaves `bounds_um` ([x0, y0, x1, y1]).
    pub fn path_um(&self, step_um: f64, bounds_um: [f64; 4]) -> Vec<[f64; 2]> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.shape_seed);
        let mut path = curved_path(
            &mut rng,
            self.start_um,
            self.angle_rad,
            self.curvature,
            CURVATURE_WANDER,
            self.length_um,
            step_um,
        );
        let outside =
            |p: &[f64; 2]| p[0] < bounds_um[0] || p[1] < bounds_um[1] || p[0] > bounds_um[2] || p[1] > bounds_um[3];
        if let Some(first_out) = path.iter().position(outside) {
            path.truncate((first_out + 1).max(2));
        }
        path
    }
}

/// A follicular unit: one opening with one to four hairs.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Unit id.
    pub id: u32,
    /// Opening centre (µm).
    pub centre_um: [f64; 2],
    /// Opening radius (µm).
    pub radius_um: f64,
}

/// A non-hair structure on the skin (several are hair-like distractors).
#[derive(Debug, Clone)]
pub enum SkinMark {
    /// A soft disc: follicular opening halo, pigment dot, yellow dot, speck, tattoo dot, ink blot.
    Disc {
        /// Centre (µm).
        centre_um: [f64; 2],
        /// Radius (µm).
        radius_um: f64,
        /// Edge softness (µm).
        soft_um: f64,
        /// Colour.
        rgb: [f32; 3],
        /// Opacity.
        alpha: f32,
    },
    /// A soft line: micro-relief furrow, vessel, marker-ink stroke.
    Stroke {
        /// Polyline (µm).
        path_um: Vec<[f64; 2]>,
        /// Line width (µm).
        width_um: f64,
        /// Colour.
        rgb: [f32; 3],
        /// Opacity.
        alpha: f32,
    },
}

/// Skin appearance parameters, evaluated per pixel in world coordinates.
#[derive(Debug, Clone)]
pub struct Skin {
    /// Name of the nearest tone in the palette, for strata.
    pub tone: &'static str,
    /// Base colour.
    pub rgb: [f32; 3],
    /// Amplitude of large blotches.
    pub blotch: f64,
    /// Amplitude of fine mottling.
    pub mottle: f64,
    /// Cell size of the micro-relief network (µm).
    pub relief_cell_um: f64,
    /// Line width of the micro-relief network (µm).
    pub relief_width_um: f64,
    /// Darkening along relief lines (0–1).
    pub relief_strength: f64,
    /// Honeycomb pigment network: cell size (µm) and darkening, if present.
    pub pigment_network: Option<(f64, f64)>,
    /// Noise salt so different subjects differ.
    pub salt: u64,
}

/// The whole scalp patch: skin, marks, units and hairs.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Skin appearance.
    pub skin: Skin,
    /// Non-hair structures, drawn under the hairs.
    pub marks: Vec<SkinMark>,
    /// Follicular units.
    pub units: Vec<Unit>,
    /// Hairs, in drawing order (later ones on top).
    pub hairs: Vec<Hair>,
    /// Protocol.
    pub protocol: Protocol,
    /// Most common hair colour.
    pub dominant_colour: HairColour,
    /// Mean width of the terminal hairs (µm).
    pub terminal_mean_um: f64,
    /// World rectangle [x0, y0, x1, y1] (µm) that holds every unit.
    pub region_um: [f64; 4],
    /// Mean hair growth direction (radians).
    pub flow_rad: f64,
}

const SKIN_TONES: [(&str, [f32; 3]); 8] = [
    ("pale_bluish", [0.86, 0.87, 0.92]),
    ("very_light", [0.93, 0.80, 0.72]),
    ("light", [0.88, 0.70, 0.58]),
    ("medium", [0.76, 0.56, 0.42]),
    ("olive", [0.62, 0.48, 0.34]),
    ("brown", [0.45, 0.31, 0.21]),
    ("dark", [0.26, 0.17, 0.12]),
    ("erythematous", [0.88, 0.58, 0.55]),
];

/// Area of a rectangle in mm².
fn area_mm2(region: [f64; 4]) -> f64 {
    (region[2] - region[0]) * (region[3] - region[1]) / 1e6
}

fn jitter(rng: &mut ChaCha8Rng, rgb: [f32; 3], spread: f32) -> [f32; 3] {
    rgb.map(|c| (c * rng.random_range(1.0 - spread..1.0 + spread)).clamp(0.0, 1.0))
}

fn point_in(rng: &mut ChaCha8Rng, region: [f64; 4]) -> [f64; 2] {
    [
        rng.random_range(region[0]..region[2]),
        rng.random_range(region[1]..region[3]),
    ]
}

/// Poisson-distributed count with mean `mean` (normal approximation for large means).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let n = Normal::new(mean, mean.sqrt()).map(|d| d.sample(rng)).unwrap_or(mean);
        return n.round().max(0.0) as usize;
    }
    let (limit, mut product, mut k) = ((-mean).exp(), rng.random::<f64>(), 0);
    while product > limit {
        product *= rng.random::<f64>();
        k += 1;
    }
    k
}

/// A smooth random walk of `length_um` starting at `start`, heading `angle`, with curvature
/// `curvature` (1/µm) that wanders by `wander`; sampled every `step_um` (the last step shorter),
/// so a longer walk from the same seed extends a shorter one exactly.
pub fn curved_path(
    rng: &mut ChaCha8Rng,
    start: [f64; 2],
    angle: f64,
    curvature: f64,
    wander: f64,
    length_um: f64,
    step_um: f64,
) -> Vec<[f64; 2]> {
    let (mut p, mut heading, mut kappa, mut travelled) = (start, angle, curvature, 0.0);
    let mut path = vec![p];
    while travelled < length_um - 1e-9 {
        let step = step_um.min(length_um - travelled);
        kappa += wander * step_um * rng.random_range(-1.0..1.0);
        heading += kappa * step;
        p = [p[0] + heading.cos() * step, p[1] + heading.sin() * step];
        path.push(p);
        travelled += step;
    }
    path
}

impl Skin {
    /// Random skin: tone from a wide palette, texture, relief and pigment network.
    pub fn generate(rng: &mut ChaCha8Rng) -> Self {
        let (tone, base) = SKIN_TONES[rng.random_range(0..SKIN_TONES.len())];
        let (_, other) = SKIN_TONES[rng.random_range(0..SKIN_TONES.len())];
        let t = rng.random_range(0.0..0.45f32);
        let mixed = [0, 1, 2].map(|c| base[c] + (other[c] - base[c]) * t);
        Skin {
            tone,
            rgb: jitter(rng, mixed, 0.12),
            blotch: rng.random_range(0.02..0.2),
            mottle: rng.random_range(0.01..0.12),
            relief_cell_um: rng.random_range(150.0..700.0),
            relief_width_um: rng.random_range(4.0..18.0),
            relief_strength: if rng.random_bool(0.8) {
                rng.random_range(0.03..0.35)
            } else {
                0.0
            },
            pigment_network: rng
                .random_bool(0.2)
                .then(|| (rng.random_range(60.0..200.0), rng.random_range(0.04..0.25))),
            salt: rng.random(),
        }
    }
}

/// A random direction (radians).
fn any_angle(rng: &mut ChaCha8Rng) -> f64 {
    rng.random_range(0.0..std::f64::consts::TAU)
}

/// How many marks of a kind: Poisson with a mean of up to `max_per_mm2` per mm².
fn mark_count(rng: &mut ChaCha8Rng, area_mm2: f64, max_per_mm2: f64) -> usize {
    let mean = area_mm2 * rng.random_range(0.0..max_per_mm2);
    poisson(rng, mean)
}

/// A stroke mark along `path_um` with width (µm) and opacity drawn from the given ranges.
fn stroke(
    rng: &mut ChaCha8Rng,
    path_um: Vec<[f64; 2]>,
    width_um: Range<f64>,
    rgb: [f32; 3],
    alpha: Range<f32>,
) -> SkinMark {
    let width_um = rng.random_range(width_um);
    SkinMark::Stroke {
        path_um,
        width_um,
        rgb,
        alpha: rng.random_range(alpha),
    }
}

/// A soft disc mark at `centre_um` with radius (µm) and opacity drawn from the given ranges.
fn disc(
    rng: &mut ChaCha8Rng,
    centre_um: [f64; 2],
    radius_um: Range<f64>,
    soft_um: f64,
    rgb: [f32; 3],
    alpha: Range<f32>,
) -> SkinMark {
    let radius_um = rng.random_range(radius_um);
    SkinMark::Disc {
        centre_um,
        radius_um,
        soft_um,
        rgb,
        alpha: rng.random_range(alpha),
    }
}

/// Skin colour darkened by `k`, sometimes with a bluish tint.
fn darker(rng: &mut ChaCha8Rng, skin: &Skin, k: f32) -> [f32; 3] {
    let tint: [f32; 3] = if rng.random_bool(0.3) {
        [0.85, 0.9, 1.1]
    } else {
        [1.0, 0.95, 0.9]
    };
    [0, 1, 2].map(|c| (skin.rgb[c] * k * tint[c]).clamp(0.0, 1.0))
}

/// Random-walk micro-relief furrows, vessels, flakes, specks, pigment dots and marker ink.
fn generate_marks(rng: &mut ChaCha8Rng, skin: &Skin, region: [f64; 4]) -> Vec<SkinMark> {
    let area = area_mm2(region);
    let mut marks = Vec::new();
    // Thin dark furrows: the most hair-like structure on skin.
    for _ in 0..mark_count(rng, area, 0.8) {
        let (start, angle) = (point_in(rng, region), any_angle(rng));
        let (curvature, length) = (rng.random_range(-0.003..0.003), rng.random_range(100.0..1500.0));
        let path_um = curved_path(rng, start, angle, curvature, 2e-5, length, 8.0);
        let k = rng.random_range(0.45..0.85);
        let rgb = darker(rng, skin, k);
        marks.push(stroke(rng, path_um, 3.0..20.0, rgb, 0.3..0.9));
    }
    // Vessels: red, wavy, dotted or arborising.
    for _ in 0..mark_count(rng, area, 0.08) {
        let start = point_in(rng, region);
        let rgb = jitter(rng, [0.72, 0.22, 0.22], 0.15);
        if rng.random_bool(0.5) {
            let (angle, length) = (any_angle(rng), rng.random_range(200.0..1500.0));
            let path_um = curved_path(rng, start, angle, 0.0, 4e-5, length, 8.0);
            marks.push(stroke(rng, path_um, 8.0..30.0, rgb, 0.15..0.6));
        } else {
            marks.push(disc(rng, start, 8.0..30.0, 6.0, rgb, 0.2..0.6));
        }
    }
    // Pigment dots (brown/black), glossy white specks, and scale flakes.
    for _ in 0..mark_count(rng, area, 2.0) {
        let k = rng.random_range(0.2..0.7);
        let rgb = darker(rng, skin, k);
        let centre = point_in(rng, region);
        marks.push(disc(rng, centre, 5.0..25.0, 4.0, rgb, 0.3..0.9));
    }
    for _ in 0..mark_count(rng, area, 3.0) {
        let centre = point_in(rng, region);
        marks.push(disc(rng, centre, 2.0..9.0, 1.5, [1.0, 1.0, 0.98], 0.5..1.0));
    }
    for _ in 0..mark_count(rng, area, 0.3) {
        let centre = point_in(rng, region);
        let size = rng.random_range(40.0..400.0);
        let rgb = jitter(rng, [0.95, 0.93, 0.85], 0.05);
        let alpha = rng.random_range(0.25..0.8);
        for _ in 0..rng.random_range(2..7) {
            let c = [
                centre[0] + rng.random_range(-size..size),
                centre[1] + rng.random_range(-size..size),
            ];
            marks.push(SkinMark::Disc {
                centre_um: c,
                radius_um: size * rng.random_range(0.3..0.8),
                soft_um: size * 0.15,
                rgb,
                alpha,
            });
        }
    }
    // Skin-marker ink and a tattooed target dot.
    if rng.random_bool(0.25) {
        let inks = [[0.2, 0.25, 0.6], [0.4, 0.2, 0.5], [0.15, 0.45, 0.3], [0.1, 0.1, 0.12]];
        let rgb = inks[rng.random_range(0..inks.len())];
        for _ in 0..rng.random_range(1..4) {
            let (start, angle, length) = (point_in(rng, region), any_angle(rng), rng.random_range(300.0..3000.0));
            let path_um = curved_path(rng, start, angle, 0.0, 5e-6, length, 20.0);
            marks.push(stroke(rng, path_um, 40.0..300.0, rgb, 0.2..0.7));
        }
    }
    if rng.random_bool(0.15) {
        let centre = point_in(rng, region);
        marks.push(disc(rng, centre, 100.0..400.0, 60.0, [0.25, 0.3, 0.4], 0.4..0.8));
    }
    marks
}

fn pick_colour(rng: &mut ChaCha8Rng) -> HairColour {
    let total: f64 = HAIR_COLOURS.iter().map(|c| c.2).sum();
    let mut x = rng.random_range(0.0..total);
    for (colour, _, weight) in HAIR_COLOURS {
        if x < weight {
            return colour;
        }
        x -= weight;
    }
    HairColour::Black
}

fn colour_rgb(colour: HairColour) -> [f32; 3] {
    HAIR_COLOURS
        .iter()
        .find(|c| c.0 == colour)
        .map(|c| c.1)
        .unwrap_or([0.1; 3])
}

/// Per-subject hair population parameters (width mix and colour mix).
#[derive(Debug, Clone)]
pub struct HairPopulation {
    dominant: HairColour,
    grey_fraction: f64,
    vellus_fraction: f64,
    terminal_mean_um: f64,
    light_vellus: bool,
}

impl HairPopulation {
    fn generate(rng: &mut ChaCha8Rng) -> Self {
        HairPopulation {
            dominant: pick_colour(rng),
            grey_fraction: if rng.random_bool(0.3) {
                rng.random_range(0.1..0.6)
            } else {
                0.0
            },
            vellus_fraction: rng.random_range(0.05..0.5),
            terminal_mean_um: rng.random_range(55.0..95.0),
            light_vellus: rng.random_bool(0.5),
        }
    }

    /// Draws a shaft width (µm) from the vellus/intermediate/terminal mixture, 10–120 µm.
    pub fn width_um(&self, rng: &mut ChaCha8Rng) -> f64 {
        let w = if rng.random_bool(self.vellus_fraction) {
            rng.random_range(10.0..34.0)
        } else if rng.random_bool(0.3) {
            rng.random_range(28.0..65.0)
        } else {
            Normal::new(self.terminal_mean_um, 14.0)
                .map(|d| d.sample(rng))
                .unwrap_or(self.terminal_mean_um)
        };
        w.clamp(10.0, 120.0)
    }

    fn colour(&self, rng: &mut ChaCha8Rng, width_um: f64) -> HairColour {
        if rng.random_bool(self.grey_fraction) {
            return if rng.random_bool(0.5) {
                HairColour::Grey
            } else {
                HairColour::White
            };
        }
        if width_um < 30.0 && self.light_vellus && rng.random_bool(0.6) {
            return HairColour::Blond;
        }
        self.dominant
    }
}

/// Where and how a shaft grows: start, direction, curvature, length and tip.
#[derive(Debug, Clone, Copy)]
pub struct ShaftCourse {
    /// Start (µm).
    pub start_um: [f64; 2],
    /// Direction (radians).
    pub angle_rad: f64,
    /// Curvature (1/µm).
    pub curvature: f64,
    /// Length (µm).
    pub length_um: f64,
    /// Natural tapered tip rather than a cut end.
    pub tapered_tip: bool,
}

/// Draws one hair's appearance for a given width and course.
pub fn make_hair(
    rng: &mut ChaCha8Rng,
    population: &HairPopulation,
    id: u32,
    unit_id: u32,
    width_um: f64,
    course: ShaftCourse,
    protocol: Protocol,
) -> Hair {
    let colour = population.colour(rng, width_um);
    let thinness = (1.0 - (width_um - 10.0) / 50.0).clamp(0.0, 1.0) as f32;
    let opacity = if colour.is_light() {
        rng.random_range(0.55..0.95)
    } else {
        rng.random_range(0.85..1.0)
    } * (1.0 - 0.35 * thinness * rng.random::<f32>());
    let lifts = protocol == Protocol::Unclipped && rng.random_bool(0.35);
    Hair {
        id,
        unit_id,
        colour,
        rgb: jitter(rng, colour_rgb(colour), 0.15),
        opacity,
        gloss: rng.random_range(0.0..0.6),
        highlight_offset: rng.random_range(-0.45..0.45),
        width_um,
        start_um: course.start_um,
        angle_rad: course.angle_rad,
        curvature: course.curvature,
        shape_seed: rng.random(),
        length_um: course.length_um,
        tapered_tip: course.tapered_tip,
        lift_off_um: lifts.then(|| rng.random_range(300.0..4000.0)),
        defocus_px_per_mm: rng.random_range(0.5..4.0),
    }
}

impl Subject {
    /// A random scalp patch prepared with `protocol` covering `region_um` ([x0, y0, x1, y1], µm), and its hair population.
    pub fn generate(rng: &mut ChaCha8Rng, region_um: [f64; 4], protocol: Protocol) -> (Self, HairPopulation) {
        let skin = Skin::generate(rng);
        let population = HairPopulation::generate(rng);
        let hair_density_per_mm2 = match protocol {
            Protocol::Clipped => rng.random_range(0.8..3.2),
            Protocol::Unclipped => rng.random_range(0.4..1.6),
        };
        let weights = [
            rng.random_range(0.25..0.7),
            rng.random_range(0.2..0.45),
            rng.random_range(0.05..0.25),
            rng.random_range(0.0..0.08),
        ];
        let mean_per_unit: f64 =
            weights.iter().enumerate().map(|(i, w)| (i + 1) as f64 * w).sum::<f64>() / weights.iter().sum::<f64>();
        let unit_count = poisson(rng, area_mm2(region_um) * hair_density_per_mm2 / mean_per_unit);
        let flow = rng.random_range(0.0..std::f64::consts::TAU);
        let flow_variation = match protocol {
            Protocol::Clipped => rng.random_range(0.1..0.8),
            Protocol::Unclipped => rng.random_range(0.05..0.35),
        };
        let flow_salt: u64 = rng.random();
        let min_spacing = rng.random_range(80.0..220.0);

        let mut units: Vec<Unit> = Vec::new();
        let mut attempts = 0;
        while units.len() < unit_count && attempts < unit_count * 30 {
            attempts += 1;
            let c = point_in(rng, region_um);
            if units
                .iter()
                .any(|u| (u.centre_um[0] - c[0]).hypot(u.centre_um[1] - c[1]) < min_spacing)
            {
                continue;
            }
            units.push(Unit {
                id: units.len() as u32 + 1,
                centre_um: c,
                radius_um: 0.0,
            });
        }

        let mut hairs = Vec::new();
        for unit in &mut units {
            let n = 1 + sample_index(rng, &weights);
            unit.radius_um = rng.random_range(25.0..45.0) + 10.0 * n as f64;
            let local = flow
                + flow_variation
                    * crate::synth::noise::fbm(unit.centre_um[0], unit.centre_um[1], 3000.0, 2, flow_salt)
                    * std::f64::consts::PI
                + rng.random_range(-0.2..0.2);
            for _ in 0..n {
                let width = population.width_um(rng);
                let (length, tapered) = hair_length(rng, protocol, width);
                let angle = local + rng.random_range(-0.3..0.3);
                let curvature = rng.random_range(-1.0..1.0) * if protocol == Protocol::Clipped { 4e-4 } else { 2.5e-4 };
                let offset = rng.random_range(0.0..unit.radius_um * 0.4);
                let start = [
                    unit.centre_um[0] + angle.cos() * offset,
                    unit.centre_um[1] + angle.sin() * offset,
                ];
                let course = ShaftCourse {
                    start_um: start,
                    angle_rad: angle,
                    curvature,
                    length_um: length,
                    tapered_tip: tapered,
                };
                let id = hairs.len() as u32 + 1;
                hairs.push(make_hair(rng, &population, id, unit.id, width, course, protocol));
            }
        }
        // Long hairs from outside the patch crossing it, as on unclipped scalps.
        if protocol == Protocol::Unclipped {
            for _ in 0..mark_count(rng, area_mm2(region_um), 0.1) {
                let width = population.width_um(rng);
                let course = ShaftCourse {
                    start_um: point_in(rng, region_um),
                    angle_rad: rng.random_range(0.0..std::f64::consts::TAU),
                    curvature: rng.random_range(-2e-4..2e-4),
                    length_um: rng.random_range(3000.0..9000.0),
                    tapered_tip: true,
                };
                let id = hairs.len() as u32 + 1;
                hairs.push(make_hair(rng, &population, id, 0, width, course, protocol));
            }
        }
        hairs.shuffle(rng);
        let marks = generate_marks(rng, &skin, region_um);
        let subject = Subject {
            skin,
            marks,
            units,
            hairs,
            protocol,
            dominant_colour: population.dominant,
            terminal_mean_um: population.terminal_mean_um,
            region_um,
            flow_rad: flow,
        };
        (subject, population)
    }
}

fn sample_index(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let mut x = rng.random_range(0.0..weights.iter().sum::<f64>());
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Shaft length (µm) and whether it ends in a natural tip, by protocol.
pub fn hair_length(rng: &mut ChaCha8Rng, protocol: Protocol, width_um: f64) -> (f64, bool) {
    match protocol {
        Protocol::Clipped => (rng.random_range(100.0..1500.0), false),
        Protocol::Unclipped if width_um < 30.0 && rng.random_bool(0.5) => (rng.random_range(600.0..4000.0), true),
        Protocol::Unclipped => (rng.random_range(2000.0..9000.0), true),
    }
}
