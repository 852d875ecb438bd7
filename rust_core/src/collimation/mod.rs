//! Collimation geometry (rect / circle / none), its field mask, and the detector that picks
//! between the rectangular (`rect.rs`, stage `collimator_rect`) and circular (`circle.rs`, stage
//! `collimator_circle`) hypotheses.
//!
//! Coordinates: `x` is the column, `y` the row, pixel centres sit on integer coordinates. A pixel
//! belongs to the field when its centre is inside the geometry. The phantom draws its truth with
//! its own geometry and rasteriser (`crate::phantom`), and the tests rasterise it a third time.

pub mod circle;
pub mod outline;
pub mod rect;

use ndarray::Array2;
use rayon::prelude::*;

/// Which shutter shape the detector found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollimationKind {
    Rect,
    Circle,
    None,
}

impl CollimationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CollimationKind::Rect => "rect",
            CollimationKind::Circle => "circle",
            CollimationKind::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rect" => Some(CollimationKind::Rect),
            "circle" => Some(CollimationKind::Circle),
            "none" => Some(CollimationKind::None),
            _ => None,
        }
    }
}

/// Inside is `nx·x + ny·y ≥ rho`; `(nx, ny)` is a unit inward normal, so `nx·x + ny·y − rho` is
/// the signed distance in pixels (positive inside).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HalfPlane {
    pub nx: f64,
    pub ny: f64,
    pub rho: f64,
}

impl HalfPlane {
    #[inline]
    pub fn distance(&self, x: f64, y: f64) -> f64 {
        self.nx * x + self.ny * y - self.rho
    }
}

/// Shape of the collimated field.
#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    /// Up to four sides of a (possibly rotated) rectangle. A side that lies beyond the detector
    /// border is absent: the field runs to the border there.
    Rect {
        sides: Vec<HalfPlane>,
        angle_deg: f64,
    },
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
    },
    /// The whole detector is exposed.
    None,
}

/// Result of collimation detection (or phantom ground truth).
#[derive(Clone, Debug, PartialEq)]
pub struct Collimation {
    pub kind: CollimationKind,
    pub geometry: Geometry,
    pub width: usize,
    pub height: usize,
    /// Fraction of the detected outline backed by a real shutter edge (0 for `none`).
    pub confidence: f64,
}

impl Collimation {
    pub fn none(width: usize, height: usize) -> Self {
        Collimation { kind: CollimationKind::None, geometry: Geometry::None, width, height, confidence: 0.0 }
    }

    pub fn rect(width: usize, height: usize, sides: Vec<HalfPlane>, angle_deg: f64, confidence: f64) -> Self {
        if sides.is_empty() {
            return Collimation::none(width, height);
        }
        Collimation {
            kind: CollimationKind::Rect,
            geometry: Geometry::Rect { sides, angle_deg },
            width,
            height,
            confidence,
        }
    }

    pub fn circle(width: usize, height: usize, cx: f64, cy: f64, r: f64, confidence: f64) -> Self {
        Collimation {
            kind: CollimationKind::Circle,
            geometry: Geometry::Circle { cx, cy, r },
            width,
            height,
            confidence,
        }
    }

    /// Signed distance (pixels) from the field outline, positive inside; `+inf` without shutter.
    #[inline]
    pub fn signed_distance(&self, x: f64, y: f64) -> f64 {
        match &self.geometry {
            Geometry::None => f64::INFINITY,
            Geometry::Rect { sides, .. } => sides.iter().map(|s| s.distance(x, y)).fold(f64::INFINITY, f64::min),
            Geometry::Circle { cx, cy, r } => r - ((x - cx).powi(2) + (y - cy).powi(2)).sqrt(),
        }
    }

    /// [`Collimation::signed_distance`] at `(xs[i], y)` into `out[i]`: the same arithmetic in the
    /// same order (so the same values), side by side along the row, which vectorises.
    pub fn signed_distance_row(&self, xs: &[f64], y: f64, out: &mut [f64]) {
        match &self.geometry {
            Geometry::None => out.fill(f64::INFINITY),
            Geometry::Rect { sides, .. } => {
                out.fill(f64::INFINITY);
                for s in sides {
                    for (o, x) in out.iter_mut().zip(xs) {
                        *o = o.min(s.distance(*x, y));
                    }
                }
            }
            Geometry::Circle { .. } => {
                for (o, x) in out.iter_mut().zip(xs) {
                    *o = self.signed_distance(*x, y);
                }
            }
        }
    }

    /// Columns `[x0, x1)` of row `y` inside the field (the field is convex, so one span).
    pub fn row_span(&self, y: usize) -> (usize, usize) {
        let w = self.width as f64;
        let yf = y as f64;
        let (mut lo, mut hi) = (0.0f64, w - 1.0);
        match &self.geometry {
            Geometry::None => {}
            Geometry::Rect { sides, .. } => {
                for s in sides {
                    let rhs = s.rho - s.ny * yf;
                    if s.nx.abs() < 1e-12 {
                        if rhs > 0.0 {
                            return (0, 0);
                        }
                    } else if s.nx > 0.0 {
                        lo = lo.max(rhs / s.nx);
                    } else {
                        hi = hi.min(rhs / s.nx);
                    }
                }
            }
            Geometry::Circle { cx, cy, r } => {
                let dy = yf - cy;
                let q = r * r - dy * dy;
                if q < 0.0 {
                    return (0, 0);
                }
                let s = q.sqrt();
                lo = lo.max(cx - s);
                hi = hi.min(cx + s);
            }
        }
        if !(lo.is_finite() && hi.is_finite()) || hi < lo {
            return (0, 0);
        }
        // Pixel centres inside: ceil(lo)..=floor(hi), with a tiny tolerance for exact hits.
        let x0 = (lo - 1e-9).ceil().max(0.0);
        let x1 = (hi + 1e-9).floor() + 1.0;
        let x1 = x1.min(w);
        if x1 <= x0 {
            (0, 0)
        } else {
            (x0 as usize, x1 as usize)
        }
    }

    /// Field mask, `true` inside.
    pub fn mask(&self) -> Array2<bool> {
        let (w, h) = (self.width, self.height);
        let buf = crate::put::par_chunks_new(
            w * h,
            w,
            || (),
            |_, y, row| {
                let (a, b) = self.row_span(y);
                row.fill(false);
                row[a..b].fill(true);
            },
        );
        // Shape and length agree by construction.
        Array2::from_shape_vec((h, w), buf).unwrap_or_else(|_| Array2::from_elem((h, w), false))
    }

    /// Number of pixels inside the field.
    pub fn area(&self) -> usize {
        (0..self.height)
            .into_par_iter()
            .map(|y| {
                let (a, b) = self.row_span(y);
                b - a
            })
            .sum()
    }

    /// Outline of the field clipped to the detector, as polygon vertices `(x, y)` (pixel-edge
    /// extent `[-0.5, w-0.5] × [-0.5, h-0.5]`). For a circle: centre-radius is the geometry and
    /// this returns an empty list.
    pub fn corners(&self) -> Vec<[f64; 2]> {
        let (w, h) = (self.width as f64, self.height as f64);
        let frame = vec![[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]];
        match &self.geometry {
            Geometry::None => frame,
            Geometry::Circle { .. } => Vec::new(),
            Geometry::Rect { sides, .. } => {
                let mut poly = frame;
                for s in sides {
                    poly = clip_polygon(&poly, s);
                    if poly.is_empty() {
                        break;
                    }
                }
                poly
            }
        }
    }
}

/// Sutherland–Hodgman clip of a convex polygon by one half-plane.
fn clip_polygon(poly: &[[f64; 2]], hp: &HalfPlane) -> Vec<[f64; 2]> {
    let mut out = Vec::with_capacity(poly.len() + 1);
    for i in 0..poly.len() {
        let a = poly[i];
        let b = poly[(i + 1) % poly.len()];
        let da = hp.distance(a[0], a[1]);
        let db = hp.distance(b[0], b[1]);
        if da >= 0.0 {
            out.push(a);
        }
        if (da >= 0.0) != (db >= 0.0) {
            let t = da / (da - db);
            out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
        }
    }
    out
}

/// Intersection-over-union of two masks of the same shape (1.0 when both are empty).
pub fn iou(a: &Array2<bool>, b: &Array2<bool>) -> f64 {
    let (mut inter, mut uni) = (0usize, 0usize);
    for (x, y) in a.iter().zip(b.iter()) {
        inter += (*x && *y) as usize;
        uni += (*x || *y) as usize;
    }
    if uni == 0 {
        1.0
    } else {
        inter as f64 / uni as f64
    }
}

use crate::frame::{Frame, Plane};

/// Minimum log-signal step across a shutter edge (inside minus outside, natural log units,
/// measured ±`STEP_REACH` low-res pixels from the edge). A collimator blade passes a few percent
/// of the beam while the densest anatomy still passes ≳ 7 %, so real shutter edges clear this
/// by a wide margin; lung/soft-tissue boundaries (≲ 0.35) do not.
pub const STEP_MIN: f64 = 0.4;
/// Log units below the clip level at which a sample still counts as clipped.
pub const CLIP_NEAR: f64 = 0.02;

/// A weaker step still counts where it is a step and not a slope: blade transmission up to 40 %
/// under heavy scatter leaves 0.2–0.4 across a soft edge, while gain seams between detector tiles
/// stay below 0.06. It must then exceed the fall-off just outside the edge (from `STEP_REACH` to
/// `3·STEP_REACH`) by `STEP_EXCESS`: the scatter halo outside a field falls off as steeply as it
/// steps, so any outline drawn in it would otherwise pass.
pub const STEP_WEAK: f64 = 0.15;
pub const STEP_EXCESS: f64 = 0.1;
/// Distance (low-res pixels) either side of an edge at which the step is measured.
pub const STEP_REACH: f64 = 2.0;
/// Fraction of a candidate outline that must show the step for the candidate to count.
pub const SUPPORT_MIN: f64 = 0.5;

/// The reduced log image the detectors work on, with its Sobel gradients.
pub struct LowRes {
    pub log: Plane,
    /// Full-resolution pixels per low-res pixel along each axis.
    pub factor: usize,
    pub gx: Vec<f32>,
    pub gy: Vec<f32>,
    /// Log level at which the panel clipped, if a plateau of it shows (see [`clip_level`]).
    pub clip: Option<f32>,
}

/// Share of the reduced image that must sit exactly at its top level for that level to be the
/// panel's saturation rather than one bright block.
pub const CLIP_PLATEAU_SHARE: f64 = 0.0025;

/// The panel's saturation level in the reduced log image: a panel that clips in direct exposure
/// leaves a plateau of blocks whose every pixel read the same top value, so their log means are
/// bit-identical; noise makes any other level's blocks all differ. Dead pixels (65535) only lift
/// single blocks above it, so the level is the most repeated value among the brightest blocks.
pub fn clip_level(log: &Plane) -> Option<f32> {
    let n = log.data.len();
    let need = ((CLIP_PLATEAU_SHARE * n as f64).ceil() as usize).max(8);
    if n < 2 * need {
        return None;
    }
    let mut top = log.data.clone();
    let k = n - 8 * need.min(n / 8);
    top.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    let mut top = top.split_off(k);
    top.sort_unstable_by(|a, b| b.total_cmp(a));
    let (mut best, mut best_n) = (None, 0usize);
    let mut i = 0;
    while i < top.len() {
        let mut j = i;
        while j < top.len() && top[j] == top[i] {
            j += 1;
        }
        if j - i > best_n {
            (best, best_n) = (Some(top[i]), j - i);
        }
        i = j;
    }
    if best_n >= need {
        best
    } else {
        None
    }
}

impl LowRes {
    pub fn new(log: Plane, factor: usize) -> Self {
        let (w, h) = (log.width, log.height);
        let mut gx = vec![0.0f32; w * h];
        let mut gy = vec![0.0f32; w * h];
        if w >= 3 && h >= 3 {
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let p = |dx: isize, dy: isize| log.at((x as isize + dx) as usize, (y as isize + dy) as usize);
                    let sx = (p(1, -1) + 2.0 * p(1, 0) + p(1, 1)) - (p(-1, -1) + 2.0 * p(-1, 0) + p(-1, 1));
                    let sy = (p(-1, 1) + 2.0 * p(0, 1) + p(1, 1)) - (p(-1, -1) + 2.0 * p(0, -1) + p(1, -1));
                    gx[y * w + x] = sx / 8.0;
                    gy[y * w + x] = sy / 8.0;
                }
            }
        }
        let clip = clip_level(&log);
        LowRes { log, factor, gx, gy, clip }
    }

    /// The short and the long reach of the edge profiles the fine fits sample either side of a
    /// coarse outline (full-resolution pixels): the coarse outline's uncertainty, and at least
    /// [`REFINE_REACH_MIN`]. The sampled profile must hold a soft penumbra whole (σ up to 8 px
    /// spreads the step over ±4σ): centred on such an edge, a shorter one is all slope, and the
    /// median test of [`edge_offset`] refuses it.
    pub fn edge_reaches(&self) -> (usize, usize) {
        let short = 2 * self.factor + 6;
        (short, short.max(REFINE_REACH_MIN))
    }

    /// Full-resolution coordinates of a low-res position.
    #[inline]
    pub fn to_full(&self, x: f64, y: f64) -> (f64, f64) {
        let f = self.factor as f64;
        let c = (f - 1.0) / 2.0;
        (x * f + c, y * f + c)
    }
    /// The inverse of [`LowRes::to_full`].
    pub fn to_low(&self, x: f64, y: f64) -> (f64, f64) {
        let f = self.factor as f64;
        let c = (f - 1.0) / 2.0;
        ((x - c) / f, (y - c) / f)
    }

    /// The same half-plane expressed in full-resolution coordinates.
    pub fn plane_to_full(&self, hp: &HalfPlane) -> HalfPlane {
        let f = self.factor as f64;
        let c = (f - 1.0) / 2.0;
        HalfPlane { nx: hp.nx, ny: hp.ny, rho: f * hp.rho + (hp.nx + hp.ny) * c }
    }
    /// The inverse of [`LowRes::plane_to_full`].
    pub fn plane_to_low(&self, hp: &HalfPlane) -> HalfPlane {
        let f = self.factor as f64;
        let c = (f - 1.0) / 2.0;
        HalfPlane { nx: hp.nx, ny: hp.ny, rho: (hp.rho - (hp.nx + hp.ny) * c) / f }
    }

    #[inline]
    pub fn inside(&self, x: f64, y: f64) -> bool {
        x >= 0.0 && y >= 0.0 && x <= (self.log.width - 1) as f64 && y <= (self.log.height - 1) as f64
    }

    /// Log step from `p - reach·n` (outside) to `p + reach·n` (inside), if both lie in the image.
    #[inline]
    pub fn step(&self, px: f64, py: f64, nx: f64, ny: f64) -> Option<f64> {
        let (ix, iy) = (px + STEP_REACH * nx, py + STEP_REACH * ny);
        let (ox, oy) = (px - STEP_REACH * nx, py - STEP_REACH * ny);
        if !self.inside(ix, iy) || !self.inside(ox, oy) {
            return None;
        }
        Some(self.log.bilinear(ix, iy) - self.log.bilinear(ox, oy))
    }

    /// Whether a side sample counts for (`Some(true)`), against (`Some(false)`) or not at all
    /// (`None`: off the image, or the panel clipped the field side, which then cannot show a step
    /// larger than the clip allows: blade transmission and scatter can bring the shadow side up to
    /// the clip level as well).
    #[inline]
    pub fn step_holds(&self, px: f64, py: f64, nx: f64, ny: f64) -> Option<bool> {
        let step = self.step(px, py, nx, ny)?;
        if step >= STEP_MIN {
            return Some(true);
        }
        if step >= STEP_WEAK {
            let far = 3.0 * STEP_REACH;
            let slope_out = self.log.bilinear(px - STEP_REACH * nx, py - STEP_REACH * ny)
                - self.log.bilinear(px - far * nx, py - far * ny);
            if step - slope_out >= STEP_EXCESS {
                return Some(true);
            }
        }
        match self.clip {
            Some(c) if self.log.bilinear(px + STEP_REACH * nx, py + STEP_REACH * ny) >= c as f64 - CLIP_NEAR => None,
            _ => Some(false),
        }
    }

    /// Pixels with a gradient of at least `min_mag`, as `(x, y, gx, gy)`; the gradient is capped at
    /// magnitude 1 so that a few very sharp features (markers, dead lines) cannot outvote a long edge.
    pub fn edge_points(&self, min_mag: f32) -> Vec<[f32; 4]> {
        let w = self.log.width;
        let mut out = Vec::new();
        for (i, (gx, gy)) in self.gx.iter().zip(self.gy.iter()).enumerate() {
            let m = (gx * gx + gy * gy).sqrt();
            if m >= min_mag {
                let s = if m > 1.0 { 1.0 / m } else { 1.0 };
                out.push([(i % w) as f32, (i / w) as f32, gx * s, gy * s]);
            }
        }
        out
    }
}

/// Shortest long reach of the fine fits' edge profiles (full-resolution pixels).
pub const REFINE_REACH_MIN: usize = 32;

/// Sub-pixel position along `n` (relative to `p`, within ±`reach`) of the steepest rise of the raw
/// signal in direction `n`, averaged over `2·half_width+1` pixels along the edge. `None` when the
/// profile leaves the image or shows no clear rising edge.
pub(crate) fn edge_offset(
    frame: &Frame<'_>,
    p: (f64, f64),
    n: (f64, f64),
    reach: usize,
    half_width: usize,
) -> Option<f64> {
    let m = 2 * reach + 1;
    let t = (-n.1, n.0);
    let (w, h) = (frame.width as f64, frame.height as f64);
    let mut v = vec![0.0f64; m];
    let hw = half_width as isize;
    for (i, vi) in v.iter_mut().enumerate() {
        let s = i as f64 - reach as f64;
        let mut acc = 0.0;
        for k in -hw..=hw {
            let x = (p.0 + s * n.0 + k as f64 * t.0).round();
            let y = (p.1 + s * n.1 + k as f64 * t.1).round();
            if x < 0.0 || y < 0.0 || x >= w || y >= h {
                return None;
            }
            acc += frame.get(x as usize, y as usize) as f64;
        }
        *vi = acc;
    }
    // A one-pixel dip (dead line parallel to the edge) must not look like an edge.
    let mut f = v.clone();
    for i in 1..m - 1 {
        let (a, b, c) = (v[i - 1], v[i], v[i + 1]);
        f[i] = a.max(b).min(a.min(b).max(c));
    }
    let mut d = vec![0.0f64; m];
    for i in 1..m - 1 {
        d[i] = f[i + 1] - f[i - 1];
    }
    let (mut best, mut bi) = (0.0f64, 0usize);
    for (i, di) in d.iter().enumerate().take(m - 2).skip(2) {
        if *di > best {
            best = *di;
            bi = i;
        }
    }
    if bi == 0 || best <= 0.0 {
        return None;
    }
    let mut absd: Vec<f64> = d[1..m - 1].iter().map(|x| x.abs()).collect();
    absd.sort_by(|a, b| a.total_cmp(b));
    let med = absd[absd.len() / 2];
    if best < 4.0 * med {
        return None;
    }
    let (a, b, c) = (d[bi - 1], d[bi], d[bi + 1]);
    let den = a - 2.0 * b + c;
    let delta = if den.abs() > 1e-12 { (0.5 * (a - c) / den).clamp(-0.5, 0.5) } else { 0.0 };
    Some(bi as f64 - reach as f64 + delta)
}

/// Detection result with the time spent in each hypothesis (seconds).
pub struct Detection {
    pub collimation: Collimation,
    /// Two or three fields on one plate (`collimation` is then `none`: no one shutter fits them
    /// all): each of them, for the statistics (see [`Fields`]). Empty otherwise.
    pub fields: Vec<Collimation>,
    pub t_rect: f64,
    pub t_circle: f64,
}

/// Share of a circle's visible outline that must show the shutter step when a rectangle competes
/// with it: a circle drawn in a rectangular field runs along its sides and shows the step along up
/// to about half its outline (0.36–0.51 on the wide development frames).
pub const CIRCLE_SUPPORT_MIN: f64 = 0.6;
/// The same when no rectangle side holds anywhere: nothing else explains the arc. A circle inside
/// a thick body under heavy scatter and bright blades steps where the body is thin and fades where
/// it is thick (wide development frames: 0.47 and 0.54, both lost at 0.6). On the frames without a
/// circle, every candidate at 0.45 or more with a sixth of its outline visible lay in a rectangular
/// field whose sides held (four frames, 0.46–0.51).
pub const CIRCLE_SUPPORT_ALONE: f64 = 0.45;

/// A circle alone whose coarse outline holds on at least this share, but less than it needs, is
/// refined and judged again on the refined outline. Inside bodies under bright blades the step
/// shows only close to the edge: two coarse circles 25–60 px off held on 0.34–0.38, and refined, on
/// ≥ 0.97 (wide development frames). When no rectangle side holds, the refined circle competes with
/// nothing but the open frame; when the rectangle holds no better than the coarse circle (one side
/// along a body's edge, 0.55 against 0.548 on a fifth-set frame whose circle, refined, held on 1.0),
/// the two are judged on the full-resolution edge as in a tie ([`SUPPORT_TIE`]).
pub const CIRCLE_RETRY_MIN: f64 = 0.25;

/// A rectangle holding on less than this share does not rule out a circle whose coarse outline
/// held on at least `CIRCLE_RETRY_MIN`: the circle is refined and, when it then holds better, the
/// two are judged on the full-resolution edge. Four sides at 45° around a circle larger than the
/// panel held on 0.64 against the coarse circle's 0.55 (sixth wide development set); refined, the
/// circle held on 1.0.
pub const RECT_SURE: f64 = 0.8;

/// A circle and a rectangle whose supports on the reduced image differ by less than this are
/// judged again on the full-resolution frame ([`outline::agreement`]). Corner arcs of circles larger
/// than the panel tied with four sides at 45° within 0.004 on the wide development frames.
pub const SUPPORT_TIE: f64 = 0.05;

/// Of a refined rectangle and a refined circle, the one the full-resolution edge agrees with more
/// ([`outline::agreement`]); the rectangle on a tie.
fn on_the_edge(frame: &Frame<'_>, low: &LowRes, rect: Collimation, circle: Collimation) -> Collimation {
    let (short, long) = low.edge_reaches();
    let (on_rect, on_circle) =
        (outline::agreement(frame, &rect, short, long), outline::agreement(frame, &circle, short, long));
    if on_circle > on_rect {
        circle
    } else {
        rect
    }
}

/// The hypothesis the edges support best: rect, circle, a circle the panel clipped, or none.
fn one_field(frame: &Frame<'_>, low: &LowRes, t_rect: &mut f64, t_circle: &mut f64) -> Collimation {
    // Independent searches, each with serial steps: side by side.
    let ((rc, t_rect_coarse), (cc, t_circle_coarse)) = rayon::join(
        || {
            let t = std::time::Instant::now();
            (rect::coarse(low), t.elapsed().as_secs_f64())
        },
        || {
            let t = std::time::Instant::now();
            (circle::coarse(low), t.elapsed().as_secs_f64())
        },
    );
    *t_rect += t_rect_coarse;
    *t_circle += t_circle_coarse;
    let circle_support = cc.as_ref().map(|c| c.support).unwrap_or(0.0);
    let rect_ok = !rc.sides.is_empty();
    let t = std::time::Instant::now();
    let circle_min = if rect_ok { CIRCLE_SUPPORT_MIN } else { CIRCLE_SUPPORT_ALONE };
    if rect_ok && circle_support >= circle_min && (circle_support - rc.support).abs() < SUPPORT_TIE {
        if let Some(cc) = cc {
            // Both outlines hold about equally on the reduced image: the full-resolution edge
            // decides (see `outline`).
            let rect = rect::refine(&rc, frame, low);
            *t_rect += t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let circle = circle::refine(&cc, frame, low);
            let better = on_the_edge(frame, low, rect, circle);
            *t_circle += t.elapsed().as_secs_f64();
            return better;
        }
    }
    if (!rect_ok || rc.support < RECT_SURE) && (CIRCLE_RETRY_MIN..circle_min).contains(&circle_support) {
        if let Some(c) = cc.as_ref() {
            // The coarse circle can sit a few reduced pixels off a soft edge inside a body, where
            // the step shows only right on it: judged again where the fine fit puts it.
            let refined = circle::refine(c, frame, low);
            *t_circle += t.elapsed().as_secs_f64();
            if let Geometry::Circle { cx, cy, r } = refined.geometry {
                if let Some(s) = circle::support_at(low, cx, cy, r).filter(|s| *s >= circle_min) {
                    let circle = Collimation::circle(frame.width, frame.height, cx, cy, r, s);
                    if !rect_ok {
                        return circle;
                    }
                    // A rectangle that holds worse than the refined circle (a side along a body's
                    // edge, sides at 45° around a circle larger than the panel): the two on the
                    // full-resolution frame.
                    if s > rc.support {
                        let t = std::time::Instant::now();
                        let better = on_the_edge(frame, low, rect::refine(&rc, frame, low), circle);
                        *t_rect += t.elapsed().as_secs_f64();
                        return better;
                    }
                }
            }
        }
    }
    let t = std::time::Instant::now();
    if circle_support >= circle_min && (!rect_ok || circle_support > rc.support) {
        // `cc` is Some whenever circle_support > 0.
        let c =
            cc.map(|c| circle::refine(&c, frame, low)).unwrap_or_else(|| Collimation::none(frame.width, frame.height));
        *t_circle += t.elapsed().as_secs_f64();
        c
    } else if rect_ok {
        let c = rect::refine(&rc, frame, low);
        *t_rect += t.elapsed().as_secs_f64();
        c
    } else {
        // Nothing voted: a circular field the panel clipped almost everywhere shows no trusted step.
        let c = circle::from_clip(low)
            .map(|c| circle::refine(&c, frame, low))
            .unwrap_or_else(|| Collimation::none(frame.width, frame.height));
        *t_circle += t.elapsed().as_secs_f64();
        c
    }
}

/// Runs both detectors on the reduced image and keeps the hypothesis the edges support best.
pub fn detect(frame: &Frame<'_>, low: &LowRes) -> Detection {
    let (mut t_rect, mut t_circle) = (0.0, 0.0);
    let collimation = one_field(frame, low, &mut t_rect, &mut t_circle);
    // Two or three fields on one plate: a shutter fitted to one of them would black out the others.
    // Exposed fields the panel clipped glow into the shadow between them, so that they need not
    // pass `exposed_outside`; what the panel clipped far from the field is exposure all the same.
    let clipped = clipped_outside(&collimation, low);
    if clipped || exposed_outside(&collimation, low) {
        let t = std::time::Instant::now();
        let fields = several_fields(frame, low, collimation.clone());
        t_rect += t.elapsed().as_secs_f64();
        // No further field outlined: what shone outside was blade leakage, not an exposure —
        // unless the panel clipped it: then a shutter would black out fields whose edges the
        // clipping hides.
        if !fields.is_empty() || clipped {
            return Detection { collimation: Collimation::none(frame.width, frame.height), fields, t_rect, t_circle };
        }
    }
    Detection { collimation, fields: Vec::new(), t_rect, t_circle }
}

/// Two exposed parts of the rest are tried as one field when they share at least this share of the
/// smaller one's extent across (rows, or columns).
pub const SPLIT_PART_SHARED: f64 = 0.5;

/// Most fields looked for on one plate.
pub const MAX_FIELDS: usize = 3;
/// A further field lies mostly outside those found before: at most this share of it inside them.
pub const FIELD_OVERLAP_MAX: f64 = 0.1;

/// A field detected again with the others painted over replaces the first detection when it lies
/// within it (this share of its reduced pixels inside) and holds at least `SAME_FIELD_SHARE` of it:
/// the first can only have run on past a lost side, into blade shadow.
pub const SAME_FIELD_INSIDE: f64 = 0.9;
pub const SAME_FIELD_SHARE: f64 = 0.5;

/// The fields of a plate exposed two or three times, `first` (the best single hypothesis) among
/// them: each found field is painted over with the blade shadow beside it, and the detectors run
/// again on what is left — and, when they take what is left for one field around the others, on
/// each part of it exposed like a field, alone (first two parts side by side, which a body across
/// one field makes of it). A further field must lie mostly outside the earlier ones and be exposed
/// like the first (its top within `SECOND_FIELD_LEVEL` of the first's). Then each field is detected
/// once more with only the others painted over: found beside them, a field can lose a side to their
/// edges and run on to the detector border through blade shadow.
/// Empty when no second field is found: [`detect`] then keeps `first`. What shone outside it is
/// blade leakage over air around a field of thick anatomy (three wide development frames, none of
/// them found before); before the search tried split parts together, this also blacked out two of
/// the three fields of one development plate, whose other fields it now finds.
pub fn several_fields(frame: &Frame<'_>, low: &LowRes, first: Collimation) -> Vec<Collimation> {
    let (w, h) = (low.log.width, low.log.height);
    let clear = EDGE_CLEARANCE * first.width.max(first.height) as f64;
    let distances = |c: &Collimation| -> Vec<f64> {
        (0..w * h)
            .map(|i| {
                let (fx, fy) = low.to_full((i % w) as f64, (i / w) as f64);
                c.signed_distance(fx, fy)
            })
            .collect()
    };
    // The 99th percentile of the reduced pixels well inside `d` and not yet taken.
    let top_of = |d: &[f64], taken: &[bool]| -> Option<f64> {
        let mut v: Vec<f32> = (0..w * h).filter(|&i| d[i] >= clear && !taken[i]).map(|i| low.log.data[i]).collect();
        if v.len() < 64 {
            return None;
        }
        let k = (v.len() * 99) / 100;
        Some(*v.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1 as f64)
    };
    // The field at distances `d`, its penumbra and scatter spill (`clear` wide) become the blade
    // shadow beside it (the median of the band one clearance further out); None without that band.
    let paint = |log: &mut Plane, taken: &mut [bool], d: &[f64]| -> Option<f32> {
        let mut band: Vec<f32> =
            (0..w * h).filter(|&i| d[i] <= -clear && d[i] > -2.0 * clear && !taken[i]).map(|i| log.data[i]).collect();
        if band.is_empty() {
            return None;
        }
        let k = band.len() / 2;
        let shadow = *band.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1;
        for i in 0..w * h {
            if d[i] > -clear {
                log.data[i] = shadow;
                taken[i] = true;
            }
        }
        Some(shadow)
    };
    // Painting makes edges of its own: at the painted field's outline, and where a part tried
    // alone ends. A further field's outline must show the shutter step on the frame as exposed.
    let holds_unpainted = |c: &Collimation| -> bool {
        let support = match &c.geometry {
            Geometry::Rect { sides, .. } => rect::support_at(low, sides),
            Geometry::Circle { cx, cy, r } => circle::support_at(low, *cx, *cy, *r),
            _ => None,
        };
        support.is_some_and(|s| s >= SUPPORT_MIN)
    };
    let detect_on = |log: Plane| {
        let (mut t_rect, mut t_circle) = (0.0, 0.0);
        one_field(frame, &LowRes::new(log, low.factor), &mut t_rect, &mut t_circle)
    };
    let mut log = low.log.clone();
    let mut taken = vec![false; w * h];
    let mut dists = vec![distances(&first)];
    let Some(first_top) = top_of(&dists[0], &taken) else {
        return Vec::new();
    };
    let mut fields = vec![first];
    let level = (first_top - SECOND_FIELD_LEVEL) as f32;
    let margin = (clear / low.factor as f64).ceil() as usize + 2;
    while fields.len() < MAX_FIELDS {
        let Some(shadow) = paint(&mut log, &mut taken, &dists[dists.len() - 1]) else {
            break;
        };
        // The rest whole; then, should the detectors take the rest for one field (an outline around
        // two fields and the painted one), each part exposed like a field alone, everything more
        // than a clearance beyond its bounding box painted with the shadow.
        let bright: Vec<bool> = (0..w * h).map(|i| !taken[i] && low.log.data[i] >= level).collect();
        let mut parts = Vec::new();
        crate::morph::components8(&bright, w, h, |c, bbox| {
            if c.len() as f64 >= SECOND_FIELD_SHARE * (w * h) as f64 {
                parts.push((c.len(), bbox));
            }
        });
        parts.sort_by_key(|p| std::cmp::Reverse(p.0));
        let alone = |(x0, x1, y0, y1): (usize, usize, usize, usize)| {
            let mut iso = log.clone();
            for (i, v) in iso.data.iter_mut().enumerate() {
                let (x, y) = (i % w, i / w);
                if x + margin < x0 || x > x1 + margin || y + margin < y0 || y > y1 + margin {
                    *v = shadow;
                }
            }
            iso
        };
        // A body across a field splits its exposed part in two, side by side along the field:
        // two parts that share most of their extent across are tried together first (alone, either
        // would get a side where the painting begins).
        let boxes: Vec<(usize, usize, usize, usize)> = parts.iter().map(|p| p.1).collect();
        let shared = |a0: usize, a1: usize, b0: usize, b1: usize| {
            let common = a1.min(b1) as f64 - a0.max(b0) as f64;
            common >= SPLIT_PART_SHARED * (a1 - a0).min(b1 - b0) as f64
        };
        let pairs: Vec<_> = boxes
            .iter()
            .enumerate()
            .flat_map(|(i, &a)| boxes[i + 1..].iter().map(move |&b| (a, b)))
            .filter(|(a, b)| shared(a.2, a.3, b.2, b.3) || shared(a.0, a.1, b.0, b.1))
            .map(|(a, b)| (a.0.min(b.0), a.1.max(b.1), a.2.min(b.2), a.3.max(b.3)))
            .collect();
        let tries = std::iter::once(log.clone()).chain(pairs.iter().chain(&boxes).map(|&bbox| alone(bbox)));
        let found = tries.map(&detect_on).find_map(|next| {
            if next.kind == CollimationKind::None {
                return None;
            }
            let d = distances(&next);
            let inside = d.iter().filter(|v| **v >= 0.0).count();
            let overlap = (0..w * h).filter(|&i| d[i] >= 0.0 && taken[i]).count();
            if inside == 0 || overlap as f64 > FIELD_OVERLAP_MAX * inside as f64 {
                return None;
            }
            if !holds_unpainted(&next) {
                return None;
            }
            matches!(top_of(&d, &taken), Some(top) if top >= first_top - SECOND_FIELD_LEVEL).then_some((next, d))
        });
        let Some((next, d)) = found else {
            break;
        };
        fields.push(next);
        dists.push(d);
    }
    if fields.len() < 2 {
        return Vec::new();
    }
    // Each field again, side by side (the detectors have serial steps).
    let again: Vec<Option<Collimation>> = (0..fields.len())
        .into_par_iter()
        .map(|i| {
            let (mut log, mut taken) = (low.log.clone(), vec![false; w * h]);
            for (j, d) in dists.iter().enumerate() {
                if j != i {
                    paint(&mut log, &mut taken, d);
                }
            }
            let again = detect_on(log);
            if again.kind == CollimationKind::None {
                return None;
            }
            let d = distances(&again);
            let both = (0..w * h).filter(|&k| d[k] >= 0.0 && dists[i][k] >= 0.0).count();
            let now = d.iter().filter(|v| **v >= 0.0).count();
            let before = dists[i].iter().filter(|v| **v >= 0.0).count();
            let within = both as f64 >= SAME_FIELD_INSIDE * now.max(1) as f64;
            (within && now as f64 >= SAME_FIELD_SHARE * before as f64).then_some(again)
        })
        .collect();
    for (f, a) in fields.iter_mut().zip(again) {
        if let Some(a) = a {
            *f = a;
        }
    }
    fields
}

/// The area the statistics (direct exposure, anatomy, EI, window) are taken over: the field of
/// `coll`, or, on a plate with several fields (`coll` none), their union. The blade shadow
/// between those fields is neither direct exposure nor anatomy.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    pub coll: &'a Collimation,
    pub several: &'a [Collimation],
}

impl Fields<'_> {
    pub fn width(&self) -> usize {
        self.coll.width
    }
    pub fn height(&self) -> usize {
        self.coll.height
    }
    /// [`Collimation::signed_distance_row`] of the union: the largest over the fields.
    pub fn signed_distance_row(&self, xs: &[f64], y: f64, out: &mut [f64]) {
        if self.several.is_empty() {
            return self.coll.signed_distance_row(xs, y, out);
        }
        out.fill(f64::NEG_INFINITY);
        let mut one = vec![0f64; xs.len()];
        for f in self.several {
            f.signed_distance_row(xs, y, &mut one);
            for (o, v) in out.iter_mut().zip(&one) {
                *o = o.max(*v);
            }
        }
    }
    /// The columns of row `y` from the first field pixel to the last (shadow between fields included).
    pub fn row_span(&self, y: usize) -> (usize, usize) {
        if self.several.is_empty() {
            return self.coll.row_span(y);
        }
        let spans = self.several.iter().map(|f| f.row_span(y)).filter(|(a, b)| a < b);
        spans.fold((0, 0), |(a, b), (x0, x1)| if a >= b { (x0, x1) } else { (a.min(x0), b.max(x1)) })
    }
    /// The spans of row `y` inside each field, when there are several (empty otherwise).
    pub fn spans_of_row(&self, y: usize) -> Vec<(usize, usize)> {
        self.several.iter().map(|f| f.row_span(y)).filter(|(a, b)| a < b).collect()
    }
}

/// Outside the field and clear of its edge, at least this share of the frame is exposed like the
/// field's own direct exposure: another field, not blade shadow.
pub const SECOND_FIELD_SHARE: f64 = 0.01;
/// Log units below the field's direct exposure (its 99th percentile) that still count as exposed:
/// heel effect and fall-off move the open-field level by up to ±20 % (0.22), while a blade passes
/// at most 40 % (−0.92) and the scatter under it fades away from the field.
pub const SECOND_FIELD_LEVEL: f64 = 0.3;
/// The field's level must be that of direct exposure, which is known when its 99th percentile lies
/// this far above its median (more than the thin and thick parts of a body differ) — or, for a
/// field mostly of direct exposure, whose median is then the direct level itself, when its top is
/// a plateau (below). Either way nothing outside may be brighter than that percentile by more than
/// `SECOND_FIELD_LEVEL`: another field exposed by the same tube is as bright as this one's direct
/// exposure, give or take the heel effect, while blade leakage outranks a field only when that
/// field holds anatomy alone (on the wide development frames: another field −0.18…+0.18 from the
/// field's top, leakage beside a field of anatomy +0.49…+1.13). A thick body spreads over more than
/// `DIRECT_ABOVE_MEDIAN` by itself, so the spread alone does not make its top direct exposure. A
/// field of anatomy alone, whose brightest part blade leakage can match, is left as detected.
pub const DIRECT_ABOVE_MEDIAN: f64 = 0.8;
/// A field mostly of direct exposure has a plateau at its top: at least this share of it within
/// `DIRECT_PLATEAU_DEPTH` (log units) of its 99th percentile. The thinnest part of a body is a
/// tail, not a plateau (wide development frames: fields of anatomy 0.03–0.11 but one, 0.31;
/// several fields 0.20–0.64).
pub const DIRECT_PLATEAU_SHARE: f64 = 0.15;
pub const DIRECT_PLATEAU_DEPTH: f64 = 0.1;
/// The heel effect tilts direct exposure across a field, by up to ±15 % (0.3 in log units end to
/// end), more than `DIRECT_PLATEAU_DEPTH`: the plateau is also measured about a plane fitted to
/// the field's part within this of its top (a field of three on a sixth-set plate, heel 15 %:
/// 0.147 of it about the flat top, every field blacked out but that one).
pub const HEEL_DRIFT: f64 = 0.3;

/// Share of `pts` (reduced x, y, log level) within `DIRECT_PLATEAU_DEPTH` of the top of their
/// residuals about a plane fitted to those within `HEEL_DRIFT` of `top`; `None` when the fit is
/// singular (a line of pixels).
fn tilted_plateau(pts: &[(f64, f64, f64)], top: f64) -> Option<f64> {
    // Normal equations of v = a + b·x + c·y over the bright part, about its mean for conditioning.
    let bright: Vec<&(f64, f64, f64)> = pts.iter().filter(|p| p.2 >= top - HEEL_DRIFT).collect();
    let n = bright.len() as f64;
    if n < 3.0 {
        return None;
    }
    let (mx, my, mv) = bright.iter().fold((0.0, 0.0, 0.0), |a, p| (a.0 + p.0 / n, a.1 + p.1 / n, a.2 + p.2 / n));
    let (mut sxx, mut sxy, mut syy, mut sxv, mut syv) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in &bright {
        let (dx, dy, dv) = (p.0 - mx, p.1 - my, p.2 - mv);
        (sxx, sxy, syy, sxv, syv) = (sxx + dx * dx, sxy + dx * dy, syy + dy * dy, sxv + dx * dv, syv + dy * dv);
    }
    let det = sxx * syy - sxy * sxy;
    if det.abs() <= 1e-9 * (sxx * syy).max(1e-12) {
        return None;
    }
    let (b, c) = ((sxv * syy - syv * sxy) / det, (syv * sxx - sxv * sxy) / det);
    let mut res: Vec<f64> = pts.iter().map(|p| p.2 - mv - b * (p.0 - mx) - c * (p.1 - my)).collect();
    let k = (res.len() * 99) / 100;
    let (_, r_top, _) = res.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    let r_top = *r_top;
    Some(res.iter().filter(|r| **r >= r_top - DIRECT_PLATEAU_DEPTH).count() as f64 / res.len() as f64)
}

/// Distance from a field, in `EDGE_CLEARANCE`s, beyond which its glow no longer clips the panel.
pub const CLIPPED_FAR: f64 = 3.0;

/// Whether the panel clipped at least `SECOND_FIELD_SHARE` of the frame inside `c` and as much in
/// parts of its own, not joined to the field's clipped pixels, `CLIPPED_FAR` clearances or more
/// outside it. A clipped field's scatter glow can clip the panel 1–2 clearances past its edge, and
/// blade leakage over air can clip a panel that clips low; but then the clipping outside either
/// outshines the field or runs on from the clipped air inside it across the blades' edge.
pub fn clipped_outside(c: &Collimation, low: &LowRes) -> bool {
    let Some(clip) = low.clip.filter(|_| c.kind != CollimationKind::None) else {
        return false;
    };
    let (w, h) = (low.log.width, low.log.height);
    let clear = EDGE_CLEARANCE * c.width.max(c.height) as f64;
    let near_clip = clip - CLIP_NEAR as f32;
    let clipped: Vec<bool> = low.log.data.iter().map(|&v| v >= near_clip).collect();
    let (mut clipped_in, mut apart) = (0usize, 0usize);
    crate::morph::components8(&clipped, w, h, |part, _| {
        let (mut inside, mut far) = (0usize, 0usize);
        for &i in part {
            let (fx, fy) = low.to_full((i % w) as f64, (i / w) as f64);
            let d = c.signed_distance(fx, fy);
            if d >= clear {
                inside += 1;
            } else if d < -CLIPPED_FAR * clear {
                far += 1;
            }
        }
        clipped_in += inside;
        if inside == 0 {
            apart += far;
        }
    });
    let need = SECOND_FIELD_SHARE * (w * h) as f64;
    clipped_in as f64 >= need && apart as f64 >= need
}

/// Pixels within this share of the frame's larger side from the edge (penumbra, scatter spill)
/// belong to neither side.
pub const EDGE_CLEARANCE: f64 = 0.03;
/// Between two fields lies blade shadow: the band just outside the edge (one clearance wide) must be
/// darker than the exposed level outside by this much (log units). Blade leakage with its scatter
/// is brightest right at the edge and fades away from it, so a single field fails this.
pub const SHADOW_BELOW: f64 = 0.5;

/// Whether the frame holds exposure outside `c` that only another field can explain.
pub fn exposed_outside(c: &Collimation, low: &LowRes) -> bool {
    if c.kind == CollimationKind::None {
        return false;
    }
    let clear = EDGE_CLEARANCE * c.width.max(c.height) as f64;
    let (w, h) = (low.log.width, low.log.height);
    let (mut inside_at, mut outside, mut band) = (Vec::new(), Vec::new(), Vec::new());
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = low.to_full(x as f64, y as f64);
            let d = c.signed_distance(fx, fy);
            if d >= clear {
                inside_at.push((x as f64, y as f64, low.log.at(x, y) as f64));
            } else if d <= -2.0 * clear {
                outside.push(low.log.at(x, y));
            } else if d <= -clear {
                band.push(low.log.at(x, y));
            }
        }
    }
    if inside_at.len() < 64 || outside.is_empty() || band.is_empty() {
        return false;
    }
    let mut inside: Vec<f32> = inside_at.iter().map(|p| p.2 as f32).collect();
    inside.sort_by(|a, b| a.total_cmp(b));
    let median = inside[inside.len() / 2] as f64;
    let top = inside[(inside.len() * 99) / 100] as f64;
    if top - median < DIRECT_ABOVE_MEDIAN {
        let plateau = inside.len() - inside.partition_point(|v| (*v as f64) < top - DIRECT_PLATEAU_DEPTH);
        let share = plateau as f64 / inside.len() as f64;
        if share < DIRECT_PLATEAU_SHARE && tilted_plateau(&inside_at, top).is_none_or(|s| s < DIRECT_PLATEAU_SHARE) {
            return false;
        }
    }
    let k = (outside.len() * 99) / 100;
    let (_, outside_top, _) = outside.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    if *outside_top as f64 > top + SECOND_FIELD_LEVEL {
        return false;
    }
    let level = (top - SECOND_FIELD_LEVEL) as f32;
    let bright = outside.iter().filter(|&&v| v >= level).count();
    if (bright as f64) < SECOND_FIELD_SHARE * (w * h) as f64 {
        return false;
    }
    band.sort_by(|a, b| a.total_cmp(b));
    (band[band.len() / 2] as f64) <= level as f64 - SHADOW_BELOW
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An axis-aligned field holding the pixel centres `x0..=x1`, `y0..=y1`.
    fn field(w: usize, h: usize, (x0, x1, y0, y1): (f64, f64, f64, f64)) -> Collimation {
        let sides = vec![
            HalfPlane { nx: 1.0, ny: 0.0, rho: x0 },
            HalfPlane { nx: -1.0, ny: 0.0, rho: -x1 },
            HalfPlane { nx: 0.0, ny: 1.0, rho: y0 },
            HalfPlane { nx: 0.0, ny: -1.0, rho: -y1 },
        ];
        Collimation::rect(w, h, sides, 0.0, 1.0)
    }

    /// A 100 × 60 field: direct exposure tilted by the heel effect from 9.0 to 8.7 along x, a body
    /// (an ellipse of 6.0–7.5) over 70 % of it. About its flat top too little of it lies
    /// within `DIRECT_PLATEAU_DEPTH` to read as a plateau; about the fitted plane all of the
    /// direct exposure does.
    #[test]
    fn direct_exposure_tilted_by_the_heel_is_a_plateau() {
        let mut pts = Vec::new();
        for y in 0..60 {
            for x in 0..100 {
                let (dx, dy) = ((x as f64 - 50.0) / 48.0, (y as f64 - 30.0) / 29.0);
                let r2 = dx * dx + dy * dy;
                let open = 9.0 - 0.3 * x as f64 / 99.0 + 1e-3 * ((x * 31 + y * 17) % 7) as f64;
                pts.push((x as f64, y as f64, if r2 < 1.0 { 6.0 + 1.5 * r2 } else { open }));
            }
        }
        let mut v: Vec<f64> = pts.iter().map(|p| p.2).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let top = v[(v.len() * 99) / 100];
        let flat = v.iter().filter(|x| **x >= top - DIRECT_PLATEAU_DEPTH).count() as f64 / v.len() as f64;
        let open = v.iter().filter(|x| **x >= 8.0).count() as f64 / v.len() as f64;
        assert!(flat < DIRECT_PLATEAU_SHARE, "about the flat top {flat}");
        let tilted = tilted_plateau(&pts, top).expect("a plane fits");
        assert!(tilted >= 0.95 * open, "about the plane {tilted} of the direct exposure's {open}");
    }

    #[test]
    fn several_fields_read_as_their_union() {
        let (w, h) = (100, 60);
        let none = Collimation::none(w, h);
        let several = [field(w, h, (10.0, 29.0, 5.0, 40.0)), field(w, h, (50.0, 89.0, 20.0, 55.0))];
        let fields = Fields { coll: &none, several: &several };
        // Row 10 crosses the first field only, row 30 both (shadow between them included), row 58 none.
        assert_eq!(fields.row_span(10), (10, 30));
        assert_eq!(fields.spans_of_row(10), vec![(10, 30)]);
        assert_eq!(fields.row_span(30), (10, 90));
        assert_eq!(fields.spans_of_row(30), vec![(10, 30), (50, 90)]);
        assert_eq!(fields.row_span(58), (0, 0));
        // Signed distance: the larger of the two, positive inside either, negative in the shadow.
        let xs = [20.0, 40.0, 70.0];
        let mut out = [0.0; 3];
        fields.signed_distance_row(&xs, 30.0, &mut out);
        assert_eq!(out, [9.0, -10.0, 10.0]);
        // One field: the collimation's own figures.
        let one = Fields { coll: &several[0], several: &[] };
        assert_eq!(one.row_span(30), several[0].row_span(30));
    }

    /// A 200² reduced image (factor 1) with the field (60..=139)² holding a body whose log level
    /// ramps from 4.0 to 6.0 across it (top − median ≈ 1, more than `DIRECT_ABOVE_MEDIAN`), the
    /// band just past the edge at 4.0 (body behind the blades) and the rest at `outside`.
    fn field_of_anatomy(outside: f32) -> (Collimation, LowRes) {
        let (w, h) = (200, 200);
        let c = field(w, h, (60.0, 139.0, 60.0, 139.0));
        let mut log = Plane::zeros(w, h);
        for y in 0..h {
            for x in 0..w {
                let d = c.signed_distance(x as f64, y as f64);
                log.data[y * w + x] = if d >= 0.0 {
                    4.0 + 2.0 * (x - 60) as f32 / 79.0
                } else if d > -12.0 {
                    4.0
                } else {
                    outside
                };
            }
        }
        (c, LowRes::new(log, 1))
    }

    #[test]
    fn leakage_that_outshines_a_field_of_anatomy_is_no_second_field() {
        // Air behind 35 % blades, 0.8 above the field's top: the field holds no direct exposure to
        // compare with, whatever its spread.
        let (c, low) = field_of_anatomy(6.8);
        assert!(!exposed_outside(&c, &low));
        // Exposed as bright as the field's top, past a shadow: another field.
        let (c, low) = field_of_anatomy(6.0);
        assert!(exposed_outside(&c, &low));
    }
}
