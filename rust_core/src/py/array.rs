//! The one check every 2-D uint16 array passes on its way into the core: a TypeError for a
//! non-array or another dtype, a ValueError for another number of dimensions or an empty frame.
//! Callers add their own size rules (the imaging chain needs at least 64 px per side).

use numpy::{PyArrayDescrMethods, PyReadonlyArray2, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::error::CoreError;

/// Borrows `obj` read-only as a 2-D native uint16 array; `name` is the argument's name in messages.
pub(crate) fn borrow_u16_2d<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<PyReadonlyArray2<'py, u16>> {
    let py = obj.py();
    let arr = obj.cast::<PyUntypedArray>().map_err(|_| {
        let got = obj.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        PyTypeError::new_err(format!("{name} must be a numpy.ndarray of dtype uint16, got {got}"))
    })?;
    if arr.ndim() != 2 {
        return Err(CoreError::InvalidArgument(format!(
            "{name} must be 2-D (rows, columns), got {} dimensions, shape {:?}",
            arr.ndim(),
            arr.shape()
        ))
        .into());
    }
    let dtype = arr.dtype();
    if !dtype.is_equiv_to(&numpy::dtype::<u16>(py)) {
        return Err(PyTypeError::new_err(format!(
            "{name} must have dtype uint16 (native byte order), got {}",
            dtype.str()?
        )));
    }
    if arr.shape().contains(&0) {
        return Err(CoreError::InvalidArgument(format!("{name} frame is empty, shape {:?}", arr.shape())).into());
    }
    Ok(obj.extract::<PyReadonlyArray2<'py, u16>>()?)
}
