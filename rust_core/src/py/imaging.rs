//! Imaging chain: `process`, `detect_collimation`, `presets`; result classes `ProcessResult` and
//! `Collimation`.
//!
//! The raw frame is borrowed read-only while attached; a C-contiguous array is used in place, any
//! other layout (Fortran order, slices with steps, negative strides) is copied once, inside the
//! detached section. Everything heavy runs through `run_detached` (GIL released, panics caught).

use std::borrow::Cow;

use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::array::borrow_u16_2d;
use super::run_detached;
use crate::collimation::{Collimation, Geometry};
use crate::enhance;
use crate::error::CoreError;
use crate::frame::{check_shape, Frame};
use crate::pipeline::{self, Params};

/// Borrows `obj` as a raw frame: the shared array checks, then the chain's size limits
/// (ValueError for a frame under 64 px or over 16384 px per side).
pub(crate) fn borrow_raw<'py>(obj: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, u16>> {
    let arr = borrow_u16_2d(obj, "raw")?;
    let (h, w) = arr.as_array().dim();
    check_shape(h, w)?;
    Ok(arr)
}

/// Runs `f` on a row-major view of `raw`, copying only when the layout requires it.
fn with_frame<T: Send>(
    py: Python<'_>,
    raw: &PyReadonlyArray2<'_, u16>,
    f: impl FnOnce(&Frame<'_>) -> Result<T, CoreError> + Send,
) -> PyResult<T> {
    let view = raw.as_array();
    let (h, w) = view.dim();
    run_detached(py, move || {
        let data: Cow<'_, [u16]> = match view.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(view.iter().copied().collect()),
        };
        let frame = Frame::new(&data, h, w)?;
        f(&frame)
    })
}

/// Collimation found by the detector (or a phantom's ground truth).
#[pyclass(name = "Collimation", module = "dros._core", frozen, get_all)]
pub struct PyCollimation {
    /// "rect", "circle" or "none".
    pub kind: &'static str,
    /// rect: {"corners": [(x, y), ...], "angle_deg": float, "sides": [(nx, ny, rho), ...]};
    /// circle: {"center": (x, y), "radius": float}; none: {}. x = column, y = row.
    pub geometry: Py<PyDict>,
    /// Field outline clipped to the detector, (x, y) vertices; empty for a circle.
    pub corners: Vec<(f64, f64)>,
    pub angle_deg: Option<f64>,
    pub center: Option<(f64, f64)>,
    pub radius: Option<f64>,
    /// Fraction of the outline backed by a real shutter edge (0 for "none").
    pub confidence: f64,
    /// 2-D bool, True inside the field.
    pub mask: Py<PyArray2<bool>>,
}

#[pymethods]
impl PyCollimation {
    fn __repr__(&self) -> String {
        format!("Collimation(kind={:?}, confidence={:.3})", self.kind, self.confidence)
    }
}

pub(crate) fn collimation_to_py(py: Python<'_>, c: &Collimation, mask: Py<PyArray2<bool>>) -> PyResult<PyCollimation> {
    let geometry = PyDict::new(py);
    let corners: Vec<(f64, f64)> = c.corners().iter().map(|p| (p[0], p[1])).collect();
    let (mut angle, mut center, mut radius) = (None, None, None);
    match &c.geometry {
        Geometry::Rect { sides, angle_deg } => {
            geometry.set_item("corners", PyList::new(py, corners.iter())?)?;
            geometry.set_item("angle_deg", *angle_deg)?;
            let s: Vec<(f64, f64, f64)> = sides.iter().map(|s| (s.nx, s.ny, s.rho)).collect();
            geometry.set_item("sides", s)?;
            angle = Some(*angle_deg);
        }
        Geometry::Circle { cx, cy, r } => {
            geometry.set_item("center", (*cx, *cy))?;
            geometry.set_item("radius", *r)?;
            center = Some((*cx, *cy));
            radius = Some(*r);
        }
        Geometry::None => {}
    }
    Ok(PyCollimation {
        kind: c.kind.as_str(),
        geometry: geometry.unbind(),
        corners: if matches!(c.geometry, Geometry::Circle { .. }) { Vec::new() } else { corners },
        angle_deg: angle,
        center,
        radius,
        confidence: c.confidence,
        mask,
    })
}

/// Output of `process`.
#[pyclass(name = "ProcessResult", module = "dros._core", frozen, get_all)]
pub struct ProcessResult {
    /// 2-D uint16, processed (12 bits used: 0‥4095), shutter applied.
    pub image: Py<PyArray2<u16>>,
    pub window_center: f64,
    pub window_width: f64,
    /// 2-D bool, True inside the collimated field (the same array as `collimation.mask`).
    pub field_mask: Py<PyArray2<bool>>,
    /// 2-D bool, True where the field received direct (unattenuated) exposure.
    pub foreground_mask: Py<PyArray2<bool>>,
    pub collimation: Py<PyCollimation>,
    pub exposure_index: f64,
    pub target_exposure_index: f64,
    /// None when EI is 0 (no signal).
    pub deviation_index: Option<f64>,
    /// Stage name → seconds.
    pub timings: Py<PyDict>,
    pub preset: String,
}

#[pymethods]
impl ProcessResult {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ProcessResult(shape={:?}, window=({:.1}, {:.1}), EI={:.1}, DI={:?}, collimation={:?})",
            self.image.bind(py).shape(),
            self.window_center,
            self.window_width,
            self.exposure_index,
            self.deviation_index,
            self.collimation.get().kind
        )
    }
}

/// The whole chain on a raw frame; see `dros.imaging.process`.
#[pyfunction(
    name = "process",
    signature = (raw, preset = "default", target_ei = 250.0, soft_border_px = None, dn_per_ugy = None, offset_dn = None)
)]
fn process_py(
    py: Python<'_>,
    raw: &Bound<'_, PyAny>,
    preset: &str,
    target_ei: f64,
    soft_border_px: Option<f64>,
    dn_per_ugy: Option<f64>,
    offset_dn: Option<f64>,
) -> PyResult<ProcessResult> {
    let mut params = Params::from_preset(preset, target_ei)?;
    if let Some(k) = dn_per_ugy {
        if !(k.is_finite() && k > 0.0 && k <= 1.0e6) {
            return Err(
                CoreError::InvalidArgument(format!("dn_per_ugy must be a positive number up to 1e6, got {k}")).into()
            );
        }
        params.calibration.dn_per_ugy = k;
    }
    if let Some(o) = offset_dn {
        if !(0.0..=65535.0).contains(&o) {
            return Err(CoreError::InvalidArgument(format!("offset_dn must be within 0..=65535, got {o}")).into());
        }
        params.calibration.offset_dn = o;
    }
    if let Some(px) = soft_border_px {
        if !(0.0..=512.0).contains(&px) {
            return Err(CoreError::InvalidArgument(format!("soft_border_px must be within 0..=512, got {px}")).into());
        }
        params.enhance.soft_border_px = px as f32;
    }
    let arr = borrow_raw(raw)?;
    let out = with_frame(py, &arr, |frame| pipeline::run(frame, &params))?;
    let mask = out.field_mask.into_pyarray(py).unbind();
    let coll = collimation_to_py(py, &out.collimation, mask.clone_ref(py))?;
    let timings = PyDict::new(py);
    for (k, v) in &out.timings {
        timings.set_item(*k, *v)?;
    }
    Ok(ProcessResult {
        image: out.image.into_pyarray(py).unbind(),
        window_center: out.window_center,
        window_width: out.window_width,
        field_mask: mask,
        foreground_mask: out.foreground_mask.into_pyarray(py).unbind(),
        collimation: Py::new(py, coll)?,
        exposure_index: out.exposure.exposure_index,
        target_exposure_index: out.exposure.target_exposure_index,
        deviation_index: out.exposure.deviation_index,
        timings: timings.unbind(),
        preset: preset.to_ascii_lowercase(),
    })
}

/// Collimation detection alone; see `dros.imaging.detect_collimation`.
#[pyfunction(name = "detect_collimation")]
fn detect_collimation_py(py: Python<'_>, raw: &Bound<'_, PyAny>) -> PyResult<PyCollimation> {
    let arr = borrow_raw(raw)?;
    let (coll, mask) = with_frame(py, &arr, |frame| {
        let c = pipeline::detect_collimation(frame)?;
        let m = c.mask();
        Ok((c, m))
    })?;
    collimation_to_py(py, &coll, mask.into_pyarray(py).unbind())
}

/// Names of the enhancement presets (`img_proc_id` values).
#[pyfunction(name = "presets")]
fn presets_py() -> Vec<&'static str> {
    enhance::preset_names()
}

/// Raises `CorePanicError` from inside the detached section: proves the boundary catches panics.
#[pyfunction(name = "_force_panic")]
fn force_panic_py(py: Python<'_>) -> PyResult<()> {
    run_detached(py, || -> Result<(), CoreError> { panic!("forced panic for the boundary test") })
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ProcessResult>()?;
    m.add_class::<PyCollimation>()?;
    m.add_function(wrap_pyfunction!(process_py, m)?)?;
    m.add_function(wrap_pyfunction!(detect_collimation_py, m)?)?;
    m.add_function(wrap_pyfunction!(presets_py, m)?)?;
    m.add_function(wrap_pyfunction!(force_panic_py, m)?)?;
    Ok(())
}
