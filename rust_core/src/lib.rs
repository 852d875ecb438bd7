//! DROS core: the pure-Rust image-processing chain, DICOM encoding and UID generation.
//!
//! Everything outside `py/` is plain Rust with no PyO3 types, so it can be tested with
//! `cargo test --no-default-features` and reused by Rust benches. `py/` is the only boundary.

pub mod apply;
pub mod auto_wwwl;
pub mod collimation;
pub mod dicom;
pub mod enhance;
pub mod error;
pub mod exposure;
pub mod foreground;
pub mod frame;
pub mod morph;
pub mod order;
pub mod phantom;
pub mod pipeline;
pub mod put;
pub mod region;
pub mod simd;
pub mod thumbnail;

#[cfg(feature = "python")]
mod py;

pub use error::{CoreError, CoreResult};
