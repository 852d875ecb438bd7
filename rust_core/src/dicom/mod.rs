//! DICOM encoding helpers.

pub mod dx;
pub mod rle;
pub mod uid;
