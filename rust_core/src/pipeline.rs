//! The whole chain: raw frame → diagnostic image, window, EI/DI, collimation.
//!
//! Order (the progress states of the original image server): collimation (`collimator_rect`,
//! `collimator_circle`) → `foreground` → `enhance` → `apply` → `auto_wwwl` → `exposure_index`.
//! `prepare` is the shared first pass: dead readout lines repaired (see
//! `frame::repair_dead_lines`), ln(raw) at half resolution (pyramid level 1), reduced
//! further for the detectors.

use std::time::Instant;

use ndarray::Array2;
use rayon::prelude::*;

use crate::apply::apply_shutter;
use crate::auto_wwwl;
use crate::collimation::{self, Collimation, LowRes};
use crate::enhance::{self, EnhanceParams};
use crate::error::{CoreError, CoreResult};
use crate::exposure::{self, Calibration, ExposureIndex};
use crate::foreground;
use crate::frame::{half_log, log_lut, lowres_factor, repair_dead_lines, Frame};

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
pub fn prepare(frame: &Frame<'_>, lut: &[f32]) -> (crate::frame::Plane, LowRes) {
    let g1 = half_log(frame, lut);
    let f = lowres_factor(frame.width, frame.height, LOWRES_TARGET);
    let low = LowRes::new(g1.downsample_box(f / 2), f);
    (g1, low)
}

/// Collimation detection alone (`imaging.detect_collimation`).
pub fn detect_collimation(frame: &Frame<'_>) -> CoreResult<Collimation> {
    let repaired = repair_dead_lines(frame);
    let frame = &match &repaired {
        Some(v) => Frame::new(v, frame.height, frame.width)?,
        None => *frame,
    };
    let lut = log_lut();
    let (_, low) = prepare(frame, &lut);
    Ok(collimation::detect(frame, &low).collimation)
}

pub fn run(frame: &Frame<'_>, params: &Params) -> CoreResult<Processed> {
    let (w, h) = (frame.width, frame.height);
    let mut timings = Vec::with_capacity(8);
    let t = Instant::now();
    let repaired = repair_dead_lines(frame);
    let frame = &match &repaired {
        Some(v) => Frame::new(v, h, w)?,
        None => *frame,
    };
    let lut = log_lut();
    let (g1, low) = prepare(frame, &lut);
    timings.push(("prepare", t.elapsed().as_secs_f64()));

    let det = collimation::detect(frame, &low);
    timings.push(("collimator_rect", det.t_rect));
    timings.push(("collimator_circle", det.t_circle));
    let coll = det.collimation;

    let t = Instant::now();
    let field_mask = coll.mask();
    let field = field_mask.as_slice().ok_or_else(|| CoreError::InvalidArgument("field mask layout".into()))?;
    let marks = foreground::markers(&low, &coll);
    let direct = foreground::detect(&low, &g1, &coll, &marks.mask, field, w);
    let (lw, lf) = (low.log.width, low.factor);
    // Direct exposure at full resolution, and the anatomy = field − direct exposure − markers.
    // Both depend on the pixel only through its half-resolution pixel (the reduction factor is
    // even) and the row's field span: each half-resolution pixel is decided once per row pair.
    let hw = g1.width;
    let lxs: Vec<usize> = (0..hw).map(|hx| (2 * hx / lf).min(lw - 1)).collect();
    let mut fg = vec![false; w * h];
    let mut anatomy = vec![false; w * h];
    fg.par_chunks_mut(2 * w).zip(anatomy.par_chunks_mut(2 * w)).enumerate().for_each_init(
        || (vec![false; hw], vec![false; hw]),
        |(hdirect, hanat), (hy, (fpair, apair))| {
            let spans: Vec<(usize, usize)> =
                (2 * hy..(2 * hy + 2).min(h)).map(|y| coll.row_span(y)).filter(|(a, b)| a < b).collect();
            let (Some(x0), Some(x1)) = (spans.iter().map(|s| s.0).min(), spans.iter().map(|s| s.1).max()) else {
                return;
            };
            let m0 = (2 * hy / lf).min(low.log.height - 1) * lw;
            let grow_ = g1.row(hy);
            let drow = direct.as_ref().map(|d| &d.half[hy * d.width..][..d.width]);
            for hx in x0 / 2..x1.div_ceil(2) {
                let g = drow.is_some_and(|d| d[hx]);
                hdirect[hx] = g;
                hanat[hx] = !g && !marks.is_marker(m0 + lxs[hx], grow_[hx]);
            }
            for ((frow, arow), y) in fpair.chunks_mut(w).zip(apair.chunks_mut(w)).zip(2 * hy..) {
                let (a, b) = coll.row_span(y);
                for x in a..b {
                    frow[x] = hdirect[x / 2];
                    arow[x] = hanat[x / 2];
                }
            }
        },
    );
    timings.push(("foreground", t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let mut image = enhance::pyramid::enhance(
        frame,
        &lut,
        &g1,
        &coll,
        direct.as_ref().map(|d| d.half.as_slice()),
        (&marks.mask, lw, lf),
        &params.enhance,
    );
    drop(g1);
    timings.push(("enhance", t.elapsed().as_secs_f64()));

    let t = Instant::now();
    apply_shutter(&mut image, w, &coll, params.enhance.soft_border_px as f64);
    timings.push(("apply", t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let (wc, ww) = auto_wwwl::window(&image, &anatomy, w);
    timings.push(("auto_wwwl", t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let spans: Vec<(usize, usize)> = (0..h).map(|y| coll.row_span(y)).collect();
    let ei =
        exposure::exposure_index_in_spans(frame.data, &anatomy, w, Some(&spans), params.target_ei, &params.calibration);
    timings.push(("exposure_index", t.elapsed().as_secs_f64()));

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
