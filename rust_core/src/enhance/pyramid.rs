//! Multi-scale (Laplacian-pyramid) contrast equalisation in the log domain.
//!
//! Pyramid: level 1 is `ln(raw)` reduced by a binomial [1 3 3 1]/8 filter (`frame::half_log`, shared
//! with collimation; it keeps grid lines near Nyquist from folding into moiré); each next level
//! is a 2×2 box reduction; expansion is bilinear. Details `d_k = G_k − up(G_{k+1})` pass through a
//! per-level curve (gain, non-linear detail gain, noise coring on the finest levels), the coarse
//! residual is compressed (latitude), and the image is rebuilt coarse to fine. Level 0 (full
//! resolution) is never stored: the last pass computes `ln(raw) − up(G_1)` on the fly, adds the
//! processed detail to `up(R_1)` and writes the 12-bit output directly, which keeps the extra
//! memory to about 1.5× the raw frame on top of the output.
//!
//! When level 1 has pixels that are not anatomy (metal, direct exposure, outside the field:
//! `fill.rs`), the levels below hold anatomy's own mean, expansion is normalised by each level's
//! anatomy share, a detail's curve fades with that share, and what the fill replaced is put back
//! at the latitude on level 1 and at level 0: strong steps never enter the pyramid, so no halo.
//!
//! Display mapping: output = 2048 + S·(m − v), inverted so that attenuating anatomy is bright
//! (MONOCHROME2): the 1st–99th percentile of the processed anatomy maps onto `anatomy_span`
//! around 2048 (m is their midpoint); clamped to 0‥4095, so nothing can wrap around.

use rayon::prelude::*;

use super::expand::{up_row, up_row_weighted, up_table};
use super::fill;
use super::presets::EnhanceParams;
use crate::auto_wwwl::OUTPUT_MAX;
use crate::collimation::{Collimation, CollimationKind};
use crate::frame::{Frame, LogLut, Plane};
use crate::order;
use crate::put::{par_chunks_new, Put};
use crate::simd;

/// Largest detail magnitude (log units) the curves tabulate; beyond it they saturate.
const DETAIL_MAX: f32 = 4.0;
const LUT_SIZE: usize = 16384;
/// Cap on the non-linear gain for tiny details.
const MAX_BOOST: f32 = 4.0;

/// Rebuilds row `y` on the wide path: `f(a, b, row)` computes the columns `[a, b)`, all of them
/// or those `needed` gives; the others are 0, and a row whose span is empty is not rebuilt at all.
#[inline(always)]
fn rebuild_row(needed: Option<&[(usize, usize)]>, y: usize, row: &mut [f32], f: impl FnOnce(usize, usize, &mut [f32])) {
    simd::wide(
        #[inline(always)]
        || {
            let (xa, xb) = needed.map_or((0, row.len()), |n| n[y]);
            if xa >= xb {
                row.fill(0.0);
                return;
            }
            f(xa, xb, row);
            row[..xa].fill(0.0);
            row[xb..].fill(0.0);
        },
    )
}

/// Level 1's columns the last pass reads with a shutter: each row's, from the field spans of
/// the full-resolution rows that expand it, two pixels wider on each side (`up_row` reads a
/// pixel and its right neighbour). Outside them level 1 is never read: the last pass skips the
/// pixels outside the field, and the display mapping samples only inside it.
fn level1_needed(coll: &Collimation, w1: usize, h1: usize) -> Vec<(usize, usize)> {
    let h = coll.height;
    (0..h1)
        .map(|j| {
            let rows = (2 * j).saturating_sub(3)..(2 * j + 5).min(h);
            let (a, b) = rows
                .map(|y| coll.row_span(y))
                .filter(|(a, b)| a < b)
                .fold((usize::MAX, 0), |(a0, b0), (a, b)| (a0.min(a), b0.max(b)));
            if a >= b {
                (0, 0)
            } else {
                ((a / 2).saturating_sub(2), (b / 2 + 3).min(w1))
            }
        })
        .collect()
}

/// `R_k = up(R_{k+1}) + F_k(G_k − up(G_{k+1}))`, row by row: the detail plane is never stored.
/// Only the columns `needed` (all when `None`, see `rebuild_row`).
fn rebuild_level(r_next: &Plane, g: &Plane, g_next: &Plane, curve: &Curve, needed: Option<&[(usize, usize)]>) -> Plane {
    let (w, h) = (g.width, g.height);
    let ty = up_table(h, g_next.height);
    let data = par_chunks_new(
        w * h,
        w,
        || (vec![0.0f32; g_next.width], vec![0.0f32; w], vec![0.0f32; w], vec![0u32; w]),
        |(tmp, ug, cv, idx), y, row| {
            rebuild_row(
                needed,
                y,
                row,
                #[inline(always)]
                |xa, xb, row| {
                    up_row(g_next, &ty[y], tmp, ug);
                    up_row(r_next, &ty[y], tmp, row);
                    let (ug, cv, idx) = (&mut ug[xa..xb], &mut cv[xa..xb], &mut idx[xa..xb]);
                    for (u, gv) in ug.iter_mut().zip(&g.row(y)[xa..xb]) {
                        *u = gv - *u;
                    }
                    curve.apply_row(ug, idx, cv);
                    for (o, c) in row[xa..xb].iter_mut().zip(cv.iter()) {
                        *o += c;
                    }
                },
            )
        },
    );
    Plane { data, width: w, height: h }
}

/// How much of a detail's curve it gets, by the share `a` of anatomy (`up(W)`) in the
/// neighbourhood its mean came from; the rest passes at the latitude, like what the fill replaced.
/// A mean from part of a neighbourhood is one-sided: on a curved body it is off by the body's
/// trend over the missing part, and the curve's gain would show that as a band beside every
/// implant, skin line and blade edge (measured on the test object of
/// `tests/imaging/image_quality.py`: 4.1–5.2 % of the window with the full curve, 2.9–3.8 % with
/// this). Squared: a mean from half a neighbourhood is trusted a quarter.
#[inline]
fn trust(a: f32) -> f32 {
    let a = a.min(1.0);
    a * a
}

/// `rebuild_level` with normalised expansion: `up_w(X) = up(W·X) / up(W)` with `w_next` the
/// share of anatomy in each pixel of the level below, so a pixel beside a hole takes its
/// coarser values (the mean it is detail against, and the rebuilt image under it) from anatomy
/// alone, whatever the fill holds. On level 1, `holes` (the anatomy mask and the fill's level 2)
/// fills `g` row by row, and what the fill replaced is put back at the latitude: no filled
/// level 1 is ever stored.
#[allow(clippy::too_many_arguments)]
fn rebuild_level_weighted(
    r_next: &Plane,
    g: &Plane,
    g_next: &Plane,
    w_next: &Plane,
    curve: &Curve,
    latitude: f32,
    holes: Option<(&[bool], &Plane)>,
    needed: Option<&[(usize, usize)]>,
) -> Plane {
    let (w, h) = (g.width, g.height);
    let ty = up_table(h, g_next.height);
    let data = par_chunks_new(
        w * h,
        w,
        || {
            let row = vec![0.0f32; w];
            let rows = [row.clone(), row.clone(), row.clone(), row.clone(), row];
            (vec![0.0f32; g_next.width], rows, vec![0u32; w])
        },
        |(tmp, [ug, uw, gf, cv, iv], idx), y, row| {
            rebuild_row(
                needed,
                y,
                row,
                #[inline(always)]
                |xa, xb, row| {
                    up_row_weighted(g_next, w_next, &ty[y], tmp, ug);
                    up_row(w_next, &ty[y], tmp, uw);
                    up_row_weighted(r_next, w_next, &ty[y], tmp, row);
                    if let Some((anatomy, fill2)) = holes {
                        up_row(fill2, &ty[y], tmp, gf);
                        for ((f, g), a) in gf.iter_mut().zip(g.row(y)).zip(&anatomy[y * w..(y + 1) * w]) {
                            if *a {
                                *f = *g;
                            }
                        }
                    }
                    let (grow, out) = (&g.row(y)[xa..xb], &mut row[xa..xb]);
                    let (ug, uw, gf, cv, iv, idx) =
                        (&mut ug[xa..xb], &uw[xa..xb], &gf[xa..xb], &mut cv[xa..xb], &mut iv[xa..xb], &mut idx[xa..xb]);
                    let gv = if holes.is_some() { gf } else { grow };
                    // The detail into `ug`, its curve into `cv` (look-ups alone), then the blend.
                    for (((u, inv), wt), gv) in ug.iter_mut().zip(iv.iter_mut()).zip(uw.iter()).zip(gv) {
                        *inv = 1.0 / wt;
                        *u = gv - *u * *inv;
                    }
                    curve.apply_row(ug, idx, cv);
                    for ((o, (d, inv)), (wt, c)) in
                        out.iter_mut().zip(ug.iter().zip(iv.iter())).zip(uw.iter().zip(cv.iter()))
                    {
                        let t = trust(*wt);
                        *o = *o * inv + t * c + (1.0 - t) * latitude * d;
                    }
                    if holes.is_some() {
                        // What the fill replaced, at the latitude (zero on anatomy, where `gf` is `g`).
                        for ((o, f), g) in out.iter_mut().zip(gf.iter()).zip(grow) {
                            *o += (g - f) * latitude;
                        }
                    }
                },
            )
        },
    );
    Plane { data, width: w, height: h }
}

/// The display mapping `2048 + S·(m − v)`, rounded and clamped to the 12-bit range.
#[derive(Clone, Copy)]
struct Display {
    m: f32,
    scale: f32,
}

impl Display {
    #[inline]
    fn apply(self, v: f32) -> u16 {
        // +0.5: round half up by truncation. `max` and `min` drop a NaN, so x is a number in
        // 0‥4095.49 and truncates to the same u16 as the saturating `as` would; the saturating
        // cast's checks kept this loop from vectorising (13 → 3 ms a frame, one thread).
        let x = (2048.5 + (self.m - v) * self.scale).max(0.0).min(OUTPUT_MAX as f32 + 0.49);
        // SAFETY: x is finite and within i32 (see above).
        unsafe { x.to_int_unchecked::<i32>() as u16 }
    }
}

/// Tabulated detail curve `F(d) = sign(d)·g·|d|·boost(|d|)·coring(|d|)`.
struct Curve {
    table: Box<[f32; LUT_SIZE]>,
    scale: f32,
}

impl Curve {
    fn new(gain: f32, p: &EnhanceParams, sigma: Option<f32>) -> Self {
        let scale = (LUT_SIZE - 1) as f32 / DETAIL_MAX;
        let mut table = Box::new([0.0f32; LUT_SIZE]);
        for (i, t) in table.iter_mut().enumerate() {
            *t = {
                let x = i as f32 / scale;
                let boost = ((x + 1e-6) / p.reference_amplitude).powf(p.power - 1.0).min(MAX_BOOST);
                let core = match sigma {
                    Some(s) if s > 0.0 => {
                        let k = p.noise_coring * s;
                        x * x / (x * x + k * k)
                    }
                    _ => 1.0,
                };
                gain * x * boost * core
            };
        }
        Curve { table, scale }
    }

    /// The table entry of `d`, the nearest: the step (2.4e-4 log units) is far below the noise.
    #[inline]
    fn index(d: f32, scale: f32) -> usize {
        // `min` drops a NaN, so the value is a number in 0‥LUT_SIZE − 1 (not the saturating `as`,
        // whose checks do not vectorise).
        let x = (d.abs() * scale).min((LUT_SIZE - 1) as f32);
        // SAFETY: x is finite, non-negative and below LUT_SIZE.
        unsafe { x.to_int_unchecked::<i32>() as usize }
    }

    /// `out[i] = F(d[i])` over a row: the indices first, in a loop that vectorises,
    /// then the look-ups alone.
    #[inline(always)]
    fn apply_row(&self, d: &[f32], idx: &mut [u32], out: &mut [f32]) {
        let (table, scale) = (&*self.table, self.scale);
        for (k, v) in idx.iter_mut().zip(d) {
            *k = Self::index(*v, scale) as u32;
        }
        for ((o, k), v) in out.iter_mut().zip(idx.iter()).zip(d) {
            *o = table[*k as usize & (LUT_SIZE - 1)].copysign(*v);
        }
    }
}

/// Robust σ (1.4826·median|d|) of the detail `d = G_k − up(G_{k+1})` inside the field, on at
/// most ~200k samples, each computed on its own as `rebuild_level` computes it.
fn detail_sigma(
    g: &Plane,
    g_next: &Plane,
    level_scale: usize,
    coll: &Collimation,
    anatomy: Option<&[bool]>,
) -> Option<f32> {
    let (w, h) = (g.width, g.height);
    let stride = ((w * h) / 200_000).max(1);
    let s = level_scale as f64;
    let c = (s - 1.0) / 2.0;
    let tx = up_table(w, g_next.width);
    let ty = up_table(h, g_next.height);
    let mut v: Vec<u32> = (0..w * h)
        .into_par_iter()
        .step_by(stride)
        .filter(|i| {
            let (x, y) = ((i % w) as f64 * s + c, (i / w) as f64 * s + c);
            anatomy.map(|a| a[*i]).unwrap_or(true) && coll.signed_distance(x, y) >= 0.0
        })
        .map(|i| {
            let ((x0, x1, fx), (y0, y1, fy)) = (tx[i % w], ty[i / w]);
            let (r0, r1) = (g_next.row(y0), g_next.row(y1));
            let a = r0[x0] + (r1[x0] - r0[x0]) * fy;
            let b = r0[x1] + (r1[x1] - r0[x1]) * fy;
            (g.data[i] - (a + (b - a) * fx)).abs().to_bits()
        })
        .collect();
    abs_median(&mut v).map(|m| 1.4826 * m)
}

/// Gaussian-like stack G2..GK: 2×2 box reductions of `g1` down to about 24 pixels, six at most.
fn stack(g1: &Plane) -> Vec<Plane> {
    let mut gs: Vec<Plane> = Vec::new();
    for _ in 0..stack_depth(g1) {
        gs.push(gs.last().unwrap_or(g1).downsample_box(2));
    }
    gs
}

/// How many levels `stack` builds below `g1`.
fn stack_depth(g1: &Plane) -> usize {
    let (mut w, mut h, mut n) = (g1.width, g1.height, 0);
    while w.min(h) > 24 && n < 6 {
        (w, h, n) = (w.div_ceil(2), h.div_ceil(2), n + 1);
    }
    n
}

/// Median of non-negative values: their bit patterns sort as the values do (`total_cmp`), and
/// integers select faster.
fn abs_median(v: &mut [u32]) -> Option<f32> {
    if v.len() < 16 {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable(mid);
    Some(f32::from_bits(*m))
}

/// Noise σ of level 0 (`ln(raw) − up(G_1)`) inside the field, sampled: every 16th row (its
/// field span), every 2nd column, with `up(G_1)` expanded exactly as the final pass expands it.
/// Needs no foreground: the pipeline runs it beside the foreground detection.
pub fn level0_sigma(frame: &Frame<'_>, lut: &LogLut, g1: &Plane, coll: &Collimation) -> Option<f32> {
    let (w, h) = (frame.width, frame.height);
    let ty = up_table(h, g1.height);
    let mut v: Vec<u32> = (0..h.div_ceil(16))
        .into_par_iter()
        .flat_map_iter(|j| {
            let y = 16 * j;
            let (x0, x1) = coll.row_span(y);
            let (mut tmp, mut up) = (vec![0.0f32; g1.width], vec![0.0f32; w]);
            up_row(g1, &ty[y], &mut tmp, &mut up);
            let raw = frame.row(y);
            (x0..x1).step_by(2).map(move |x| (lut[raw[x] as usize] - up[x]).abs().to_bits())
        })
        .collect();
    abs_median(&mut v).map(|m| 1.4826 * m)
}

/// Latitude compression of the residual (level `top`) around its in-field mean.
fn compress_residual(mut r: Plane, top: usize, coll: &Collimation, latitude: f32) -> Plane {
    let s = 1usize << top;
    let c = (s as f64 - 1.0) / 2.0;
    let (mut acc, mut n) = (0.0f64, 0usize);
    for (i, v) in r.data.iter().enumerate() {
        let (x, y) = ((i % r.width) as f64 * s as f64 + c, (i / r.width) as f64 * s as f64 + c);
        if coll.signed_distance(x, y) >= 0.0 {
            acc += *v as f64;
            n += 1;
        }
    }
    let m = if n > 0 { (acc / n as f64) as f32 } else { r.data.iter().sum::<f32>() / r.data.len().max(1) as f32 };
    for v in r.data.iter_mut() {
        *v = m + (*v - m) * latitude;
    }
    r
}

/// Runs the enhancement and writes the 12-bit display image (before the shutter).
/// `direct` is the half-resolution direct-exposure mask (`g1`'s grid); `markers` is the reduced-resolution marker mask (`width`, `factor`), left out of the display
/// mapping statistics like direct exposure. `sigma0` is [`level0_sigma`] of the same frame.
#[allow(clippy::too_many_arguments)]
pub fn enhance(
    raw: Raw<'_>,
    lut: &LogLut,
    g1: &Plane,
    coll: &Collimation,
    direct: Option<&[bool]>,
    markers: (&[bool], usize, usize),
    sigma0: Option<f32>,
    p: &EnhanceParams,
) -> Vec<u16> {
    let (w, h) = raw.shape();
    let anatomy = fill::anatomy_mask(g1, coll, direct);
    let mut filled = anatomy.as_ref().map(|a| fill::fill(g1, a));
    let depth = stack_depth(g1);
    let (gs, weights) = match filled.as_mut() {
        Some(f) => {
            f.stack.truncate(depth);
            f.weights.truncate(depth);
            (std::mem::take(&mut f.stack), std::mem::take(&mut f.weights))
        }
        None => (stack(g1), Vec::new()),
    };
    let level = |k: usize| -> &Plane {
        if k == 1 {
            g1
        } else {
            &gs[k - 2]
        }
    };
    let top = gs.len() + 1; // index of the coarsest level (the residual)
    let gain = |k: usize| p.gains[k.min(p.gains.len() - 1)];
    let curve0 = Curve::new(gain(0), p, if p.noise_levels > 0 { sigma0 } else { None });
    // Level 1's holes are not in `g1`: its noise is measured on anatomy.
    let sigma = |k: usize| {
        let mask = if k == 1 { anatomy.as_deref() } else { None };
        if k < p.noise_levels {
            detail_sigma(level(k), level(k + 1), 1 << k, coll, mask)
        } else {
            None
        }
    };

    // Rebuild R_{top-1} .. R_2, then R_1.
    let mut r = compress_residual(level(top).clone(), top, coll, p.latitude);
    let needed1 = (coll.kind != CollimationKind::None).then(|| level1_needed(coll, g1.width, g1.height));
    for k in (1..top).rev() {
        let curve = Curve::new(gain(k), p, sigma(k));
        let needed = needed1.as_deref().filter(|_| k == 1);
        r = match (&filled, &anatomy) {
            (Some(f), Some(a)) => {
                let holes = if k == 1 { Some((&a[..], &f.fill2)) } else { None };
                let wk = &weights[k - 1];
                rebuild_level_weighted(&r, level(k), level(k + 1), wk, &curve, p.latitude, holes, needed)
            }
            _ => rebuild_level(&r, level(k), level(k + 1), &curve, needed),
        };
    }
    let r1 = r;
    drop((filled, gs, weights));

    // Display mapping from the processed anatomy (field minus direct exposure) at half resolution.
    let (m, scale) = {
        let stride = ((r1.width * r1.height) / 300_000).max(1);
        let (mw, mf) = (markers.1, markers.2);
        let spans = fill::half_spans(coll, r1.width, r1.height);
        // Every `stride`-th pixel in row-major order, taken row by row: only each row's span is
        // visited, and no pixel index is divided to find its row and column.
        let (w1, r1v) = (r1.width, &r1.data);
        let mut v: Vec<u32> = (0..r1.height)
            .into_par_iter()
            .flat_map_iter(|y| {
                let (a, b) = spans[y];
                let first = (y * w1).next_multiple_of(stride) - y * w1;
                let start = if a <= first { first } else { first + (a - first).div_ceil(stride) * stride };
                (start..b.max(start)).step_by(stride).filter_map(move |x| {
                    let (i, mi) = (y * w1 + x, (2 * y / mf) * mw + (2 * x / mf).min(mw - 1));
                    let excluded = direct.map(|d| d[i]).unwrap_or(false) || markers.0.get(mi).copied().unwrap_or(false);
                    (!excluded).then(|| order::key(r1v[i]))
                })
            })
            .collect();
        if v.len() < 16 {
            (0.0f32, 0.0f32)
        } else {
            // Two selections give the sorted array's entries at those ranks, without the sort.
            let n = v.len();
            let rank = |f: f64| ((n - 1) as f64 * f).round() as usize;
            let (k1, k99) = (rank(0.01), rank(0.99));
            let (_, p99, _) = v.select_nth_unstable(k99);
            let p99 = *p99;
            let (_, p1, _) = v[..k99.max(k1 + 1)].select_nth_unstable(k1);
            let (p1, p99) = (order::value(*p1), order::value(p99));
            let spread = p99 - p1;
            (0.5 * (p1 + p99), if spread > 1e-4 { p.anatomy_span / spread } else { 0.0 })
        }
    };
    // Final pass, fused: level-0 detail, its curve, the expanded R1 and the display mapping.
    let pass = FinalPass {
        g1,
        r1: &r1,
        ty: up_table(h, g1.height),
        lut,
        curve0: &curve0,
        anatomy: anatomy.as_deref(),
        display: Display { m, scale },
        latitude: p.latitude,
        shutter: (coll.kind != CollimationKind::None).then_some(coll),
    };
    let init = || RowBuffers::new(w, g1.width);
    match raw {
        Raw::Borrowed(frame) => {
            // Not zeroed first: every pixel is written below, and zeroing 2 bytes a pixel cost ~2 ms.
            let mut out: Vec<u16> = Vec::with_capacity(w * h);
            out.spare_capacity_mut()[..w * h].par_chunks_mut(w).enumerate().for_each_init(init, |b, (y, orow)| {
                simd::wide(
                    #[inline(always)]
                    || {
                        let span = pass.span(y, w);
                        pass.detail(b, y, frame.row(y), span);
                        pass.write(b, y, orow, span);
                    },
                )
            });
            // SAFETY: `write` sets all `w` pixels of each row (0 outside the span; inside it `ur`,
            // `cv`, `ug` are `w` long, `ka` 2·w1 ≥ w), so the first w·h elements are initialised.
            unsafe { out.set_len(w * h) };
            out
        }
        Raw::Owned { mut data, .. } => {
            // Row by row in place: a row's raw values are all read (`detail`) before its output
            // overwrites them.
            data.par_chunks_mut(w).enumerate().for_each_init(init, |b, (y, row)| {
                simd::wide(
                    #[inline(always)]
                    || {
                        let span = pass.span(y, w);
                        pass.detail(b, y, row, span);
                        pass.write(b, y, row, span);
                    },
                )
            });
            data
        }
    }
}

/// The frame the final pass reads `ln(raw)` from, and where its output goes: a borrowed frame
/// (the output is a new buffer), or the chain's own repaired copy of the frame (made when columns
/// are dead), which the output overwrites row by row, so no second frame-sized buffer is held.
pub enum Raw<'a> {
    Borrowed(Frame<'a>),
    Owned { data: Vec<u16>, width: usize, height: usize },
}

impl Raw<'_> {
    fn shape(&self) -> (usize, usize) {
        match self {
            Raw::Borrowed(f) => (f.width, f.height),
            Raw::Owned { width, height, .. } => (*width, *height),
        }
    }
}

/// One thread's rows of the final pass.
struct RowBuffers {
    tmp: Vec<f32>,
    ug: Vec<f32>,
    ur: Vec<f32>,
    cv: Vec<f32>,
    ka: Vec<f32>,
    idx: Vec<u32>,
}

impl RowBuffers {
    fn new(w: usize, w1: usize) -> Self {
        let row = vec![0.0f32; w];
        RowBuffers {
            tmp: vec![0.0f32; w1],
            ug: row.clone(),
            ur: row.clone(),
            cv: row,
            ka: vec![0.0f32; 2 * w1],
            idx: vec![0u32; w],
        }
    }
}

/// Level-0 detail, its curve, the expanded R1 and the display mapping, a row at a time.
struct FinalPass<'a> {
    g1: &'a Plane,
    r1: &'a Plane,
    ty: Vec<(usize, usize, f32)>,
    lut: &'a LogLut,
    curve0: &'a Curve,
    anatomy: Option<&'a [bool]>,
    display: Display,
    latitude: f32,
    /// The field when there is a shutter: outside it the output is black (the shutter, which
    /// `apply` only softens), and none of the work of a pixel is done there.
    shutter: Option<&'a Collimation>,
}

impl FinalPass<'_> {
    /// The columns `[a, b)` of row `y` that are computed (the field's, or all `w`).
    #[inline(always)]
    fn span(&self, y: usize, w: usize) -> (usize, usize) {
        match self.shutter {
            Some(c) => {
                let (a, b) = c.row_span(y);
                (a.min(w), b.clamp(a.min(w), w))
            }
            None => (0, w),
        }
    }

    /// Row `y`'s level-0 detail into `ug` and its curve into `cv`, `up(R1)` into `ur`, over
    /// the columns `[a, b)`.
    #[inline(always)]
    fn detail(&self, b: &mut RowBuffers, y: usize, raw: &[u16], (xa, xb): (usize, usize)) {
        if xa == xb {
            return;
        }
        up_row(self.g1, &self.ty[y], &mut b.tmp, &mut b.ug);
        up_row(self.r1, &self.ty[y], &mut b.tmp, &mut b.ur);
        // Separate loops: the two table look-ups are gathers, the rest vectorises.
        for (u, r) in b.ug[xa..xb].iter_mut().zip(&raw[xa..xb]) {
            *u = self.lut[*r as usize] - *u;
        }
        self.curve0.apply_row(&b.ug[xa..xb], &mut b.idx[xa..xb], &mut b.cv[xa..xb]);
    }

    /// Row `y` of the 12-bit output from the buffers `detail` filled: black outside `[a, b)`.
    #[inline(always)]
    fn write<O: Put<u16>>(&self, b: &mut RowBuffers, y: usize, orow: &mut [O], (xa, xb): (usize, usize)) {
        // Copies, not references into `self`: loads through those stay in the loops below (the
        // stores might alias them) and keep them from vectorising.
        let (display, latitude) = (self.display, self.latitude);
        let (left, rest) = orow.split_at_mut(xa);
        let (orow, right) = rest.split_at_mut(xb - xa);
        for o in left.iter_mut().chain(right.iter_mut()) {
            o.put(0);
        }
        let (ur, cv, ug) = (&b.ur[xa..xb], &b.cv[xa..xb], &b.ug[xa..xb]);
        match self.anatomy {
            None => {
                for ((o, v), c) in orow.iter_mut().zip(ur.iter()).zip(cv.iter()) {
                    o.put(display.apply(v + c));
                }
            }
            // Where the pyramid saw the fill, the finest detail passes at the latitude like
            // the rest of what was put back: `up(R1)` there holds the excluded step, which
            // this detail's own share of the step then cancels exactly. Blended by a 0/1
            // weight rather than branched, so the loop stays vectorised.
            Some(a) => {
                let w1 = self.g1.width;
                let arow = &a[(y / 2) * w1..(y / 2 + 1) * w1];
                // Element by element: `fill` on each pair cost 10 ms a frame.
                for (k, av) in b.ka.chunks_exact_mut(2).zip(arow) {
                    let v = *av as u8 as f32;
                    k[0] = v;
                    k[1] = v;
                }
                for ((o, (v, c)), (d0, k)) in
                    orow.iter_mut().zip(ur.iter().zip(cv.iter())).zip(ug.iter().zip(&b.ka[xa..xb]))
                {
                    o.put(display.apply(v + k * c + (1.0 - k) * latitude * d0));
                }
            }
        }
    }
}
