//! The whole chain: raw frame → diagnostic image, window, EI/DI, collimation.
//!
//! Order (the progress states of the original image server): collimation (`collimator_rect`,
//! `collimator_circle`) → `foreground` → `enhance` → `apply` → `auto_wwwl` → `exposure_index`.
//! `prepare` is the shared first pass: dead readout lines repaired (see
//! `frame::repair_dead_lines`), ln(raw) at half resolution (pyramid level 1), reduced
//! further for the detectors.

use std::time::Instant;

use ndarray::Array2;

use crate::apply::apply_shutter;
use crate::auto_wwwl;
use crate::collimation::{self, Collimation, Fields, LowRes};
use crate::enhance::pyramid::Raw;
use crate::enhance::{self, EnhanceParams};
use crate::error::{CoreError, CoreResult};
use crate::exposure::{self, Calibration, ExposureIndex};
use crate::foreground;
use crate::frame::{half_log, log_lut, lowres_factor, repair_dead_lines, Frame, LogLut, Repair};

/// Longest side of the reduced image the collimation detectors work on.
pub const LOWRES_TARGET: usize = 400;

#[derive(Clone, Debug)]
pub struct Params {
    pub enhance: EnhanceParams,
    pub target_ei: f64,
    pub calibration: Calibration,
}

impl Params {
    pub fn from_preset(name: &str, target_ei: f64) -> CoreResult<Self> {
        let enhance = enhance::preset(name).ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "unknown preset {name:?}; known presets: {}",
                enhance::preset_names().join(", ")
            ))
        })?;
        if !(target_ei.is_finite() && target_ei > 0.0) {
            return Err(CoreError::InvalidArgument(format!("target_ei must be a positive number, got {target_ei}")));
        }
        Ok(Params { enhance, target_ei, calibration: Calibration::default() })
    }
}

pub struct Processed {
    pub image: Array2<u16>,
    pub field_mask: Array2<bool>,
    pub foreground_mask: Array2<bool>,
    pub collimation: Collimation,
    pub window_center: f64,
    pub window_width: f64,
    pub exposure: ExposureIndex,
    pub timings: Vec<(&'static str, f64)>,
}

/// Shared first pass: half-resolution log image and the reduced image for the detectors.
pub fn prepare(frame: &Frame<'_>, lut: &LogLut) -> (crate::frame::Plane, LowRes) {
    let g1 = half_log(frame, lut);
    let f = lowres_factor(frame.width, frame.height, LOWRES_TARGET);
    let low = LowRes::new(g1.downsample_box(f / 2), f);
    (g1, low)
}

/// Collimation detection alone (`imaging.detect_collimation`).
pub fn detect_collimation(frame: &Frame<'_>) -> CoreResult<Collimation> {
    let repair = repair_dead_lines(frame);
    let frame = &match &repair {
        Some(Repair::Copy(v)) => Frame::new(v, frame.height, frame.width)?,
        Some(Repair::Rows(p)) => frame.with_patch(p),
        None => *frame,
    };
    let lut = log_lut();
    let (_, low) = prepare(frame, &lut);
    Ok(collimation::detect(frame, &low).collimation)
}

pub fn run(input: &Frame<'_>, params: &Params) -> CoreResult<Processed> {
    let (w, h) = (input.width, input.height);
    let mut timings = Vec::with_capacity(8);
    let t = Instant::now();
    let (copy, patch) = match repair_dead_lines(input) {
        Some(Repair::Copy(v)) => (Some(v), None),
        Some(Repair::Rows(p)) => (None, Some(p)),
        None => (None, None),
    };
    let frame = &match (&copy, &patch) {
        (Some(v), _) => Frame::new(v, h, w)?,
        (None, Some(p)) => input.with_patch(p),
        (None, None) => *input,
    };
    let lut = log_lut();
    let (g1, low) = prepare(frame, &lut);
    timings.push(("prepare", t.elapsed().as_secs_f64()));

    let det = collimation::detect(frame, &low);
    timings.push(("collimator_rect", det.t_rect));
    timings.push(("collimator_circle", det.t_circle));
    let coll = det.collimation;
    let fields = Fields { coll: &coll, several: &det.fields };

    // The foreground detection has serial steps (flood fills, selections): level 0's noise, which
    // needs only the field, runs beside it.
    let ((anatomy, direct, marks, t_foreground), (sigma0, t_sigma0)) = rayon::join(
        || {
            let t = Instant::now();
            // Spans and a half-resolution anatomy rather than full-resolution masks: on 3072²
            // each full mask held through the enhancement was half a frame of the peak memory.
            let spans: Vec<(usize, usize)> = (0..h).map(|y| fields.row_span(y)).collect();
            let marks = foreground::markers(&low, fields);
            let direct = foreground::detect_each(&low, &g1, fields, &marks.mask, &spans, w);
            let anatomy = foreground::anatomy(&g1, &low, &marks, direct.as_ref(), fields, spans, w);
            (anatomy, direct, marks, t.elapsed().as_secs_f64())
        },
        || {
            let t = Instant::now();
            (enhance::pyramid::level0_sigma(frame, &lut, &g1, &coll), t.elapsed().as_secs_f64())
        },
    );
    // EI reads the raw frame, which the enhancement may then overwrite with its output.
    let t = Instant::now();
    let ei = exposure::exposure_index(frame, &anatomy, params.target_ei, &params.calibration);
    let t_ei = t.elapsed().as_secs_f64();
    let (lw, lf) = (low.log.width, low.factor);

    let t = Instant::now();
    // A repaired copy takes the output in place; otherwise the output is a new buffer.
    let raw = match copy {
        Some(data) => Raw::Owned { data, width: w, height: h },
        None => Raw::Borrowed(patch.as_ref().map_or(*input, |p| input.with_patch(p))),
    };
    let mut image = enhance::pyramid::enhance(
        raw,
        &lut,
        &g1,
        &coll,
        direct.as_ref().map(|d| d.half.as_slice()),
        (&marks.mask, lw, lf),
        sigma0,
        &params.enhance,
    );
    drop(g1);
    let t_enhance = t.elapsed().as_secs_f64() + t_sigma0;
    // The full-resolution direct exposure only once the enhancement's planes are gone: the peak
    // memory is then lower by a mask. Its time is the foreground stage's.
    let t = Instant::now();
    let fg = foreground::direct_full(direct.as_ref(), &anatomy.spans, w);
    timings.push(("foreground", t_foreground + t.elapsed().as_secs_f64()));
    timings.push(("enhance", t_enhance));

    let t = Instant::now();
    // The enhancement wrote the shutter (black outside the field); this softens its edge.
    if params.enhance.soft_border_px > 0.0 {
        apply_shutter(&mut image, w, &coll, params.enhance.soft_border_px as f64);
    }
    timings.push(("apply", t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let lead = auto_wwwl::marker_level(&image, w, (&marks.mask, lw, lf));
    let (wc, ww) = auto_wwwl::window(&image, &anatomy, w, lead);
    timings.push(("auto_wwwl", t.elapsed().as_secs_f64()));
    timings.push(("exposure_index", t_ei));
    drop(anatomy);

    // The field mask last: made earlier, it would be held through the enhancement (half a frame
    // more at the peak).
    let field_mask = coll.mask();

    let shape = (h, w);
    let err = |e: ndarray::ShapeError| CoreError::InvalidArgument(e.to_string());
    Ok(Processed {
        image: Array2::from_shape_vec(shape, image).map_err(err)?,
        field_mask,
        foreground_mask: Array2::from_shape_vec(shape, fg).map_err(err)?,
        collimation: coll,
        window_center: wc,
        window_width: ww,
        exposure: ei,
        timings,
    })
}
