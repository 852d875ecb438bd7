//! DROS core: the pure-Rust image-processing chain, DICOM encoding and UID generation.
//!
//! Everything outside `py/` is plain Rust with no PyO3 types, so it can be tested with
//! `cargo test --no-default-features` and reused by Rust benches. `py/` is the only boundary.

pub mod dicom;
pub mod error;
pub mod thumbnail;

#[cfg(feature = "python")]
mod py;

pub use error::{CoreError, CoreResult};
