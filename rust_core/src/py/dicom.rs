//! DICOM and thumbnail functions: `write_dicom`, `encode_rle`, `write_thumbnail`.
//!
//! Arrays are borrowed read-only (strided and read-only arrays accepted; a non-contiguous one
//! is copied once inside the core); the work runs with the GIL released.

use std::path::PathBuf;

use numpy::PyReadonlyArray2;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::array::borrow_u16_2d;
use super::run_detached;
use crate::dicom::dx::{self, DxMetadata, TransferSyntax};
use crate::dicom::rle;
use crate::thumbnail;

fn frame<'py>(obj: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, u16>> {
    borrow_u16_2d(obj, "image")
}

/// Reads the `DxMetadata` attributes; an object lacking one is the wrong type, so the
/// AttributeError becomes a TypeError that says what was expected.
fn read_metadata(obj: &Bound<'_, PyAny>) -> PyResult<DxMetadata> {
    obj.extract::<DxMetadata>().map_err(|e| {
        if e.is_instance_of::<pyo3::exceptions::PyAttributeError>(obj.py()) {
            let name = obj.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            PyTypeError::new_err(format!("metadata must be a dros.dx_metadata.DxMetadata, got {name}: {e}"))
        } else {
            e
        }
    })
}

/// Writes a DX Part-10 file (For Presentation or For Processing by
/// `metadata.presentation_intent`) in Explicit VR Little Endian or RLE Lossless.
#[pyfunction(name = "write_dicom", signature = (path, image, metadata, transfer_syntax = "explicit"))]
fn write_dicom_py(
    py: Python<'_>,
    path: PathBuf,
    image: &Bound<'_, PyAny>,
    metadata: &Bound<'_, PyAny>,
    transfer_syntax: &str,
) -> PyResult<()> {
    let metadata = read_metadata(metadata)?;
    let ts = TransferSyntax::parse(transfer_syntax)?;
    let arr = frame(image)?;
    let view = arr.as_array();
    run_detached(py, || dx::write_dicom(&path, view, &metadata, ts))
}

/// The RLE Lossless frame (PS3.5 Annex G) of a 2-D uint16 image: the bytes of the one
/// encapsulated fragment.
#[pyfunction(name = "encode_rle")]
fn encode_rle_py<'py>(py: Python<'py>, image: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let arr = frame(image)?;
    let view = arr.as_array();
    let bytes = run_detached(py, || rle::encode_frame_u16(view))?;
    Ok(PyBytes::new(py, &bytes))
}

/// Lossless WebP of the windowed image, longest side `size` (never enlarged), area-averaged.
#[pyfunction(name = "write_thumbnail", signature = (path, image, window_center, window_width, size = 512))]
fn write_thumbnail_py(
    py: Python<'_>,
    path: PathBuf,
    image: &Bound<'_, PyAny>,
    window_center: f64,
    window_width: f64,
    size: usize,
) -> PyResult<()> {
    let arr = frame(image)?;
    let view = arr.as_array();
    run_detached(py, || thumbnail::write_thumbnail(&path, view, window_center, window_width, size))
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(write_dicom_py, m)?)?;
    m.add_function(wrap_pyfunction!(encode_rle_py, m)?)?;
    m.add_function(wrap_pyfunction!(write_thumbnail_py, m)?)?;
    m.add("DX_IMPLEMENTATION_CLASS_UID", dx::IMPLEMENTATION_CLASS_UID)?;
    m.add("DX_IMPLEMENTATION_VERSION_NAME", dx::IMPLEMENTATION_VERSION_NAME)?;
    Ok(())
}
