//! `foreground`: the direct-exposure (unattenuated) region inside the field.
//!
//! Direct exposure is the brightest, flattest part of the field, and it meets the patient at a
//! steep edge (the attenuation rises like the square root of the depth below the skin). Its level
//! is not one number: the heel effect (±8 %), inverse-square fall-off and scatter (lower next to
//! the patient and the shutter) make it drift by up to ~0.35 in log units across the field, as
//! much as thin tissue lies below it. So the decision is local, on the reduced log image `L`
//! (factor `f`), then refined at half resolution:
//!
//! 1. *Seeds*: flat in-field pixels (Sobel gradient ≤ `FLAT_GRADIENT` + 2σ, σ the noise of `L`)
//!    within `SEED_DEPTH` of the top plateau (99.5th percentile of the flat pixels).
//! 2. *Candidates*: pixels within `δ = max(DELTA_LOW, 4σ)` of the local maximum of the 3×3
//!    median of `L` (hot pixels removed) over a (2·`LOCAL_RADIUS`+1)² box — the "dose-normalised expectation": on a plateau a pixel sits
//!    within noise of its neighbourhood's top, while anything behind the patient next to direct
//!    exposure sits clearly below it. A flat pixel may also lie below that top by the slope across
//!    the box: heavy scatter fades towards the field border, with no edge there.
//! 3. *Region*: the candidate components reached from seeds (hysteresis: strong seeds, weak
//!    candidates, 4-connected) that touch the field border (within a soft penumbra's depth of
//!    it) — unattenuated beam always reaches the shutter or detector edge; an isolated bright
//!    patch inside the patient never counts. Before the border test the components grow outwards
//!    over direct exposure that fades towards the border (`fade_to_border`): with heavy scatter
//!    it falls by up to ~0.5 over the outer tenth of the frame, too steeply for the slope allowance
//!    below, so the plateau alone can stop short of the border and miss a band of direct exposure.
//! 4. *Is it direct exposure?* The region must either be a tight plateau (5–95 % spread ≤
//!    `MAX_SPREAD`), or fall off steeply to its surroundings (median drop at 2 reduced pixels
//!    outside the region ≥ `MIN_EDGE_DROP`) while standing clear of the rest of the field (level −
//!    25th percentile of the rest ≥ `MIN_EDGE_SEPARATION`), or stand far above the rest (≥
//!    `MIN_SEPARATION`) while covering at least `MIN_SEPARATION_SHARE` of the field. Thin tissue at
//!    the border of a field the patient fills spreads widely, falls off gently and is close to the
//!    rest, or small, so it fails all three.
//!    A region covering most of the field (≥ `LARGE_REGION_SHARE`) must also spread less than
//!    direct exposure drifts (`LEAK_DEPTH`): otherwise it is the periphery of a patient who fills
//!    the field around a dense core, which can stand far above that core.
//!    Last, a look behind the blades: they only dim the beam, so what lies just past the shutter
//!    next to direct exposure is the brightest the outside shows. When it lies far below that
//!    (`BEYOND_SHUTTER_DROP`), the region is a body's flat centre filling the field. When it is
//!    that brightest, heavy scatter may have flattened the step to the patient, and an edged region
//!    needs less separation (`MIN_EDGE_SEPARATION_OPEN`), less still when the edge is steep
//!    (`STEEP_EDGE_DROP`, `MIN_EDGE_SEPARATION_STEEP`).
//! 5. *Refinement*: each half-resolution pixel near the region is direct exposure when it lies
//!    within `δ_half = max(DELTA_HALF, 4σ_half)` of the region's local mean (7×7 reduced pixels).
//!    This puts the boundary within about one full-resolution pixel of the skin and keeps the skin
//!    line (attenuation ≳ 0.05) out. Pixels whose 2×2 block touches the shutter edge (penumbra) take
//!    the decision of their inner neighbours.
//! 6. *Soft penumbra*: within `PENUMBRA_DEPTH` of the shutter edge, pixels that follow the edge's
//!    own dimming profile in front of direct exposure are direct exposure too (`penumbra_band`).

use rayon::prelude::*;

use crate::collimation::{Fields, LowRes};
use crate::frame::Plane;
use crate::morph::dilate;
use crate::put::Put;
use crate::region::{expand_row, HalfMask};
use crate::simd;

/// Flat: Sobel gradient (log units per reduced pixel) at most this plus twice the noise σ.
pub const FLAT_GRADIENT: f64 = 0.012;
/// Seeds lie within this (log units) of the top plateau.
pub const SEED_DEPTH: f64 = 0.15;
/// At least this many flat pixels lie at or above the top plateau.
pub const MIN_SEED_BLOCKS: usize = 16;
/// Half-size of the box whose maximum is a pixel's local expectation (reduced pixels).
pub const LOCAL_RADIUS: usize = 3;
/// Smallest candidate margin below the local maximum, log units (≈ 4 % signal).
pub const DELTA_LOW: f64 = 0.04;
/// Smallest margin of a half-resolution pixel below the region's local level, log units.
pub const DELTA_HALF: f64 = 0.035;
/// A direct-exposure plateau spreads at most this much (5–95 %, log units) …
pub const MAX_SPREAD: f64 = 0.14;
/// … or drops at least this much (median, log units) two reduced pixels outside its edge …
pub const MIN_EDGE_DROP: f64 = 0.12;
/// … (then also standing at least `MIN_EDGE_SEPARATION` above the rest's 25th percentile: thin
/// tissue along the border of a field the patient fills drops as steeply into the thicker tissue
/// next to it, but the rest of that field is the same patient, close to it in level) …
pub const MIN_EDGE_SEPARATION: f64 = 0.6;
/// When what lies behind the blades next to the region is the brightest the outside shows (open
/// beam: at or above its `OUTSIDE_TOP` quantile) and the region spreads no more than direct
/// exposure drifts (`LEAK_DEPTH`), that separation may be this small: scatter of up to 1.5 times
/// the primary lifts a thin patient towards the direct level (development frames: 0.38–0.55 for
/// such direct exposure; regions there without any, ≥ 0.17 below the outside's top, or, with
/// opaque blades whose outside shows only scatter, 0.34 above the rest).
pub const MIN_EDGE_SEPARATION_OPEN: f64 = 0.4;
/// With open beam behind the blades, a step at least this steep (median drop, log units, two
/// reduced pixels outside the region) needs only `MIN_EDGE_SEPARATION_STEEP`. Scatter of 1.3–1.5
/// times the primary lifts a patient to 0.25–0.45 below direct exposure (small, thin bodies the
/// most), yet the skin still drops 0.17–0.28 there (development frames and `test_scattered_direct`).
/// Thin tissue taken for a region in a field the patient fills falls gently: on the development
/// frames 0.13 at a separation of 0.34, and with open beam behind and a drop of ≥ 0.14, every
/// region there below a separation of 0.6 was direct exposure.
pub const STEEP_EDGE_DROP: f64 = 0.16;
pub const MIN_EDGE_SEPARATION_STEEP: f64 = 0.2;
/// … or stands this far above the 25th percentile of the rest of the field (heavy scatter, up to
/// 1.5 times the primary, lifts the patient's signal and flattens the skin edge).
pub const MIN_SEPARATION: f64 = 0.8;
/// That last way holds only for a region of at least this share of the field. A bright region
/// with neither a plateau nor an edge that is a small part of the field is the thin periphery of a
/// patient who fills it (wide development frames: regions let in by separation alone were either
/// ≥ 50 % of the field and direct exposure, or ≤ 5 % and thin tissue in 4 of 5).
pub const MIN_SEPARATION_SHARE: f64 = 0.1;
/// A region holding at least this share of the field that spreads (5–95 %) more than the level
/// of direct exposure drifts across a field (`LEAK_DEPTH`) holds tissue: it is the thin periphery
/// of a patient who fills the field around a denser core. A smaller region may spread that far
/// through a leak at the skin, which the tests below and the second attempt deal with; in a
/// region this large, what leaked in is most of the patient.
pub const LARGE_REGION_SHARE: f64 = 0.8;
/// Second attempt at the region: candidates at most this far (log units) below the top plateau.
pub const LEAK_DEPTH: f64 = 0.35;

/// Direct exposure fades towards the field border (scatter comes from the patient, and less of the
/// field lies around its edge to scatter from): it may fall over this share of the frame's smaller
/// side …
pub const FADE_BAND: f64 = 0.08;
/// … by at most this much in all (log units) …
pub const FADE_DEPTH: f64 = 0.6;
/// … and at most this steeply: log units per 1 % of the frame's larger side. Scatter spreads over
/// centimetres of the patient, and the panels (2048² to 4288 × 3520 pixels) all span about 43 cm,
/// so the fade scales with the frame, not with the pixel. 0.16 is ~2× the steepest fade measured on
/// the wide phantom's heaviest scatter (2048²: 0.004 per pixel); a skin edge falls faster.
pub const FADE_SLOPE_MAX: f64 = 0.16;

/// A region with at least this share at its top value is clipped by the panel (no fade is grown).
pub const FADE_CLIPPED_MAX: f64 = 0.25;

/// Beyond the shutter, the blades only dim the beam (0–40 % pass): behind direct exposure lies
/// direct exposure seen through them, the brightest the outside shows (within heel and scatter
/// drift, up to ~0.3). A region whose outside neighbours lie at least this far (log units) below the
/// outside's top is the patient's body continuing behind the blades, not direct exposure (a body
/// filling a small field around its flat centre). Development frames: direct exposure ≤ 0.11,
/// such bodies 0.67–1.07.
pub const BEYOND_SHUTTER_DROP: f64 = 0.4;
/// The outside's top: this quantile of its pixels beyond the penumbra.
const OUTSIDE_TOP: f64 = 0.95;
/// The band beyond the shutter looked at: this many reduced pixels past the penumbra's reach.
const BEYOND_SHUTTER_BAND: usize = 2;

/// Direct exposure needs a patient next to it: at least this fraction of the field must be left.
pub const MIN_ANATOMY: f64 = 0.02;

/// Deepest soft penumbra handled (full-resolution pixels inside the shutter edge): a logistic
/// edge of σ = 8 px comes within 3.5 % (`DELTA_HALF`) of the open level at ~15 px.
pub const PENUMBRA_DEPTH: f64 = 24.0;
/// Reduced blocks from the field's outside that may hold that band (the reduction factor is at
/// least 4, so 24 px span at most 6 blocks).
const PENUMBRA_BLOCKS: usize = 6;
/// Fewest samples for a distance bin of the penumbra profile to be trusted.
const PENUMBRA_MIN_SAMPLES: usize = 32;

/// Direct exposure found in the field, at half resolution (`g1`'s grid).
pub struct Direct {
    pub half: Vec<bool>,
    pub width: usize,
    pub height: usize,
}

fn quantile(v: &[f32], q: f64) -> f64 {
    let k = (((v.len() - 1) as f64) * q).round() as usize;
    crate::order::select(v, k) as f64
}

/// Several quantiles of one sample: its keys are made once (`quantile` makes them per call).
fn quantiles<const N: usize>(v: &[f32], qs: [f64; N]) -> [f64; N] {
    let mut keys: Vec<u32> = v.iter().map(|x| crate::order::key(*x)).collect();
    qs.map(|q| {
        let k = (((keys.len() - 1) as f64) * q).round() as usize;
        crate::order::value(*keys.select_nth_unstable(k).1) as f64
    })
}

/// Median of each valid pixel's valid 3×3 neighbours (`-inf` where the pixel is not valid).
/// Rows in parallel. Inside a row the 19-exchange network runs on nine shifted copies of the row
/// at once, so it vectorises (one pixel at a time it cost ~50 ns a pixel); pixels whose
/// neighbourhood is not all valid (the field's edge, markers) then take their own median.
fn median3x3(l: &[f32], valid: &[bool], w: usize, h: usize) -> Vec<f32> {
    let own_median = |x: usize, y: usize| -> f32 {
        let mut v = [0f32; 9];
        let mut n = 0;
        for yy in y.saturating_sub(1)..(y + 2).min(h) {
            for xx in x.saturating_sub(1)..(x + 2).min(w) {
                let j = yy * w + xx;
                if valid[j] {
                    v[n] = l[j];
                    n += 1;
                }
            }
        }
        let s = &mut v[..n];
        s.sort_unstable_by(|a, b| a.total_cmp(b));
        s[n / 2]
    };
    let mut out = vec![f32::NEG_INFINITY; w * h];
    out.par_chunks_mut(w).enumerate().for_each_init(
        || vec![0f32; 9 * w.saturating_sub(2)],
        |lanes, (y, orow)| {
            let vrow = &valid[y * w..(y + 1) * w];
            let interior = y > 0 && y + 1 < h && w > 2;
            if interior {
                let n = w - 2;
                for (k, lane) in lanes.chunks_exact_mut(n).enumerate() {
                    let (dy, dx) = (k / 3, k % 3);
                    let start = (y + dy - 1) * w + dx;
                    lane.copy_from_slice(&l[start..start + n]);
                }
                for (a, b) in MEDIAN9_PAIRS {
                    // element a takes the smaller value, b the larger; the network has a > b too
                    let (first, second) = lanes.split_at_mut(a.max(b) * n);
                    let (pa, pb) = if a < b {
                        (&mut first[a * n..(a + 1) * n], &mut second[..n])
                    } else {
                        (&mut second[..n], &mut first[b * n..(b + 1) * n])
                    };
                    for (p, q) in pa.iter_mut().zip(pb.iter_mut()) {
                        (*p, *q) = (p.min(*q), p.max(*q));
                    }
                }
            }
            let median = &lanes[4 * w.saturating_sub(2)..];
            for x in 0..w {
                if !vrow[x] {
                    continue;
                }
                let all = interior
                    && x > 0
                    && x + 1 < w
                    && (y - 1..=y + 1).all(|yy| valid[yy * w + x - 1..yy * w + x + 2].iter().all(|v| *v));
                orow[x] = if all { median[x - 1] } else { own_median(x, y) };
            }
        },
    );
    out
}

/// Paeth's median-of-nine network: 19 compare-exchanges leave the median in element 4.
const MEDIAN9_PAIRS: [(usize, usize); 19] = [
    (1, 2),
    (4, 5),
    (7, 8),
    (0, 1),
    (3, 4),
    (6, 7),
    (1, 2),
    (4, 5),
    (7, 8),
    (0, 3),
    (5, 8),
    (4, 7),
    (3, 6),
    (1, 4),
    (2, 5),
    (4, 7),
    (4, 2),
    (6, 4),
    (4, 2),
];

/// Median of nine values by the same network, one neighbourhood at a time.
#[cfg(test)]
fn median9(mut p: [f32; 9]) -> f32 {
    for (a, b) in MEDIAN9_PAIRS {
        let (lo, hi) = (p[a].min(p[b]), p[a].max(p[b]));
        (p[a], p[b]) = (lo, hi);
    }
    p[4]
}

/// Maximum of `v` over a (2r+1)² box, ignoring `-inf`; separable, O(n·r) (r is small). Each pass
/// takes the maximum with whole shifted rows, so the loops vectorise; rows run in parallel.
fn box_max(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut t = v.to_vec();
    t.par_chunks_mut(w).zip(v.par_chunks(w)).for_each(|(trow, vrow)| {
        simd::wide(
            #[inline(always)]
            || {
                for k in 1..=r.min(w.saturating_sub(1)) {
                    for (o, x) in trow[..w - k].iter_mut().zip(&vrow[k..]) {
                        *o = o.max(*x);
                    }
                    for (o, x) in trow[k..].iter_mut().zip(&vrow[..w - k]) {
                        *o = o.max(*x);
                    }
                }
            },
        )
    });
    let mut out = vec![f32::NEG_INFINITY; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, orow)| {
        simd::wide(
            #[inline(always)]
            || {
                for j in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for (o, x) in orow.iter_mut().zip(&t[j * w..(j + 1) * w]) {
                        *o = o.max(*x);
                    }
                }
            },
        )
    });
    out
}

/// Mean of `v` over the pixels of `m` in a (2r+1)² box (`+inf` where the box holds none).
fn masked_box_mean(v: &[f32], m: &[bool], w: usize, h: usize, r: usize) -> Vec<f32> {
    // Integral images of values and counts.
    let (w1, h1) = (w + 1, h + 1);
    let mut s = vec![0f64; w1 * h1];
    let mut c = vec![0u32; w1 * h1];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let k = (y + 1) * w1 + x + 1;
            let (a, n) = if m[i] { (v[i] as f64, 1) } else { (0.0, 0) };
            s[k] = a + s[k - 1] + s[k - w1] - s[k - w1 - 1];
            c[k] = n + c[k - 1] + c[k - w1] - c[k - w1 - 1];
        }
    }
    let mut out = vec![f32::INFINITY; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, orow)| {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for (x, o) in orow.iter_mut().enumerate() {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let n = c[y1 * w1 + x1] + c[y0 * w1 + x0] - c[y0 * w1 + x1] - c[y1 * w1 + x0];
            if n > 0 {
                let sum = s[y1 * w1 + x1] + s[y0 * w1 + x0] - s[y0 * w1 + x1] - s[y1 * w1 + x0];
                *o = (sum / n as f64) as f32;
            }
        }
    });
    out
}

/// 4-connected components of `m` that contain a `seed` pixel and a `touch` pixel.
fn grow(m: &[bool], seed: &[bool], touch: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut label = vec![0u32; w * h];
    let mut out = vec![false; w * h];
    let mut stack = Vec::new();
    let mut comp = Vec::new();
    let mut next = 0u32;
    for s in 0..w * h {
        if !m[s] || label[s] != 0 {
            continue;
        }
        next += 1;
        label[s] = next;
        stack.push(s);
        comp.clear();
        let (mut seeded, mut touches) = (false, false);
        while let Some(i) = stack.pop() {
            comp.push(i);
            seeded |= seed[i];
            touches |= touch[i];
            let (x, y) = (i % w, i / w);
            let mut visit = |j: usize| {
                if m[j] && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if seeded && touches {
            for &i in &comp {
                out[i] = true;
            }
        }
    }
    out
}

/// Steps (4-connected) to the field's outside or the frame edge, out to `FADE_BAND` of the frame's
/// smaller side and one beyond, as layers of equal distance: what `fade_to_border` walks, made once
/// per field.
struct BorderLayers {
    w: usize,
    h: usize,
    dist: Vec<usize>,
    layers: Vec<Vec<usize>>,
}

impl BorderLayers {
    fn new(outside: &[bool], w: usize, h: usize) -> Self {
        let band = (FADE_BAND * w.min(h) as f64).ceil() as usize;
        let mut dist = vec![usize::MAX; w * h];
        let mut layers: Vec<Vec<usize>> = vec![(0..w * h)
            .filter(|&i| outside[i] || i % w == 0 || i / w == 0 || i % w + 1 == w || i / w + 1 == h)
            .collect()];
        for &i in &layers[0] {
            dist[i] = 0;
        }
        let mut me = BorderLayers { w, h, dist, layers: Vec::new() };
        for d in 1..=band + 1 {
            let mut next = Vec::new();
            for &i in &layers[d - 1] {
                for j in me.neighbours(i) {
                    if me.dist[j] == usize::MAX {
                        me.dist[j] = d;
                        next.push(j);
                    }
                }
            }
            layers.push(next);
        }
        me.layers = layers;
        me
    }

    fn neighbours(&self, i: usize) -> impl Iterator<Item = usize> {
        let (w, h, x, y) = (self.w, self.h, i % self.w, i / self.w);
        [(x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1), (y > 0).then(|| i - w), (y + 1 < h).then(|| i + w)]
            .into_iter()
            .flatten()
    }

    fn diagonals(&self, i: usize) -> impl Iterator<Item = usize> {
        let (w, h, x, y) = (self.w, self.h, i % self.w, i / self.w);
        [
            (x > 0 && y > 0).then(|| i - w - 1),
            (x + 1 < w && y > 0).then(|| i - w + 1),
            (x > 0 && y + 1 < h).then(|| i + w - 1),
            (x + 1 < w && y + 1 < h).then(|| i + w + 1),
        ]
        .into_iter()
        .flatten()
    }
}

/// Grows `region` outwards, towards the field's border, over direct exposure that fades there:
/// pixels within `FADE_BAND` of the border (`border`) join when a region pixel one step further in
/// lies above them by at most `FADE_SLOPE_MAX` per 1 % of the frame (plus `noise`), and the fall
/// since the region's own edge stays within `FADE_DEPTH`. Only outwards: the fade never spreads
/// along the border, so where the patient reaches the border the growth meets the skin's steeper
/// fall head-on.
fn fade_to_border(region: &mut [bool], l: &[f32], valid: &[bool], border: &BorderLayers, noise: f64) {
    let (w, h) = (border.w, border.h);
    // A region clipped by the panel shows no fade: below the clip, thin tissue falls off as gently.
    let top = (0..w * h).filter(|&i| region[i]).map(|i| l[i]).fold(f32::MIN, f32::max);
    let n = region.iter().filter(|r| **r).count();
    let at_top = (0..w * h).filter(|&i| region[i] && l[i] >= top - 1e-4).count();
    if n == 0 || at_top as f64 >= FADE_CLIPPED_MAX * n as f64 {
        return;
    }
    let dist = &border.dist;
    let step_max = (FADE_SLOPE_MAX / (0.01 * w.max(h) as f64) + noise) as f32;
    let mut fall = vec![0f32; w * h];
    for d in (0..border.layers.len() - 1).rev() {
        for &i in &border.layers[d] {
            if region[i] || !valid[i] {
                continue;
            }
            // One step further in: a 4-neighbour, or in a corner of the border (where none is
            // further in) a diagonal one.
            let step_in = |j: usize| (dist[j] == d + 1 && region[j]).then(|| (l[j] - l[i], fall[j]));
            let best = if border.neighbours(i).any(|j| dist[j] == d + 1) {
                border.neighbours(i).filter_map(step_in).min_by(|a, b| a.0.total_cmp(&b.0))
            } else {
                border.diagonals(i).filter_map(step_in).min_by(|a, b| a.0.total_cmp(&b.0))
            };
            if let Some((step, before)) = best {
                let now = before + step.max(0.0);
                if (-noise as f32..=step_max).contains(&step) && (now as f64) <= FADE_DEPTH {
                    region[i] = true;
                    fall[i] = now;
                }
            }
        }
    }
}

/// The outside of the field past the penumbra, for the look behind the blades (step 4).
struct BeyondShutter {
    /// Reduced pixels just past the penumbra's reach outside the field.
    band: Vec<bool>,
    /// The outside's top level (`OUTSIDE_TOP`), or `None` when too little of the frame is outside.
    top: Option<f64>,
    w: usize,
    h: usize,
    reach: usize,
}

impl BeyondShutter {
    fn new(l: &[f32], outside: &[bool], w: usize, h: usize, reach: usize) -> Self {
        let field: Vec<bool> = outside.iter().map(|o| !o).collect();
        let near = dilate(&field, w, h, reach + 1);
        let far = dilate(&field, w, h, reach + 1 + BEYOND_SHUTTER_BAND);
        let band = far.iter().zip(&near).map(|(f, n)| *f && !n).collect();
        let past: Vec<f32> = (0..w * h).filter(|&i| !near[i]).map(|i| l[i]).collect();
        let top = (past.len() >= 64).then(|| quantile(&past, OUTSIDE_TOP));
        BeyondShutter { band, top, w, h, reach }
    }

    /// How far (log units) what lies behind the blades next to `region` stands below the outside's
    /// top (its median level); `None` without enough of either.
    fn drop_behind(&self, l: &[f32], region: &[bool]) -> Option<f64> {
        let top = self.top?;
        let near = dilate(region, self.w, self.h, self.reach + 2 + BEYOND_SHUTTER_BAND);
        let next: Vec<f32> = (0..l.len()).filter(|&i| self.band[i] && near[i]).map(|i| l[i]).collect();
        (next.len() >= 16).then(|| top - quantile(&next, 0.5))
    }
}

/// Direct exposure inside the field, or `None` when the field has none.
/// `markers` is the reduced-resolution marker mask from [`markers`]; `field` the field's span
/// `[x0, x1)` in each full-resolution row (`Collimation::row_span`), `full_w` the frame's width.
pub fn detect(
    low: &LowRes,
    g1: &Plane,
    fields: Fields<'_>,
    markers: &[bool],
    field: &[(usize, usize)],
    full_w: usize,
) -> Option<Direct> {
    detect_in(low, g1, fields, &FieldBlocks::new(low, fields), None, markers, field, full_w)
}

/// Reduced pixels whose whole block is in the field (convex field: its four corner pixels are),
/// and those that reach into it at all.
struct FieldBlocks {
    all: Vec<bool>,
    any: Vec<bool>,
}

impl FieldBlocks {
    fn new(low: &LowRes, fields: Fields<'_>) -> Self {
        let (w, h) = (low.log.width, low.log.height);
        let f = low.factor as f64;
        // Row by row: the signed distances of a row's corners (and centres) side by side.
        let xs0: Vec<f64> = (0..w).map(|x| x as f64 * f).collect();
        let xs1: Vec<f64> = (0..w).map(|x| ((x + 1) as f64 * f - 1.0).min((fields.width() - 1) as f64)).collect();
        let centres: Vec<f64> = (0..w).map(|x| low.to_full(x as f64, 0.0).0).collect();
        let mut blk_all = vec![false; w * h];
        let mut blk_any = vec![false; w * h];
        blk_all.par_chunks_mut(w).zip(blk_any.par_chunks_mut(w)).enumerate().for_each_init(
            || (vec![0f64; w], vec![0f64; w]),
            |(d, e), (y, (all, any))| {
                let (y0, y1) = (y as f64 * f, ((y + 1) as f64 * f - 1.0).min((fields.height() - 1) as f64));
                all.fill(true);
                for (xs, yy) in [(&xs0, y0), (&xs1, y0), (&xs0, y1), (&xs1, y1)] {
                    fields.signed_distance_row(xs, yy, d);
                    for (a, v) in all.iter_mut().zip(d.iter()) {
                        *a &= *v >= 0.0;
                    }
                }
                fields.signed_distance_row(&centres, low.to_full(0.0, y as f64).1, e);
                for (a, v) in any.iter_mut().zip(e.iter()) {
                    *a = *v >= -0.75 * f;
                }
            },
        );
        FieldBlocks { all: blk_all, any: blk_any }
    }

    fn outside(&self) -> Vec<bool> {
        self.all.iter().map(|b| !b).collect()
    }
}

/// [`detect`] in one field of `fields` (all of them, or one of several); `beyond` marks the
/// reduced pixels outside every field, which the look behind the blades reads (`None`: outside
/// this field, when it is the only one).
#[allow(clippy::too_many_arguments)]
fn detect_in(
    low: &LowRes,
    g1: &Plane,
    fields: Fields<'_>,
    blocks: &FieldBlocks,
    beyond: Option<&[bool]>,
    markers: &[bool],
    field: &[(usize, usize)],
    full_w: usize,
) -> Option<Direct> {
    let (w, h) = (low.log.width, low.log.height);
    if w < 8 || h < 8 {
        return None;
    }
    let f = low.factor as f64;
    let l = &low.log.data;
    let blk_any = &blocks.any;
    let outside = blocks.outside();
    let not_core = dilate(&outside, w, h, 1);
    let valid: Vec<bool> = (0..w * h).map(|i| !not_core[i] && !markers[i]).collect();
    // Noise σ of L: adjacent differences.
    let mut d: Vec<f32> = Vec::new();
    for y in 0..h {
        for x in 0..w - 1 {
            let i = y * w + x;
            if valid[i] && valid[i + 1] {
                d.push((l[i + 1] - l[i]).abs());
            }
        }
    }
    if d.len() < 64 {
        return None;
    }
    let mut sigma = 1.4826 * quantile(&d, 0.5) / std::f64::consts::SQRT_2;
    let grad: Vec<f64> = low.gx.iter().zip(&low.gy).map(|(a, b)| ((a * a + b * b) as f64).sqrt()).collect();
    let flat: Vec<bool> = (0..w * h).map(|i| valid[i] && grad[i] <= FLAT_GRADIENT + 2.0 * sigma).collect();
    let top: Vec<f32> = (0..w * h).filter(|&i| flat[i]).map(|i| l[i]).collect();
    if top.len() < 16 {
        return None;
    }
    // The top plateau: the 99.5th percentile of the flat pixels, or higher when a small patch of
    // direct exposure (fewer flat pixels than 0.5 % of a field mostly filled by the patient) sits
    // above it — at least `MIN_SEED_BLOCKS` flat pixels must lie at or above it.
    let t = {
        let n = top.len();
        let k = (((n - 1) as f64) * 0.995).round() as usize;
        let k = k.max(n.saturating_sub(MIN_SEED_BLOCKS));
        crate::order::select(&top, k) as f64
    };
    let strong: Vec<bool> = (0..w * h).map(|i| flat[i] && l[i] as f64 >= t - SEED_DEPTH).collect();
    // The plateau's own noise, when there is enough of it, is the better σ.
    d.clear();
    for y in 0..h {
        for x in 0..w - 1 {
            let i = y * w + x;
            if strong[i] && strong[i + 1] {
                d.push((l[i + 1] - l[i]).abs());
            }
        }
    }
    if d.len() >= 32 {
        sigma = sigma.min(1.4826 * quantile(&d, 0.5) / std::f64::consts::SQRT_2);
    }
    // 3×3 median first: one hot (65535) pixel lifts its reduced pixel by ~0.05, and the box
    // maximum would carry that to its whole neighbourhood.
    let masked = median3x3(l, &valid, w, h);
    let m = box_max(&masked, w, h, LOCAL_RADIUS);
    let dl = DELTA_LOW.max(4.0 * sigma);
    // On a gentle slope a pixel lies below its box's maximum by up to r·√2 times the slope, with
    // no edge anywhere: scatter fades towards the field border (less of the field around to
    // scatter from) and inverse-square towards the corners, together up to ~0.4 over the outer
    // tenth of a heavily scattering field. Flat pixels get that allowance; edges (skin) do not.
    let slope_reach = LOCAL_RADIUS as f64 * std::f64::consts::SQRT_2;
    let cand: Vec<bool> = (0..w * h)
        .map(|i| {
            let allow = if flat[i] { slope_reach * grad[i] } else { 0.0 };
            valid[i] && l[i] as f64 >= m[i] as f64 - dl - allow
        })
        .collect();
    // Field border: within two reduced pixels of a block that leaves the field, or of the frame edge.
    // A soft penumbra dims the beam over up to `PENUMBRA_DEPTH` inside the edge, steeply (no
    // slope allowance there): direct exposure reaches the shutter through it.
    let reach = 2usize.max((PENUMBRA_DEPTH / f).ceil() as usize + 1);
    let mut touch = dilate(&outside, w, h, reach);
    for y in 0..h {
        for x in 0..w {
            if x < 2 || y < 2 || x + 2 >= w || y + 2 >= h {
                touch[y * w + x] = true;
            }
        }
    }
    let n_valid = valid.iter().filter(|v| **v).count();
    let beyond = BeyondShutter::new(l, beyond.unwrap_or(&outside), w, h, reach);
    // Region and its test (step 4): `None` when it is not direct exposure.
    let everywhere = vec![true; w * h];
    let border = BorderLayers::new(&outside, w, h);
    let attempt = |cand: &[bool]| -> Option<(Vec<bool>, Vec<f32>, Vec<bool>)> {
        let mut region = grow(cand, &strong, &everywhere, w, h);
        fade_to_border(&mut region, l, &valid, &border, 4.0 * sigma);
        let region = grow(&region, &region, &touch, w, h);
        let rv: Vec<f32> = (0..w * h).filter(|&i| region[i]).map(|i| l[i]).collect();
        if rv.len() < 4 {
            return None;
        }
        let [level, q95, q05] = quantiles(&rv, [0.5, 0.95, 0.05]);
        let spread = q95 - q05;
        let rest: Vec<f32> = (0..w * h).filter(|&i| valid[i] && !region[i]).map(|i| l[i]).collect();
        if (rest.len() as f64) < MIN_ANATOMY * n_valid as f64 {
            // Nothing (or almost nothing) but the plateau: a blank or flat-field frame, not a
            // patient with direct exposure around it; the whole field is then the region of interest.
            return None;
        }
        if rv.len() as f64 >= LARGE_REGION_SHARE * n_valid as f64 && spread > LEAK_DEPTH {
            return None;
        }
        let sep25 = level - quantile(&rest, 0.25);
        let b = masked_box_mean(l, &region, w, h, LOCAL_RADIUS);
        let d1 = dilate(&region, w, h, 1);
        let d2 = dilate(&region, w, h, 2);
        let drops: Vec<f32> = (0..w * h).filter(|&i| d2[i] && !d1[i] && valid[i]).map(|i| b[i] - l[i]).collect();
        let edge_drop = if drops.is_empty() { 0.0 } else { quantile(&drops, 0.5) };
        let behind = beyond.drop_behind(l, &region);
        // Open beam behind the blades next to the region: heavy scatter may flatten its step.
        let open_behind = behind.is_some_and(|d| d <= 0.0) && spread <= LEAK_DEPTH;
        let separation = if open_behind { MIN_EDGE_SEPARATION_OPEN } else { MIN_EDGE_SEPARATION };
        let steep = open_behind && edge_drop >= STEEP_EDGE_DROP && sep25 >= MIN_EDGE_SEPARATION_STEEP;
        let edge = steep || (edge_drop >= MIN_EDGE_DROP && sep25 >= separation);
        let apart = sep25 >= MIN_SEPARATION && rv.len() as f64 >= MIN_SEPARATION_SHARE * n_valid as f64;
        let body_behind = behind.is_some_and(|d| d >= BEYOND_SHUTTER_DROP);
        if !(spread <= MAX_SPREAD || edge || apart) || body_behind {
            return None;
        }
        Some((region, b, d2))
    };
    // A small patch of direct exposure (a sliver between shutter and patient) can leak, through
    // tissue that thins gently to the skin where it meets the shutter, into smooth anatomy that
    // is everywhere within δ of its own local maximum; the leaked region then fails the test.
    // Second attempt: candidates also within `LEAK_DEPTH` of the top plateau (the level drift of
    // direct exposure across a field stays below it), which cuts the leak in the thicker tissue.
    let (_region, b, d2) = match attempt(&cand) {
        Some(v) => v,
        None => {
            let tight: Vec<bool> = (0..w * h).map(|i| cand[i] && l[i] as f64 >= t - LEAK_DEPTH).collect();
            attempt(&tight)?
        }
    };
    let zone: Vec<bool> = d2.iter().zip(blk_any).map(|(a, b)| *a && *b).collect();

    // Half resolution.
    let (hw, hh) = (g1.width, g1.height);
    let q = (low.factor / 2).max(1);
    let dh = DELTA_HALF.max(4.0 * sigma * q as f64) as f32;
    let full_h = field.len();
    // A half-resolution pixel is "core" when its 2×2 block and its 8 neighbours' blocks are all in
    // the field; reduced pixels at least two blocks inside the field contain only core pixels.
    let deep: Vec<bool> = {
        let e = dilate(&outside, w, h, 1);
        e.iter().map(|x| !x).collect()
    };
    let in_field = |hx: isize, hy: isize| -> (bool, bool) {
        let (mut all, mut any) = (true, false);
        for dy in 0..2 {
            for dx in 0..2 {
                let (x, y) = (2 * hx + dx, 2 * hy + dy);
                let inside = x >= 0
                    && y >= 0
                    && (x as usize) < full_w
                    && (y as usize) < full_h
                    && (field[y as usize].0..field[y as usize].1).contains(&(x as usize));
                // Pixels beyond the frame's odd edge do not exist: they do not make a block partial.
                let exists = x >= 0 && y >= 0 && (x as usize) < full_w && (y as usize) < full_h;
                if exists {
                    all &= inside;
                    any |= inside;
                } else if x < 0 || y < 0 {
                    all = false;
                }
            }
        }
        (all, any)
    };
    // Block by block: most reduced blocks are not in the zone, and skipping them whole beats
    // testing each of their q² half-resolution pixels.
    let mut half = vec![false; hw * hh];
    half.par_chunks_mut(hw).enumerate().for_each(|(hy, row)| {
        let lrow = (hy / q).min(h - 1) * w;
        let grow_ = g1.row(hy);
        for lx in 0..w {
            let li = lrow + lx;
            if !zone[li] {
                continue;
            }
            let (level, deep) = (b[li] - dh, deep[li]);
            for hx in block_columns(lx, q, w, hw) {
                if grow_[hx] >= level {
                    row[hx] = deep || in_field(hx as isize, hy as isize).0;
                }
            }
        }
    });
    // Penumbra: blocks at the shutter edge take the decision of core neighbours within 2.
    let core = |hx: usize, hy: usize| -> bool {
        for dy in -1isize..=1 {
            for dx in -1isize..=1 {
                if !in_field(hx as isize + dx, hy as isize + dy).0 {
                    return false;
                }
            }
        }
        true
    };
    let half_ = &half;
    let add: Vec<usize> = (0..hh)
        .into_par_iter()
        .flat_map_iter(|hy| {
            let lrow = (hy / q).min(h - 1) * w;
            let (zone, deep, core) = (&zone, &deep, &core);
            let columns = (0..w).filter(move |&lx| zone[lrow + lx] && !deep[lrow + lx]);
            columns.flat_map(move |lx| block_columns(lx, q, w, hw)).filter_map(move |hx| {
                if half_[hy * hw + hx] {
                    return None;
                }
                let (_, any) = in_field(hx as isize, hy as isize);
                if !any || core(hx, hy) {
                    return None;
                }
                for dy in -2isize..=2 {
                    for dx in -2isize..=2 {
                        let (nx, ny) = (hx as isize + dx, hy as isize + dy);
                        if nx >= 0 && ny >= 0 && (nx as usize) < hw && (ny as usize) < hh {
                            let (nx, ny) = (nx as usize, ny as usize);
                            if half_[ny * hw + nx] && core(nx, ny) {
                                return Some(hy * hw + hx);
                            }
                        }
                    }
                }
                None
            })
        })
        .collect();
    for i in add {
        half[i] = true;
    }
    // Only blocks that reach into the field: the band, not the whole shuttered area.
    let near_edge: Vec<bool> =
        dilate(&outside, w, h, PENUMBRA_BLOCKS).iter().zip(blk_any).map(|(a, b)| *a && *b).collect();
    penumbra_band(&mut half, g1, fields, &near_edge, (w, h, q), dh);
    Some(Direct { half, width: hw, height: hh })
}

/// Direct exposure on a plate with several fields: each field is its own exposure (two views on one
/// plate are two shots, each with its own technique), with its own direct level, so each is searched
/// alone ([`detect`] on that field) and the masks are joined. Where a field alone shows none (too
/// little of it to seed or to test), the search over all the fields decides for it. One field:
/// [`detect`] itself.
pub fn detect_each(
    low: &LowRes,
    g1: &Plane,
    fields: Fields<'_>,
    markers: &[bool],
    spans: &[(usize, usize)],
    full_w: usize,
) -> Option<Direct> {
    if fields.several.is_empty() {
        return detect(low, g1, fields, markers, spans, full_w);
    }
    // Behind the blades is outside every field: another field's direct exposure is no outside.
    let whole = FieldBlocks::new(low, fields);
    let beyond = whole.outside();
    // Side by side: the search has serial steps.
    let each: Vec<Option<Direct>> = fields
        .several
        .par_iter()
        .map(|f| {
            let one = Fields { coll: fields.coll, several: std::slice::from_ref(f) };
            detect_in(low, g1, one, &FieldBlocks::new(low, one), Some(&beyond), markers, spans, full_w)
        })
        .collect();
    let all = if each.iter().any(|d| d.is_none()) {
        detect_in(low, g1, fields, &whole, Some(&beyond), markers, spans, full_w)
    } else {
        None
    };
    let hw = g1.width;
    let mut joined = vec![false; g1.data.len()];
    for (f, d) in fields.several.iter().zip(&each) {
        let Some(d) = d.as_ref().or(all.as_ref()) else {
            continue;
        };
        // This field's half-resolution pixels only (centre of the first full-resolution pixel).
        joined.par_chunks_mut(hw).zip(d.half.par_chunks(hw)).enumerate().for_each(|(hy, (j, d))| {
            let (a, b) = f.row_span(2 * hy);
            for hx in a.div_ceil(2)..b.div_ceil(2).min(hw) {
                j[hx] |= d[hx];
            }
        });
    }
    Some(Direct { half: joined, width: hw, height: g1.height })
}

/// The half-resolution columns of reduced column `lx` (`q` to a block, `lw` blocks to a row of
/// `hw`): the last block takes the columns left over at the edge.
#[inline]
fn block_columns(lx: usize, q: usize, lw: usize, hw: usize) -> std::ops::Range<usize> {
    let end = if lx + 1 == lw { hw } else { ((lx + 1) * q).min(hw) };
    (lx * q).min(hw)..end
}

/// A soft penumbra (σ to 8 px) dims direct exposure inside the shutter edge by up to half over
/// ~2σ: those pixels fall below the region's level and were left to the anatomy, where they are
/// the brightest (most "attenuated") pixels of the processed image and the least exposed of the
/// raw one. The edge's own profile decides them: each half-resolution pixel within
/// `PENUMBRA_DEPTH` of the edge is paired with the pixel `PENUMBRA_DEPTH` deep along the edge
/// normal; where that one is direct exposure, the median log difference per 1-px distance bin is
/// the penumbra's profile, and a pixel whose difference lies within `dh` of its bin's is direct
/// exposure too. Tissue between the two lies clearly below the profile and stays anatomy.
fn penumbra_band(
    half: &mut [bool],
    g1: &Plane,
    fields: Fields<'_>,
    near_edge: &[bool],
    (lw, lh, q): (usize, usize, usize),
    dh: f32,
) {
    let (hw, hh) = (g1.width, g1.height);
    let bins = PENUMBRA_DEPTH as usize;
    let rows_near: Vec<bool> = near_edge.chunks(lw).map(|r| r.iter().any(|v| *v)).collect();
    if !rows_near.iter().any(|v| *v) {
        return;
    }
    let half_ = &*half;
    // (pixel, distance bin, log difference to the deep pixel)
    let samples: Vec<(usize, usize, f32)> = (0..hh)
        .into_par_iter()
        .flat_map_iter(|hy| {
            let ly = (hy / q).min(lh - 1);
            let lrow = ly * lw;
            let mut out = Vec::new();
            if !rows_near[ly] {
                return out;
            }
            let cy = 2.0 * hy as f64 + 0.5;
            // Runs of near-edge blocks; each run's signed distances (the pixel and its four
            // neighbours at ±1 px, for the edge normal) row by row, side by side.
            let mut lx = 0;
            while lx < lw {
                if !near_edge[lrow + lx] {
                    lx += 1;
                    continue;
                }
                let first = lx;
                while lx < lw && near_edge[lrow + lx] {
                    lx += 1;
                }
                let cols = block_columns(first, q, lw, hw).start..block_columns(lx - 1, q, lw, hw).end;
                let xs: Vec<f64> = cols.clone().map(|hx| 2.0 * hx as f64 + 0.5).collect();
                let right: Vec<f64> = xs.iter().map(|x| x + 1.0).collect();
                let left: Vec<f64> = xs.iter().map(|x| x - 1.0).collect();
                let n = xs.len();
                let mut d = vec![0f64; 5 * n];
                let (sd, rest) = d.split_at_mut(n);
                let (sd_right, rest) = rest.split_at_mut(n);
                let (sd_left, rest) = rest.split_at_mut(n);
                let (sd_below, sd_above) = rest.split_at_mut(n);
                fields.signed_distance_row(&xs, cy, sd);
                fields.signed_distance_row(&right, cy, sd_right);
                fields.signed_distance_row(&left, cy, sd_left);
                fields.signed_distance_row(&xs, cy + 1.0, sd_below);
                fields.signed_distance_row(&xs, cy - 1.0, sd_above);
                for (k, hx) in cols.enumerate() {
                    let (cx, sd) = (xs[k], sd[k]);
                    if !(0.0..PENUMBRA_DEPTH).contains(&sd) {
                        continue;
                    }
                    let nx = sd_right[k] - sd_left[k];
                    let ny = sd_below[k] - sd_above[k];
                    let norm = nx.hypot(ny);
                    if norm < 1e-6 {
                        continue;
                    }
                    let step = (PENUMBRA_DEPTH - sd) / norm;
                    let (px, py) = ((cx + step * nx) / 2.0, (cy + step * ny) / 2.0);
                    if px < 0.0 || py < 0.0 || px >= hw as f64 || py >= hh as f64 {
                        continue;
                    }
                    let qi = py as usize * hw + px as usize;
                    if half_[qi] {
                        out.push((hy * hw + hx, sd as usize, g1.data[hy * hw + hx] - g1.data[qi]));
                    }
                }
            }
            out
        })
        .collect();
    let mut per_bin: Vec<Vec<f32>> = vec![Vec::new(); bins];
    for &(_, k, d) in &samples {
        per_bin[k].push(d);
    }
    let profile: Vec<Option<f32>> =
        per_bin.iter_mut().map(|v| (v.len() >= PENUMBRA_MIN_SAMPLES).then(|| quantile(v, 0.5) as f32)).collect();
    for (i, k, d) in samples {
        if let Some(p) = profile[k] {
            if d >= p - dh {
                half[i] = true;
            }
        }
    }
}

/// The anatomy = field − direct exposure − markers, as a [`HalfMask`] over `spans` (one per
/// full-resolution row of a `w`-wide frame): it depends on a pixel only through its
/// half-resolution pixel (the reduction factor is even) and its row's span, so each
/// half-resolution pixel is decided once per row pair.
pub fn anatomy(
    g1: &Plane,
    low: &LowRes,
    marks: &Markers,
    direct: Option<&Direct>,
    fields: Fields<'_>,
    spans: Vec<(usize, usize)>,
    w: usize,
) -> HalfMask {
    let h = spans.len();
    let (lw, lf) = (low.log.width, low.factor);
    let hw = g1.width;
    let mut half = vec![false; hw * h.div_ceil(2)];
    half.par_chunks_mut(hw).enumerate().for_each(|(hy, hanat)| {
        let pair = &spans[2 * hy..(2 * hy + 2).min(h)];
        let (x0, x1) = pair.iter().filter(|(a, b)| a < b).fold((usize::MAX, 0), |(a, b), s| (a.min(s.0), b.max(s.1)));
        let m0 = (2 * hy / lf).min(low.log.height - 1) * lw;
        let grow_ = g1.row(hy);
        let drow = direct.map(|d| &d.half[hy * d.width..][..d.width]);
        // Several fields: only the half-resolution pixels whose first pixel lies in one of them.
        let several = fields.spans_of_row(2 * hy);
        for hx in x0 / 2..x1.div_ceil(2) {
            let in_a_field = several.is_empty() || several.iter().any(|(a, b)| (*a..*b).contains(&(2 * hx)));
            hanat[hx] = in_a_field
                && !drow.is_some_and(|d| d[hx])
                && !marks.is_marker(m0 + (2 * hx / lf).min(lw - 1), grow_[hx]);
        }
    });
    HalfMask { half, half_width: hw, spans, width: w }
}

/// Direct exposure at full resolution (`w` wide, one row per span of `spans`): the
/// half-resolution mask expanded within each row's field span.
pub fn direct_full(direct: Option<&Direct>, spans: &[(usize, usize)], w: usize) -> Vec<bool> {
    let h = spans.len();
    // Not zeroed first: each row is written once, outside its span included (zeroing the mask
    // first cost ~1 ms a frame).
    let mut fg: Vec<bool> = Vec::with_capacity(w * h);
    fg.spare_capacity_mut()[..w * h].par_chunks_mut(w).enumerate().for_each(|(y, frow)| {
        let (a, b) = spans[y];
        let b = b.max(a).min(w);
        match direct {
            Some(d) => expand_row(&d.half[(y / 2) * d.width..][..d.width], (a.min(b), b), frow),
            None => frow.iter_mut().for_each(|p| p.put(false)),
        }
    });
    // SAFETY: both arms write every pixel of each row.
    unsafe { fg.set_len(w * h) };
    fg
}

/// A lead marker passes a few percent of the beam: far darker (in signal) than its surroundings,
/// unlike any bone. Reduced pixels whose log signal lies more than `MARKER_DROP` below the mean of
/// their in-field neighbourhood (radius `MARKER_RADIUS` reduced pixels) are markers; the mask is
/// grown by one pixel (the enhancement and the direct-exposure detector leave that halo out). For
/// the anatomy, [`Markers::is_marker`] decides per half-resolution pixel against the local
/// background, a grey closing as wide as the largest marker (`MARKER_MAX_SIZE` of the frame's
/// shorter side), so the tissue around a marker stays in the window's histogram.
/// (A black top-hat test on the same closing would find markers behind thick tissue, where scatter
/// fills in the shadow to a drop of ~0.5, but on these phantoms dense anatomy reaches top-hats of
/// 0.47–0.66 at that scale: the two overlap, so it is not used.)
pub const MARKER_DROP: f32 = 0.6;
/// Under heavy scatter a marker drops less (see `markers`' second pass): down to this much, a
/// piece is a marker when its inside spreads (5–95 %) at most `MARKER_FLAT` times its depth
/// (development markers under scatter of 1.1–1.5 times the primary: 0.03–0.11 of it, tissue
/// taken for one 0.25).
pub const MARKER_DROP_FLAT: f32 = 0.3;
pub const MARKER_FLAT: f64 = 0.2;
pub const MARKER_RADIUS: usize = 12;
pub const MARKER_MAX_SIZE: f64 = 0.04;
pub const MARKER_MIN_SIZE: f64 = 0.01;
pub const MARKER_DARK: f64 = 1.2;
/// Share of the ring around a marker-sized piece that, darker than halfway to the piece, shows it
/// is part of a longer implant (see `markers`).
pub const MARKER_RING_DARK: f64 = 0.15;
/// A marker (a lead block, disc or letter) is compact: its equivalent ellipse (same second
/// moments) is at most this many times as long as wide. Implants are plates, nails and wires: long.
pub const MARKER_ASPECT_MAX: f64 = 2.0;

pub struct Markers {
    /// Reduced-resolution marker blocks, grown by one.
    pub mask: Vec<bool>,
    /// Local background (grey closing) of each block.
    closing: Vec<f32>,
    /// Depth of the nearby marker (largest closing − L over the 3×3 neighbourhood of marker blocks).
    depth: Vec<f32>,
}

impl Markers {
    /// A half-resolution pixel of log value `g` in reduced block `i` is marker when it lies
    /// deeper than half the marker's depth below the background: the anatomy keeps the halo
    /// blocks' tissue (the enhancement's undershoot around a marker is part of the image to window).
    #[inline]
    pub fn is_marker(&self, i: usize, g: f32) -> bool {
        self.mask[i] && !(g >= self.closing[i] - 0.5 * self.depth[i])
    }
}

/// A marker is solid too: its pixels fill at least this share of its equivalent ellipse (a solid
/// shape ≈ 0.95). Implants are plates, nails and wires: two of them crossing fill little of theirs.
pub const MARKER_FILL_MIN: f64 = 0.6;

/// Pixel count and sums `[Σx, Σy, Σx², Σy², Σxy]` of reduced pixels `pixels` of a `w`-wide image.
fn moments(pixels: impl Iterator<Item = usize>, w: usize) -> (f64, [f64; 5]) {
    let (mut mo, mut n) = ([0f64; 5], 0f64);
    for i in pixels {
        let (x, y) = ((i % w) as f64, (i / w) as f64);
        for (a, t) in mo.iter_mut().zip([x, y, x * x, y * y, x * y]) {
            *a += t;
        }
        n += 1.0;
    }
    (n.max(1.0), mo)
}

/// Whether `n` pixels with sums `m` (see [`moments`]) are compact: their equivalent ellipse is at
/// most `MARKER_ASPECT_MAX` times as long as wide.
fn compact(n: f64, m: [f64; 5]) -> bool {
    let (major, minor) = crate::morph::moment_axes(n, m);
    major <= MARKER_ASPECT_MAX.powi(2) * minor
}

/// Whether `n` pixels with sums `m` have a marker's shape: compact and solid
/// (`MARKER_FILL_MIN` of their equivalent ellipse).
pub fn marker_shaped(n: f64, m: [f64; 5]) -> bool {
    compact(n, m) && crate::morph::ellipse_fill(n, m) >= MARKER_FILL_MIN
}

pub fn markers(low: &LowRes, fields: Fields<'_>) -> Markers {
    let (w, h) = (low.log.width, low.log.height);
    let f = low.factor as f64;
    let l = &low.log.data;
    let centres: Vec<f64> = (0..w).map(|x| low.to_full(x as f64, 0.0).0).collect();
    let mut sd = vec![0f64; w * h];
    sd.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        fields.signed_distance_row(&centres, low.to_full(0.0, y as f64).1, row);
    });
    let field: Vec<bool> = sd.iter().map(|d| *d >= 0.5 * f).collect();
    // Integral images of the in-field values and counts.
    let mut s = vec![0f64; (w + 1) * (h + 1)];
    let mut c = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let (v, n) = if field[i] { (l[i] as f64, 1.0) } else { (0.0, 0.0) };
            let k = (y + 1) * (w + 1) + x + 1;
            s[k] = v + s[k - 1] + s[k - w - 1] - s[k - w - 2];
            c[k] = n + c[k - 1] + c[k - w - 1] - c[k - w - 2];
        }
    }
    // Grey closing over blocks whose whole area is in the field (the shutter's shadow must not
    // read as a marker), outside blocks ignored.
    let deep: Vec<bool> = sd.iter().map(|d| *d >= 1.5 * f).collect();
    let rt = ((0.5 * MARKER_MAX_SIZE * (fields.width().min(fields.height())) as f64 / f).ceil() as usize + 1).max(2);
    let v: Vec<f32> = (0..w * h).map(|i| if deep[i] { l[i] } else { f32::NEG_INFINITY }).collect();
    let dil = box_max(&v, w, h, rt);
    let neg: Vec<f32> = (0..w * h).map(|i| if deep[i] { -dil[i] } else { f32::NEG_INFINITY }).collect();
    let closing: Vec<f32> =
        box_max(&neg, w, h, rt).iter().zip(&deep).map(|(e, d)| if *d { -e } else { f32::NEG_INFINITY }).collect();
    let r = MARKER_RADIUS;
    // Mean of the in-field values within `MARKER_RADIUS` of reduced pixel `i` (none: no in-field
    // value there).
    let neighbourhood_mean = |i: usize| -> Option<f64> {
        let (x, y) = (i % w, i / w);
        let (x0, y0, x1, y1) = (x.saturating_sub(r), y.saturating_sub(r), (x + r + 1).min(w), (y + r + 1).min(h));
        let box_sum =
            |a: &[f64]| a[y1 * (w + 1) + x1] - a[y0 * (w + 1) + x1] - a[y1 * (w + 1) + x0] + a[y0 * (w + 1) + x0];
        let n = box_sum(&c);
        (n > 0.0).then(|| box_sum(&s) / n)
    };
    // How far each in-field pixel lies below that mean (0 outside the field): both passes read it.
    let below_mean: Vec<f64> = (0..w * h)
        .into_par_iter()
        .with_min_len(w)
        .map(|i| if field[i] { neighbourhood_mean(i).map_or(0.0, |m| m - l[i] as f64) } else { 0.0 })
        .collect();
    let mut m: Vec<bool> = below_mean.iter().map(|d| *d > MARKER_DROP as f64).collect();
    // Component test: a marker is at least `MARKER_MIN_SIZE` on a side (a few dense blocks next to
    // direct exposure can fall 0.6 below a neighbourhood mean that is mostly direct exposure), and
    // no larger than `MARKER_MAX_SIZE` unless it is lead-dark (`MARKER_DARK` below the mean:
    // deeper than any anatomy but metal, e.g. a marker touching the skin edge) and at most twice
    // that; dense anatomy narrow enough for a top-hat is elongated.
    let min_area = ((MARKER_MIN_SIZE * fields.width().min(fields.height()) as f64 / f).powi(2)).ceil() as usize;
    let max_side = (MARKER_MAX_SIZE * 1.4 * fields.width().min(fields.height()) as f64 / f).ceil() as usize + 2;
    // A long implant's middle lies in its own dark neighbourhood, so the test above may keep only
    // marker-sized pieces of it; but the implant goes on beyond such a piece, while a marker ends
    // where it ends. A piece is part of something longer when, two reduced pixels outside it (past
    // the blocks its edge covers in part), `MARKER_RING_DARK` of the in-field ring is darker than
    // halfway from the piece's mean to its surroundings' (the neighbourhood mean).
    let continues = |comp: &[usize], (xa, xb, ya, yb): (usize, usize, usize, usize)| -> bool {
        let (x0, y0) = (xa.saturating_sub(2), ya.saturating_sub(2));
        let (bw, bh) = ((xb + 3).min(w) - x0, (yb + 3).min(h) - y0);
        let mut inside = vec![false; bw * bh];
        let (mut piece, mut around) = (0f64, 0f64);
        for &i in comp {
            inside[(i / w - y0) * bw + i % w - x0] = true;
            piece += l[i] as f64;
            around += l[i] as f64 + below_mean[i];
        }
        let half = 0.5 * (piece + around) / comp.len() as f64;
        let near = crate::morph::dilate(&inside, bw, bh, 1);
        let ring = crate::morph::dilate(&near, bw, bh, 1);
        let (mut dark, mut total) = (0usize, 0usize);
        for (k, (r, n)) in ring.iter().zip(&near).enumerate() {
            let i = (y0 + k / bw) * w + x0 + k % bw;
            if *r && !*n && field[i] {
                total += 1;
                dark += usize::from((l[i] as f64) < half);
            }
        }
        total > 0 && dark as f64 >= MARKER_RING_DARK * total as f64
    };
    // The field's edge, and the frame's.
    let at_edge = {
        let out: Vec<bool> =
            (0..w * h).map(|i| !field[i] || i % w == 0 || i % w == w - 1 || i < w || i >= w * (h - 1)).collect();
        dilate(&out, w, h, 1)
    };
    // Removed after the walk: `components8` reads `m` while it runs (a removed pixel is one its
    // own component has already visited, so the other components come out the same).
    let (mut removed, mut deepest) = (Vec::new(), 0f64);
    crate::morph::components8(&m, w, h, |comp, (xa, xb, ya, yb)| {
        let dark = comp.iter().fold(0f64, |d, &i| d.max(below_mean[i]));
        let small = xb - xa < max_side && yb - ya < max_side;
        // A lead-dark marker that merged with dense tissue at the skin edge grows by that tissue,
        // not to several marker sizes: longer dark pieces are metal implants, part of the patient.
        let merged = dark >= MARKER_DARK && xb - xa < 2 * max_side && yb - ya < 2 * max_side;
        // A marker (a block, disc or letter) is compact and solid, and so is its darkest part when
        // it merged with tissue; a short implant in a small field is marker-sized but long, and
        // implants crossing have a compact piece's moments but fill half of its ellipse
        // (development frame: three nails crossing, taken for a marker, held the window's 98th
        // percentile; their fill 0.50, the markers' 0.95–0.97).
        let core = |i: &&usize| small || below_mean[**i] >= 0.5 * dark;
        let (n, mo) = moments(comp.iter().filter(core).copied(), w);
        let shaped = marker_shaped(n, mo);
        // Markers are placed inside the field; a piece the field's edge cuts goes on behind the
        // blades: an implant (a nail, a plate) that the field ends on.
        let cut = comp.iter().any(|&i| at_edge[i]);
        if comp.len() < min_area || !(small || merged) || !shaped || cut || continues(comp, (xa, xb, ya, yb)) {
            removed.extend_from_slice(comp);
        } else {
            deepest = deepest.max(dark);
        }
    });
    for i in removed {
        m[i] = false;
    }
    // Second pass: heavy scatter fills in a marker's shadow (scatter of 1.1–1.5 times the primary
    // leaves a drop of 0.43–0.56, below `MARKER_DROP`), but the lead still casts a flat plateau
    // with a step all round. A piece deeper than `MARKER_DROP_FLAT` that holds no marker of the
    // first pass is a marker when it passes the same shape tests and is flat inside
    // (`MARKER_FLAT`); dense tissue that deep is a dome whose surroundings fall off gradually
    // (`continues`) and whose inside spreads with its depth. Only when no marker of the first pass
    // is lead-dark (`MARKER_DARK`): one that deep shows light scatter, under which lead drops far
    // below `MARKER_DROP` and a shallow flat piece is tissue (development frame, scatter 0.15 times
    // the primary: a piece 0.43 deep spreading 0.25 of it, taken for a marker, clipped the window).
    // Metal is as flat as lead, and two implants crossing in a T or a cross have the second moments
    // of a compact piece: the piece must also be solid (`MARKER_FILL_MIN` of its equivalent
    // ellipse; development frame: a T filling 0.39 was taken, and the window lost the implants,
    // while a marker seen whole only by this pass fills 0.97).
    if deepest < MARKER_DARK {
        let faint: Vec<bool> = below_mean.iter().map(|d| *d > MARKER_DROP_FLAT as f64).collect();
        let mut flat_markers = Vec::new();
        crate::morph::components8(&faint, w, h, |comp, (xa, xb, ya, yb)| {
            if comp.len() < min_area
                || xb - xa >= max_side
                || yb - ya >= max_side
                || comp.iter().any(|&i| m[i] || at_edge[i])
            {
                return;
            }
            let (n, mo) = moments(comp.iter().copied(), w);
            if !marker_shaped(n, mo) || continues(comp, (xa, xb, ya, yb)) {
                return;
            }
            // The inside: pixels whose four neighbours are in the piece (its rim blocks straddle the
            // edge and take values between the plateau and the surroundings).
            let bw = xb - xa + 1;
            let mut inside = vec![false; bw * (yb - ya + 1)];
            for &i in comp {
                inside[(i / w - ya) * bw + i % w - xa] = true;
            }
            let at = |x: usize, y: usize| x >= xa && x <= xb && y >= ya && y <= yb && inside[(y - ya) * bw + x - xa];
            let core: Vec<usize> = comp
                .iter()
                .copied()
                .filter(|&i| {
                    let (x, y) = (i % w, i / w);
                    x > 0 && y > 0 && at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1)
                })
                .collect();
            if core.len() < 4 {
                return;
            }
            let values: Vec<f32> = core.iter().map(|&i| l[i]).collect();
            let drops: Vec<f32> = core.iter().map(|&i| below_mean[i] as f32).collect();
            let [q05, q95] = quantiles(&values, [0.05, 0.95]);
            if q95 - q05 <= MARKER_FLAT * quantile(&drops, 0.5) {
                // The marker is the plateau: its inside grown back by one. A thin implant touching
                // it joins the piece but has no inside, and stays anatomy (development frame: a
                // nail 16 px wide ran from a marker; taken with it, the window lost the nail and
                // its 98th percentile fell 19 % of the range).
                let mut plateau = vec![false; inside.len()];
                for &i in &core {
                    plateau[(i / w - ya) * bw + i % w - xa] = true;
                }
                let near = crate::morph::dilate(&plateau, bw, yb - ya + 1, 1);
                flat_markers.extend(comp.iter().copied().filter(|&i| near[(i / w - ya) * bw + i % w - xa]));
            }
        });
        for i in flat_markers {
            m[i] = true;
        }
    }
    // Background for blocks the closing does not cover (markers near the field edge): the
    // neighbourhood mean, as the first test used.
    let background: Vec<f32> = (0..w * h)
        .into_par_iter()
        .with_min_len(w)
        .map(|i| {
            if deep[i] && closing[i].is_finite() {
                return closing[i];
            }
            neighbourhood_mean(i).map_or(f32::INFINITY, |m| m as f32)
        })
        .collect();
    let mut grown = m.clone();
    let mut depth = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !m[i] {
                continue;
            }
            let d = background[i] - l[i];
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h {
                        let j = ny as usize * w + nx as usize;
                        grown[j] = true;
                        depth[j] = depth[j].max(d);
                    }
                }
            }
        }
    }
    Markers { mask: grown, closing: background, depth }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collimation::Collimation;

    /// A reduced log image (100²) of direct exposure at 8.5–8.508 that fades by 0.03 per
    /// reduced pixel over the 6 pixels next to the left edge, and a patient across the top edge
    /// whose skin drops 0.3 at once and 0.3 per reduced pixel further in; the region found so far
    /// is the plateau.
    fn fade_and_patient() -> (Vec<f32>, Vec<bool>, impl Fn(usize, usize) -> bool) {
        let (w, h) = (100usize, 100usize);
        let depth = |x: usize, y: usize| 20.0 - ((x as f32 - 50.0).powi(2) + (y as f32 + 5.0).powi(2)).sqrt();
        let patient = move |x: usize, y: usize| depth(x, y) > 0.0;
        let l: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let fade = 0.03 * 6usize.saturating_sub(x) as f32;
                // quantum noise: an unclipped plateau is never one value
                let ripple = 0.002 * ((x * 7 + y * 13) % 5) as f32;
                let skin = if patient(x, y) { (0.3 + 0.3 * depth(x, y)).min(1.5) } else { 0.0 };
                8.5 + ripple - fade - skin
            })
            .collect();
        let region = (0..w * h).map(|i| l[i] >= 8.495).collect();
        (l, region, patient)
    }

    #[test]
    fn direct_exposure_fading_to_the_border_joins_the_region_and_the_patient_does_not() {
        let (w, h) = (100usize, 100usize);
        let (l, mut region, patient) = fade_and_patient();
        assert!(!region[50 * w], "the faded band is not in the region to begin with");
        let border = BorderLayers::new(&vec![false; w * h], w, h);
        fade_to_border(&mut region, &l, &vec![true; w * h], &border, 0.012);
        for (i, &r) in region.iter().enumerate() {
            let (x, y) = (i % w, i / w);
            assert_eq!(r, !patient(x, y), "({x}, {y})");
        }
    }

    #[test]
    fn a_region_clipped_by_the_panel_grows_no_fade() {
        let (w, h) = (100usize, 100usize);
        let (l, region, _) = fade_and_patient();
        let l: Vec<f32> = l.iter().map(|v| v.min(8.495)).collect();
        let mut grown = region.clone();
        let border = BorderLayers::new(&vec![false; w * h], w, h);
        fade_to_border(&mut grown, &l, &vec![true; w * h], &border, 0.012);
        assert_eq!(grown, region);
    }

    /// A reduced log image (factor 4 of a 2048² frame) of flat tissue with a lead block and a long
    /// implant whose drop below the tissue (0.75) is flagged by the neighbourhood test only near
    /// its ends, where less of it darkens the neighbourhood.
    fn block_and_implant() -> (Vec<bool>, Vec<bool>, Markers) {
        block_and(|x: usize, y: usize| (300..306).contains(&x) && (150..260).contains(&y), 0.75)
    }

    /// The same tissue and block with `bar`, `bar_drop` below the tissue, instead of the long implant.
    fn block_and(bar: impl Fn(usize, usize) -> bool, bar_drop: f32) -> (Vec<bool>, Vec<bool>, Markers) {
        block_at(1.0, bar, bar_drop)
    }

    /// The tissue, the block `block_drop` below it, and `bar`.
    fn block_at(block_drop: f32, bar: impl Fn(usize, usize) -> bool, bar_drop: f32) -> (Vec<bool>, Vec<bool>, Markers) {
        let (w, h, f) = (512usize, 512usize, 4usize);
        let block = |x: usize, y: usize| (100..108).contains(&x) && (100..110).contains(&y);
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                // A gentle slope and a ripple, so that no two neighbourhoods are alike.
                let tissue = 5.0 + 0.001 * x as f32 + 0.02 * ((x * 7 + y * 13) % 5) as f32;
                tissue
                    - if block(x, y) {
                        block_drop
                    } else if bar(x, y) {
                        bar_drop
                    } else {
                        0.0
                    }
            })
            .collect();
        let low = LowRes::new(Plane { data, width: w, height: h }, f);
        let coll = Collimation::none(w * f, h * f);
        let m = markers(&low, Fields { coll: &coll, several: &[] });
        let at = |p: &dyn Fn(usize, usize) -> bool| (0..w * h).map(|i| p(i % w, i / w)).collect::<Vec<bool>>();
        (at(&block), at(&bar), m)
    }

    #[test]
    fn a_lead_block_is_a_marker_and_no_piece_of_a_long_implant_is() {
        let (block, bar, m) = block_and_implant();
        let hits = |region: &[bool]| region.iter().zip(&m.mask).filter(|(r, k)| **r && **k).count();
        assert_eq!(hits(&block), block.iter().filter(|b| **b).count(), "the block is a marker");
        assert_eq!(hits(&bar), 0, "no piece of the implant is a marker");
    }

    #[test]
    fn a_short_implant_the_size_of_a_marker_is_no_marker() {
        // 4 × 24 reduced pixels (16 × 96 px): within a marker's size, but 6 times as long as wide.
        let (block, bar, m) = block_and(|x: usize, y: usize| (300..304).contains(&x) && (150..174).contains(&y), 0.75);
        let hits = |region: &[bool]| region.iter().zip(&m.mask).filter(|(r, k)| **r && **k).count();
        assert_eq!(hits(&block), block.iter().filter(|b| **b).count(), "the block is a marker");
        assert_eq!(hits(&bar), 0, "the implant is anatomy");
    }

    #[test]
    fn implants_crossing_in_a_marker_sized_plus_are_no_marker() {
        // Two nails 2 × 18 reduced pixels crossing at their middles: the piece's second moments
        // are a compact piece's, but it fills half of its equivalent ellipse.
        let plus = |x: usize, y: usize| {
            ((300..318).contains(&x) && (308..310).contains(&y)) || ((308..310).contains(&x) && (300..318).contains(&y))
        };
        let (block, bar, m) = block_and(plus, 0.75);
        let hits = |region: &[bool]| region.iter().zip(&m.mask).filter(|(r, k)| **r && **k).count();
        assert_eq!(hits(&block), block.iter().filter(|b| **b).count(), "the block is a marker");
        assert_eq!(hits(&bar), 0, "the crossing nails are anatomy");
    }

    #[test]
    fn a_thin_implant_running_from_a_flat_marker_stays_anatomy() {
        // Heavy scatter: the block only 0.55 below the tissue (the second, flat pass finds it), and
        // a nail one reduced pixel wide running 12 pixels on from its right side.
        let nail = |x: usize, y: usize| (108..120).contains(&x) && y == 104;
        let (block, _, m) = block_at(0.55, nail, 0.5);
        let hits =
            |p: &dyn Fn(usize, usize) -> bool| (0..512 * 512).filter(|&i| p(i % 512, i / 512) && m.mask[i]).count();
        assert_eq!(hits(&|x, y| block[y * 512 + x]), block.iter().filter(|b| **b).count(), "the block is a marker");
        // The mask is grown by one after the passes: past the first two pixels the nail is clear.
        assert_eq!(hits(&|x, y| nail(x, y) && x >= 110), 0, "the nail is anatomy");
    }

    #[test]
    fn a_lead_dark_piece_the_edge_cuts_is_no_marker() {
        // The lead block's size and darkness, at the frame's left edge: an implant's tip that
        // goes on beyond it.
        let (block, tip, m) = block_and(|x: usize, y: usize| x < 8 && (300..310).contains(&y), 1.0);
        let hits = |region: &[bool]| region.iter().zip(&m.mask).filter(|(r, k)| **r && **k).count();
        assert_eq!(hits(&block), block.iter().filter(|b| **b).count(), "the block is a marker");
        assert_eq!(hits(&tip), 0, "the cut piece is anatomy");
    }

    #[test]
    fn the_row_filter_gives_each_pixels_own_median() {
        // Against the plain definition, with holes in the valid mask and narrow frames.
        let mut seed = 777u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed >> 33
        };
        for (w, h) in [(1, 1), (2, 5), (3, 3), (17, 9), (40, 31)] {
            let l: Vec<f32> = (0..w * h).map(|_| (next() % 11) as f32 * 0.25).collect();
            let valid: Vec<bool> = (0..w * h).map(|_| next() % 6 != 0).collect();
            let got = median3x3(&l, &valid, w, h);
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    if !valid[i] {
                        assert_eq!(got[i], f32::NEG_INFINITY);
                        continue;
                    }
                    let mut v: Vec<f32> = Vec::new();
                    for yy in y.saturating_sub(1)..(y + 2).min(h) {
                        for xx in x.saturating_sub(1)..(x + 2).min(w) {
                            if valid[yy * w + xx] {
                                v.push(l[yy * w + xx]);
                            }
                        }
                    }
                    v.sort_by(|a, b| a.total_cmp(b));
                    assert_eq!(got[i], v[v.len() / 2], "({x}, {y}) of {w}×{h}");
                }
            }
        }
    }

    #[test]
    fn the_network_gives_the_median_of_nine() {
        // Every arrangement of a few value sets, including ties, against a sort.
        let mut seed = 12345u64;
        for _ in 0..20_000 {
            let mut v = [0f32; 9];
            for x in v.iter_mut() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *x = ((seed >> 33) % 7) as f32 * 0.5 - 1.0;
            }
            let mut s = v;
            s.sort_unstable_by(|a, b| a.total_cmp(b));
            assert_eq!(median9(v), s[4], "{v:?}");
        }
    }
}
