//! UID functions: `generate_uid`, `validate_uid`.

use pyo3::prelude::*;

use crate::dicom::uid;

/// A fresh DICOM UID under `root` (default `2.25`, UUID-derived).
#[pyfunction(name = "generate_uid", signature = (root = "2.25"))]
fn generate_uid_py(root: &str) -> PyResult<String> {
    Ok(uid::generate(root)?)
}

/// Raises `CoreValueError` naming the broken PS3.5 §9 rule, or returns None.
#[pyfunction(name = "validate_uid")]
fn validate_uid_py(value: &str) -> PyResult<()> {
    Ok(uid::validate(value)?)
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(generate_uid_py, m)?)?;
    m.add_function(wrap_pyfunction!(validate_uid_py, m)?)?;
    Ok(())
}
