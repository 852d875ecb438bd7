//! DICOM encoding helpers.

pub mod uid;
