//! The only place where Rust errors become Python exceptions.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::error::CoreError;

create_exception!(dros._core, CoreValueError, PyValueError, "Input rejected by the DROS core.");
create_exception!(dros._core, CoreIOError, PyOSError, "File-system failure inside the DROS core.");
create_exception!(
    dros._core,
    CorePanicError,
    PyRuntimeError,
    "An internal error (Rust panic) caught at the boundary; the input that caused it is a bug report."
);

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        let msg = err.to_string();
        match err {
            // OSError(errno, strerror) sets `.errno`, so the service can tell a full disk
            // (ENOSPC → 507) from any other failure without reading the message.
            CoreError::Io { ref source, .. } => match source.raw_os_error() {
                Some(code) => CoreIOError::new_err((code, msg)),
                None => CoreIOError::new_err(msg),
            },
            _ => CoreValueError::new_err(msg),
        }
    }
}

/// Runs `f` with the GIL released and turns a panic into `CorePanicError`, never PyO3's
/// `PanicException` (a `BaseException` that `except Exception` would miss).
pub(crate) fn run_detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> Result<T, CoreError> + Send,
    T: Send,
{
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    match outcome {
        Ok(result) => result.map_err(PyErr::from),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(CorePanicError::new_err(format!("internal error in dros._core: {what}")))
        }
    }
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("CoreValueError", py.get_type::<CoreValueError>())?;
    m.add("CoreIOError", py.get_type::<CoreIOError>())?;
    m.add("CorePanicError", py.get_type::<CorePanicError>())?;
    Ok(())
}
