//! `phantom`: seeded synthetic raw frames with ground truth (see `crate::phantom`).
//!
//! The phantom module knows nothing of the detector; only here, for the Python face, is its field
//! also shown as a `Collimation` (the type the detector returns) so callers compare like with like.
//! Its `mask` is the phantom's own field mask. A frame with two or three fields has no one outline:
//! its collimation is `none` in kind and geometry, and its `mask` the union of the fields.

use numpy::{IntoPyArray, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::imaging::{collimation_to_py, PyCollimation};
use super::run_detached;
use crate::collimation::{Collimation, HalfPlane};
use crate::error::CoreError;
use crate::phantom::{generate, Field, FieldKind, PhantomSpec, Physics, SceneParams, IMPLANT_MAX_ATTENUATION};

#[pyclass(name = "Phantom", module = "dros._core", frozen, get_all)]
pub struct PyPhantom {
    /// 2-D uint16 raw frame (`scene["dn_per_ugy"]` DN per µGy, offset 0).
    pub raw: Py<PyArray2<u16>>,
    /// Ground-truth collimation; `collimation.mask` is `field_mask` (kind `none` on a frame with
    /// several fields: `scene["field"]["kind"] == "multiple"`).
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
    /// The scene as plain numbers (field geometry, ellipses, texture grid, markers, physics draws),
    /// for an independent rasteriser of the truth.
    pub scene: Py<PyDict>,
}

/// The phantom's field as the detector's type; sides beyond the panel are left out, as the
/// detector reports them.
fn field_as_collimation(field: &Field, w: usize, h: usize) -> Collimation {
    match *field {
        Field::Open => Collimation::none(w, h),
        Field::Circle { cx, cy, r } => Collimation::circle(w, h, cx, cy, r, 1.0),
        Field::Rect { cx, cy, hw, hh, angle_deg } => {
            let (s, c) = angle_deg.to_radians().sin_cos();
            let (ux, uy, vx, vy) = (c, s, -s, c);
            let (pu, pv) = (ux * cx + uy * cy, vx * cx + vy * cy);
            let sides = [
                HalfPlane { nx: ux, ny: uy, rho: pu - hw },
                HalfPlane { nx: -ux, ny: -uy, rho: -pu - hw },
                HalfPlane { nx: vx, ny: vy, rho: pv - hh },
                HalfPlane { nx: -vx, ny: -vy, rho: -pv - hh },
            ];
            let (wf, hf) = ((w - 1) as f64, (h - 1) as f64);
            let corners = [(0.0, 0.0), (wf, 0.0), (0.0, hf), (wf, hf)];
            let visible = sides.into_iter().filter(|s| corners.iter().any(|&(x, y)| s.distance(x, y) < 0.0)).collect();
            Collimation::rect(w, h, visible, angle_deg, 1.0)
        }
    }
}

fn field_to_py<'py>(py: Python<'py>, field: &Field) -> PyResult<Bound<'py, PyDict>> {
    let f = PyDict::new(py);
    f.set_item("kind", field.kind().as_str())?;
    match *field {
        Field::Open => {}
        Field::Rect { cx, cy, hw, hh, angle_deg } => {
            f.set_item("center", (cx, cy))?;
            f.set_item("half_size", (hw, hh))?;
            f.set_item("angle_deg", angle_deg)?;
        }
        Field::Circle { cx, cy, r } => {
            f.set_item("center", (cx, cy))?;
            f.set_item("radius", r)?;
        }
    }
    Ok(f)
}

/// The scene as a dict. A frame with several fields has `field = {"kind": "multiple", "fields":
/// [each field]}` and `more_bodies` (the patients of the second and third field: `body`, `inner`,
/// `implants`); other frames have neither key's new form.
fn scene_to_py<'py>(py: Python<'py>, sc: &SceneParams) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if sc.more_fields.is_empty() {
        d.set_item("field", field_to_py(py, &sc.field)?)?;
    } else {
        let f = PyDict::new(py);
        f.set_item("kind", "multiple")?;
        let all = std::iter::once(&sc.field).chain(&sc.more_fields).map(|g| field_to_py(py, g));
        f.set_item("fields", all.collect::<PyResult<Vec<_>>>()?)?;
        d.set_item("field", f)?;
        let bodies = sc.more_bodies.iter().map(|b| {
            let e = PyDict::new(py);
            e.set_item("body", b.body.to_vec())?;
            e.set_item("inner", b.inner.iter().map(|x| x.to_vec()).collect::<Vec<_>>())?;
            e.set_item("implants", b.implants.iter().map(|x| x.to_vec()).collect::<Vec<_>>())?;
            Ok(e)
        });
        d.set_item("more_bodies", bodies.collect::<PyResult<Vec<_>>>()?)?;
    }
    d.set_item("body", sc.body.to_vec())?;
    d.set_item("inner", sc.inner.iter().map(|e| e.to_vec()).collect::<Vec<_>>())?;
    d.set_item("tex", sc.tex.clone())?;
    d.set_item("tex_n", sc.tex_n)?;
    d.set_item("tex_amp", sc.tex_amp)?;
    d.set_item("max_attenuation", sc.max_attenuation)?;
    d.set_item("markers", sc.markers.iter().map(|m| m.to_vec()).collect::<Vec<_>>())?;
    d.set_item("penumbra_sigma", sc.penumbra_scale * std::f64::consts::PI / 3f64.sqrt())?;
    d.set_item("blade_transmission", sc.blade_transmission)?;
    d.set_item("scatter_to_primary", sc.scatter_to_primary)?;
    d.set_item("heel", sc.heel)?;
    d.set_item("dn_per_ugy", sc.dn_per_ugy)?;
    d.set_item("implants", sc.implants.iter().map(|m| m.to_vec()).collect::<Vec<_>>())?;
    d.set_item("implant_max_attenuation", IMPLANT_MAX_ATTENUATION)?;
    d.set_item("tiles", sc.tiles)?;
    d.set_item("tile_gain", sc.tile_gain.clone())?;
    d.set_item("grid", sc.grid.map(|g| g.to_vec()))?;
    d.set_item("saturation_dn", sc.saturation_dn)?;
    d.set_item("paediatric", sc.paediatric)?;
    Ok(d)
}

/// A phantom frame `height × width` with a `kind` shutter ("rect", "circle", "none").
#[pyfunction(
    name = "phantom",
    signature = (width, height, kind = "rect", seed = 0, dose_scale = None, defects = true, markers = true, physics = "classic")
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
    physics: &str,
) -> PyResult<PyPhantom> {
    let kind = FieldKind::parse(kind).ok_or_else(|| {
        CoreError::InvalidArgument(format!("kind must be \"rect\", \"circle\" or \"none\", got {kind:?}"))
    })?;
    let physics = Physics::parse(physics).ok_or_else(|| {
        CoreError::InvalidArgument(format!("physics must be \"classic\" or \"wide\", got {physics:?}"))
    })?;
    let spec = PhantomSpec { width, height, kind, seed, dose_scale, defects, markers, physics };
    let ph = run_detached(py, || generate(&spec))?;
    let field = ph.field_mask.into_pyarray(py).unbind();
    let outline = if ph.scene.more_fields.is_empty() {
        field_as_collimation(&ph.scene.field, width, height)
    } else {
        Collimation::none(width, height)
    };
    let coll = collimation_to_py(py, &outline, field.clone_ref(py))?;
    Ok(PyPhantom {
        raw: ph.raw.into_pyarray(py).unbind(),
        collimation: Py::new(py, coll)?,
        field_mask: field,
        direct_mask: ph.direct_mask.into_pyarray(py).unbind(),
        anatomy_mask: ph.anatomy_mask.into_pyarray(py).unbind(),
        marker_mask: ph.marker_mask.into_pyarray(py).unbind(),
        dose_scale: ph.dose_scale,
        seed,
        scene: scene_to_py(py, &ph.scene)?.unbind(),
    })
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPhantom>()?;
    m.add_function(wrap_pyfunction!(phantom_py, m)?)?;
    Ok(())
}
