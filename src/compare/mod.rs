//! Baseline vs follow-up: register the two visits, match hair to hair, and compute the
//! response on the common field only.

pub mod fft;
pub mod field;
pub mod matching;
pub mod register;
pub mod transform;
