//! tricho: trichoscopy image analysis.
//!
//! The library holds every stage (phantom rendering, segmentation, …); the `tricho` binary
//! only parses arguments, calls these functions and renders their results.
#![deny(missing_docs)]

pub mod analyze;
pub mod audit;
pub mod batch;
pub mod cohort;
pub mod compare;
pub mod eval;
pub mod geometry;
pub mod glyphs;
pub mod measure;
mod probability_image;
pub mod quality;
pub mod report;
pub mod scan;
pub mod segment;
pub mod skin_texture;
pub mod synth;
pub mod trace;
pub mod units;
