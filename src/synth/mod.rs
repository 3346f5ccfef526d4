//! Phantom renderer.
