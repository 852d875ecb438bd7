//! `enhance`: multi-scale contrast equalisation (see `pyramid.rs`) with per-view presets.

pub mod expand;
pub mod fill;
pub mod presets;
pub mod pyramid;

pub use presets::{preset, preset_names, EnhanceParams, PRESETS};
