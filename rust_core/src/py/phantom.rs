//! `phantom`: seeded synthetic raw frames with ground truth (see `crate::phantom`).

use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;

use super::imaging::{collimation_to_py, PyCollimation};
use super::run_detached;
use crate::collimation::CollimationKind;
use crate::error::CoreError;
use crate::phantom::{generate, PhantomSpec};

#[pyclass(name = "Phantom", module = "dros._core", frozen, get_all)]
pub struct PyPhantom {
    /// 2-D uint16 raw frame (1000 DN per µGy).
    pub raw: Py<PyArray2<u16>>,
    /// Ground-truth collimation; `collimation.mask` is `field_mask`.
    pub collimation: Py<PyCollimation>,
    pub field_mask: Py<PyArray2<bool>>,
    /// Direct (unattenuated) exposure inside the field.
    pub direct_mask: Py<PyArray2<bool>>,
    /// Field pixels behind the patient (attenuation ≥ 0.15), lead markers excluded.
    pub anatomy_mask: Py<PyArray2<bool>>,
    /// Lead markers inside the field (neither anatomy nor direct exposure).
    pub marker_mask: Py<PyArray2<bool>>,
    pub dose_scale: f64,
    pub seed: u64,
}

/// A phantom frame `height × width` with a `kind` shutter ("rect", "circle", "none").
#[pyfunction(
    name = "phantom",
    signature = (width, height, kind = "rect", seed = 0, dose_scale = None, defects = true, markers = true)
)]
#[allow(clippy::too_many_arguments)]
fn phantom_py(
    py: Python<'_>,
    width: usize,
    height: usize,
    kind: &str,
    seed: u64,
    dose_scale: Option<f64>,
    defects: bool,
    markers: bool,
) -> PyResult<PyPhantom> {
    let kind = CollimationKind::parse(kind).ok_or_else(|| {
        CoreError::InvalidArgument(format!("kind must be \"rect\", \"circle\" or \"none\", got {kind:?}"))
    })?;
    let spec = PhantomSpec { width, height, kind, seed, dose_scale, defects, markers };
    let ph = run_detached(py, || generate(&spec))?;
    let field = ph.field_mask.into_pyarray(py).unbind();
    let coll = collimation_to_py(py, &ph.collimation, field.clone_ref(py))?;
    Ok(PyPhantom {
        raw: ph.raw.into_pyarray(py).unbind(),
        collimation: Py::new(py, coll)?,
        field_mask: field,
        direct_mask: ph.direct_mask.into_pyarray(py).unbind(),
        anatomy_mask: ph.anatomy_mask.into_pyarray(py).unbind(),
        marker_mask: ph.marker_mask.into_pyarray(py).unbind(),
        dose_scale: ph.dose_scale,
        seed,
    })
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPhantom>()?;
    m.add_function(wrap_pyfunction!(phantom_py, m)?)?;
    Ok(())
}
