//! Seeded synthetic raw detector frames with ground truth, for tests, benchmarks and the demo
//! detector.
//!
//! Physics, per pixel (x = column, y = row):
//! * incident kerma `K0(x, y)`: nominal 10 µGy × dose scale, with a heel-effect gradient (±8 %)
//!   along one axis and a mild inverse-square fall-off towards the corners;
//! * anatomy as attenuation in the log domain, `A = Σ μ·chord(ellipse)`: a body ellipse, 1–3
//!   bones, optional air-filled (negative) regions, a smooth random texture; `A ≤ 2.6`;
//! * primary `K0·exp(−A)`, times the shutter transmission (blade leakage 1–4 %, logistic penumbra
//!   of σ ≈ 0.63 px);
//! * scatter: a broad blur of the collimated primary (scatter-to-primary 0.15–0.45), so it spills
//!   outside the field and fades with distance from it;
//! * lead markers (2–5 % transmission) inside the field;
//! * quantum noise (variance 0.5 DN per DN) plus 3 DN electronic noise, rounding and clipping to
//!   16 bits, then dead pixels (0 or 65535) and dead lines (0).
//!
//! [`Physics::Wide`] widens this per frame (see its doc): penumbra σ 1–8 px, blade transmission
//! 0–40 %, scatter fraction to 60 %, heel ±15 %, rotation ±45°, tight collimation with thick anatomy
//! filling the field, gain seams between detector tiles, stationary grid lines near Nyquist, a panel
//! that saturates in direct exposure, metal implants, paediatric small fields, and two or three
//! rectangular fields on one frame (a split cassette: [`MULTI_FIELD_CHANCE`] of rectangle frames).
//!
//! Independence from the detector: this module uses nothing of the detection code (its own field
//! geometry, signed distance, rasteriser and gain; `tests/imaging/test_phantom_truth.py` enforces it)
//! and hands its scene out as plain numbers ([`Phantom::scene`]) so that the tests rasterise the truth
//! a second time on their own. Raw values: [`DN_PER_UGY`] DN per µGy, offset 0.
//! Everything derives from the seed; rows are generated in parallel from per-row RNG streams, so
//! the output is identical for a given spec whatever the thread count.

use ndarray::Array2;
use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

/// Ground-truth anatomy attenuates the beam by at least this much (log units, ≈ 14 %).
pub const ANATOMY_MIN_ATTENUATION: f64 = 0.15;
/// Below this attenuation (log units) a field pixel is direct exposure.
pub const DIRECT_MAX_ATTENUATION: f64 = 0.02;
/// Gain of the simulated panel: DN per µGy, offset 0.
pub const DN_PER_UGY: f64 = 1000.0;
/// Nominal open-field kerma at dose scale 1, µGy.
pub const NOMINAL_UGY: f64 = 10.0;
/// Phantom sizes accepted (pixels per side, and in total): its own limits, not the frame checker's.
const SIDE_RANGE: (usize, usize) = (16, 16_384);
const MAX_TOTAL: usize = 120_000_000;

/// splitmix64: tiny, fast, good enough for synthetic data, and stable across platforms.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.f64()
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Standard normal (Box–Muller; one value per call keeps streams simple).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Shutter shape of a phantom (the phantom's own type, not the detector's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Rect,
    Circle,
    /// No shutter: the whole panel is exposed.
    Open,
}

impl FieldKind {
    /// The names the API uses ("none" for an open field).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rect" => Some(FieldKind::Rect),
            "circle" => Some(FieldKind::Circle),
            "none" => Some(FieldKind::Open),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Rect => "rect",
            FieldKind::Circle => "circle",
            FieldKind::Open => "none",
        }
    }
}

/// Which physics to draw per frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Physics {
    /// The phantom the chain was developed on: sharp penumbra (σ ≈ 0.63 px), 1–4 % blade leakage,
    /// scatter-to-primary 0.15–0.45, rotation within ±20°, heel ±3–8 %.
    Classic,
    /// Wider: penumbra σ 1–8 px, blade transmission 0–40 %, scatter fraction 13–60 % (SPR 0.15–1.5),
    /// rotation ±45°, heel ±3–15 %, and in 40 % of collimated frames a tight field: the body fills
    /// the field and is thick (attenuation to 4.0 ≈ 25–30 cm of tissue), at 0.08–3× dose as always.
    /// A rectangle frame carries two or three fields side by side or stacked in
    /// [`MULTI_FIELD_CHANCE`] of cases, each with its own body (see [`MultiField`]).
    Wide,
}

impl Physics {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "classic" => Some(Physics::Classic),
            "wide" => Some(Physics::Wide),
            _ => None,
        }
    }
}

/// The field as the phantom draws it. A pixel (centre on integer coordinates, x = column) is in
/// the field when its signed distance is ≥ 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    Open,
    /// Centre, half width/height along the rotated axes, rotation (degrees, +x towards +y).
    Rect {
        cx: f64,
        cy: f64,
        hw: f64,
        hh: f64,
        angle_deg: f64,
    },
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
    },
}

impl Field {
    pub fn kind(&self) -> FieldKind {
        match self {
            Field::Open => FieldKind::Open,
            Field::Rect { .. } => FieldKind::Rect,
            Field::Circle { .. } => FieldKind::Circle,
        }
    }

    /// Distance (pixels) to the field edge, positive inside, `+inf` for an open field.
    #[inline]
    pub fn signed_distance(&self, x: f64, y: f64) -> f64 {
        match *self {
            Field::Open => f64::INFINITY,
            Field::Rect { cx, cy, hw, hh, angle_deg } => {
                let (s, c) = angle_deg.to_radians().sin_cos();
                let (dx, dy) = (x - cx, y - cy);
                let u = dx * c + dy * s;
                let v = -dx * s + dy * c;
                (hw - u.abs()).min(hh - v.abs())
            }
            Field::Circle { cx, cy, r } => r - ((x - cx).powi(2) + (y - cy).powi(2)).sqrt(),
        }
    }

    /// Whether a lead marker of `size` centred at `(x, y)` lies `clearance` clear of the field's
    /// edge (beyond its own size) and wholly on the `(width, height)` panel.
    fn holds_marker(&self, x: f64, y: f64, size: f64, clearance: f64, (wf, hf): (f64, f64)) -> bool {
        self.signed_distance(x, y) >= size + clearance && x >= size && y >= size && x <= wf - size && y <= hf - size
    }

    /// Corners of a rectangle (x, y), in order around it; empty otherwise.
    pub fn corners(&self) -> Vec<(f64, f64)> {
        match *self {
            Field::Rect { cx, cy, hw, hh, angle_deg } => {
                let (s, c) = angle_deg.to_radians().sin_cos();
                [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
                    .iter()
                    .map(|&(u, v)| (cx + u * c - v * s, cy + u * s + v * c))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct PhantomSpec {
    pub width: usize,
    pub height: usize,
    pub kind: FieldKind,
    pub seed: u64,
    /// Multiplier on the nominal dose; `None` draws one from the seed (0.08–3, log-uniform).
    pub dose_scale: Option<f64>,
    /// Dead pixels and dead lines.
    pub defects: bool,
    /// Lead markers inside the field.
    pub markers: bool,
    pub physics: Physics,
}

impl PhantomSpec {
    pub fn new(width: usize, height: usize, kind: FieldKind, seed: u64) -> Self {
        PhantomSpec {
            width,
            height,
            kind,
            seed,
            dose_scale: None,
            defects: true,
            markers: true,
            physics: Physics::Classic,
        }
    }
}

/// An ellipse of the anatomy as plain numbers: centre, semi-axes, rotation (cos, sin), μ.
/// Its chord factor at (x, y) is `sqrt(1 − q)` for `q = u²/a² + v²/b² < 1`, with
/// `u = dx·cos + dy·sin`, `v = −dx·sin + dy·cos`.
pub type EllipseParams = [f64; 7];

/// The scene in plain numbers, enough to rasterise the truth without this module:
/// `A(x, y) = clamp(body.mu·c_body + Σ inner.mu·c_i + tex_amp·T(x, y)·min(4·c_body, 1), 0, max_attenuation)`
/// where the body chord `c_body > 0` (else A = 0) and `T` is the `tex_n × tex_n` grid (row-major,
/// `tex[j·n + i]`) interpolated with smoothstep weights at `gx = x/width·(n−1)`, `gy = y/height·(n−1)`
/// (cell index clamped to n−2). Markers are axis-aligned boxes `|x − cx| ≤ hw ∧ |y − cy| ≤ hh`.
///
/// A frame with several fields (wide physics) has them in `field` and `more_fields`: a pixel is in
/// the field when it is in any of them, and the shutter transmission follows the largest signed
/// distance. Each further field's patient is in `more_bodies`; `A` is then the sum of the above over
/// `(body, inner, implants)` and each entry of `more_bodies` (the texture shared, each clamped and
/// given its metal on its own).
#[derive(Clone, Debug)]
pub struct SceneParams {
    pub field: Field,
    /// The other fields of a frame with two or three; empty otherwise.
    pub more_fields: Vec<Field>,
    /// The patients in `more_fields`, one each.
    pub more_bodies: Vec<BodyParams>,
    pub body: EllipseParams,
    pub inner: Vec<EllipseParams>,
    pub tex: Vec<f64>,
    pub tex_n: usize,
    pub tex_amp: f64,
    pub max_attenuation: f64,
    /// (cx, cy, hw, hh, transmission).
    pub markers: Vec<[f64; 5]>,
    /// Logistic scale of the penumbra, pixels (σ = scale·π/√3).
    pub penumbra_scale: f64,
    /// Blade transmission outside the field.
    pub blade_transmission: f64,
    /// Scatter-to-primary ratio of the collimated primary.
    pub scatter_to_primary: f64,
    pub heel: f64,
    pub dn_per_ugy: f64,
    /// Metal implants `(cx, cy, half length, half width, cos, sin, μ)`: rotated boxes,
    /// `|dx·cos + dy·sin| ≤ half length ∧ |−dx·sin + dy·cos| ≤ half width`, inside the body only,
    /// added to A after its clamp: `A = min(A + Σ μ, IMPLANT_MAX_ATTENUATION)` where any covers the pixel.
    pub implants: Vec<[f64; 7]>,
    /// Detector tiles (columns, rows) and their residual gains, row-major.
    pub tiles: (usize, usize),
    pub tile_gain: Vec<f64>,
    /// Grid lines (cycles per pixel, modulation, phase, 1 = lines across x / 0 = across y).
    pub grid: Option<[f64; 4]>,
    /// The raw value at which the panel saturates.
    pub saturation_dn: f64,
    pub paediatric: bool,
}

/// One patient of a multi-field frame as plain numbers (the same meaning as in [`SceneParams`]).
#[derive(Clone, Debug)]
pub struct BodyParams {
    pub body: EllipseParams,
    pub inner: Vec<EllipseParams>,
    pub implants: Vec<[f64; 7]>,
}

/// A generated frame with its ground truth.
pub struct Phantom {
    pub raw: Array2<u16>,
    pub scene: SceneParams,
    pub field_mask: Array2<bool>,
    /// Direct (unattenuated) exposure inside the field.
    pub direct_mask: Array2<bool>,
    /// Field pixels behind the patient (attenuation ≥ `ANATOMY_MIN_ATTENUATION`), markers excluded.
    /// The skin line between it and direct exposure (0.02 ≤ A < 0.15) belongs to neither.
    pub anatomy_mask: Array2<bool>,
    /// Lead markers inside the field.
    pub marker_mask: Array2<bool>,
    pub dose_scale: f64,
}

#[derive(Clone, Copy)]
struct Ellipse {
    cx: f64,
    cy: f64,
    a: f64,
    b: f64,
    cos: f64,
    sin: f64,
    mu: f64,
}

impl Ellipse {
    fn params(&self) -> EllipseParams {
        [self.cx, self.cy, self.a, self.b, self.cos, self.sin, self.mu]
    }

    #[inline]
    fn chord(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let u = (dx * self.cos + dy * self.sin) / self.a;
        let v = (-dx * self.sin + dy * self.cos) / self.b;
        let q = u * u + v * v;
        if q >= 1.0 {
            0.0
        } else {
            (1.0 - q).sqrt()
        }
    }
}

struct Scene {
    w: usize,
    h: usize,
    k0_dn: f64,
    heel: f64,
    heel_axis_x: bool,
    body: Ellipse,
    inner: Vec<Ellipse>,
    tex: Vec<f64>,
    tex_n: usize,
    tex_amp: f64,
    max_attenuation: f64,
    field: Field,
    leak: f64,
    penumbra_scale: f64,
    /// (cx, cy, hw, hh, transmission).
    markers: Vec<[f64; 5]>,
    /// (cx, cy, half length, half width, cos, sin, μ): rotated boxes of metal inside the body.
    implants: Vec<[f64; 7]>,
    /// Further fields of a multi-field frame and their patients (empty otherwise).
    more_fields: Vec<Field>,
    more_bodies: Vec<Patient>,
}

/// A patient of a further field: body, inner ellipses, implants.
struct Patient {
    body: Ellipse,
    inner: Vec<Ellipse>,
    implants: Vec<[f64; 7]>,
}

/// Metal in the patient reaches this attenuation at most (log units, 0.15 % transmission).
pub const IMPLANT_MAX_ATTENUATION: f64 = 6.5;

impl Scene {
    #[inline]
    fn incident(&self, x: f64, y: f64) -> f64 {
        let (w, h) = (self.w as f64, self.h as f64);
        let t = if self.heel_axis_x { x / w } else { y / h } - 0.5;
        let (dx, dy) = (x / w - 0.5, y / h - 0.5);
        self.k0_dn * (1.0 + 2.0 * self.heel * t) * (1.0 - 0.12 * (dx * dx + dy * dy))
    }

    #[inline]
    fn texture(&self, x: f64, y: f64) -> f64 {
        let n = self.tex_n;
        let gx = (x / self.w as f64) * (n - 1) as f64;
        let gy = (y / self.h as f64) * (n - 1) as f64;
        let (ix, iy) = ((gx as usize).min(n - 2), (gy as usize).min(n - 2));
        let (fx, fy) = (gx - ix as f64, gy - iy as f64);
        let (fx, fy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let t = |i: usize, j: usize| self.tex[j * n + i];
        let a = t(ix, iy) * (1.0 - fx) + t(ix + 1, iy) * fx;
        let b = t(ix, iy + 1) * (1.0 - fx) + t(ix + 1, iy + 1) * fx;
        a * (1.0 - fy) + b * fy
    }

    /// Attenuation (log units) of the patients at (x, y).
    #[inline]
    fn attenuation(&self, x: f64, y: f64) -> f64 {
        let mut a = self.body_attenuation(&self.body, &self.inner, &self.implants, x, y);
        for p in &self.more_bodies {
            a += self.body_attenuation(&p.body, &p.inner, &p.implants, x, y);
        }
        a
    }

    /// Attenuation (log units) of one patient at (x, y).
    #[inline]
    fn body_attenuation(&self, body: &Ellipse, inner: &[Ellipse], implants: &[[f64; 7]], x: f64, y: f64) -> f64 {
        let c = body.chord(x, y);
        if c <= 0.0 {
            return 0.0;
        }
        let mut a = body.mu * c;
        for e in inner {
            a += e.mu * e.chord(x, y);
        }
        a += self.tex_amp * self.texture(x, y) * (c * 4.0).min(1.0);
        let a = a.clamp(0.0, self.max_attenuation);
        let metal: f64 = implants
            .iter()
            .filter(|m| {
                let (dx, dy) = (x - m[0], y - m[1]);
                (dx * m[4] + dy * m[5]).abs() <= m[2] && (-dx * m[5] + dy * m[4]).abs() <= m[3]
            })
            .map(|m| m[6])
            .sum();
        if metal > 0.0 {
            (a + metal).min(IMPLANT_MAX_ATTENUATION)
        } else {
            a
        }
    }

    #[inline]
    fn marker(&self, x: f64, y: f64) -> Option<f64> {
        for m in &self.markers {
            if (x - m[0]).abs() <= m[2] && (y - m[1]).abs() <= m[3] {
                return Some(m[4]);
            }
        }
        None
    }

    /// Distance (pixels) to the edge of the nearest field, positive inside one.
    #[inline]
    fn signed_distance(&self, x: f64, y: f64) -> f64 {
        self.more_fields.iter().fold(self.field.signed_distance(x, y), |d, f| d.max(f.signed_distance(x, y)))
    }

    /// Shutter transmission: 1 inside, `leak` outside, logistic penumbra across the edge.
    #[inline]
    fn shutter(&self, x: f64, y: f64) -> f64 {
        let d = self.signed_distance(x, y);
        if d > (20.0 * self.penumbra_scale).max(8.0) {
            return 1.0;
        }
        let s = 1.0 / (1.0 + (-d / self.penumbra_scale).exp());
        self.leak + (1.0 - self.leak) * s
    }

    /// Noise-free primary behind the shutter (markers included).
    #[inline]
    fn primary(&self, x: f64, y: f64) -> f64 {
        let mut p = self.incident(x, y) * (-self.attenuation(x, y)).exp() * self.shutter(x, y);
        if let Some(t) = self.marker(x, y) {
            p *= t;
        }
        p
    }
}

/// Per-frame draws of [`Physics::Wide`], from their own stream so that the classic draws (and so
/// the classic frames) stay what they were.
struct WideDraws {
    angle_deg: f64,
    tight: bool,
    body_scale: (f64, f64),
    body_mu: f64,
    leak: f64,
    penumbra_sigma: f64,
    scatter_to_primary: f64,
    heel: f64,
    /// Detector tiles (columns, rows) and each tile's residual gain after flat-field calibration.
    tiles: (usize, usize),
    tile_gain: Vec<f64>,
    /// Stationary anti-scatter grid: (cycles per pixel, modulation, phase, lines across x).
    grid: Option<[f64; 4]>,
    /// The panel saturates at this fraction of the nominal open-field signal.
    saturation: Option<f64>,
    /// Metal implants: (u, v) in the body's own axes as fractions of its semi-axes, half length and
    /// half width as fractions of the smaller semi-axis, angle (degrees), attenuation (log units).
    implants: Vec<[f64; 6]>,
    /// A child: a small field of this fraction of the panel (2–6 %) and aspect, with a small body in it.
    paediatric: Option<(f64, f64)>,
}

impl WideDraws {
    fn new(seed: u64) -> Self {
        let mut r = Rng::new(seed.wrapping_mul(0x9E6C_63D0_676A_9A99) ^ 0x57_1DE5);
        WideDraws {
            angle_deg: r.range(-45.0, 45.0),
            tight: r.chance(0.4),
            body_scale: (r.range(0.9, 1.3), r.range(0.9, 1.3)),
            body_mu: r.range(1.5, 3.6),
            leak: r.range(0.0, 0.4),
            penumbra_sigma: r.range(1.0, 8.0),
            scatter_to_primary: r.range(0.15, 1.5),
            heel: r.range(0.03, 0.15),
            tiles: (0, 0),
            tile_gain: Vec::new(),
            grid: None,
            saturation: None,
            implants: Vec::new(),
            paediatric: None,
        }
        .with_panel_and_patient_draws(&mut r)
    }

    /// The detector and patient effects, drawn after the field's so that those keep their values.
    fn with_panel_and_patient_draws(mut self, r: &mut Rng) -> Self {
        self.tiles = (1 + (r.next_u64() % 3) as usize, 1 + (r.next_u64() % 2) as usize);
        self.tile_gain = (0..self.tiles.0 * self.tiles.1).map(|_| 1.0 + r.range(-0.03, 0.03)).collect();
        if r.chance(0.5) {
            self.grid = Some([r.range(0.35, 0.49), r.range(0.02, 0.15), r.range(0.0, std::f64::consts::TAU), {
                if r.chance(0.5) {
                    1.0
                } else {
                    0.0
                }
            }]);
        }
        if r.chance(0.25) {
            self.saturation = Some(r.range(0.5, 0.95));
        }
        if r.chance(0.35) {
            for _ in 0..1 + (r.next_u64() % 3) as usize {
                self.implants.push([
                    r.range(-0.5, 0.5),
                    r.range(-0.5, 0.5),
                    r.range(0.08, 0.3),
                    r.range(0.01, 0.04),
                    r.range(-90.0, 90.0),
                    r.range(2.0, 4.5),
                ]);
            }
        }
        if r.chance(0.15) {
            self.paediatric = Some((r.range(0.02, 0.06), r.range(0.7, 1.4)));
        }
        self
    }
}

/// Logistic scale whose edge-spread derivative has standard deviation `sigma`.
fn logistic_scale(sigma: f64) -> f64 {
    sigma * 3f64.sqrt() / std::f64::consts::PI
}

/// Implants sit in the body, in its own axes: a plate, a nail, a screw ([`WideDraws::implants`]).
fn implants_in(body: &Ellipse, draws: &[[f64; 6]]) -> Vec<[f64; 7]> {
    let (ba, bb, bc, bs) = (body.a, body.b, body.cos, body.sin);
    draws
        .iter()
        .map(|&[u, v, len, wid, deg, mu]| {
            let (ic, is) = (deg.to_radians().cos(), deg.to_radians().sin());
            let (px, py) = (u * ba, v * bb);
            let short = ba.min(bb);
            [body.cx + px * bc - py * bs, body.cy + px * bs + py * bc, len * short, wid * short, ic, is, mu]
        })
        .collect()
}

/// Share of wide-physics rectangle frames that carry two or three fields: ≈ 10 % of the wide frames
/// when the three kinds come in turn, as in the test sets.
pub const MULTI_FIELD_CHANCE: f64 = 0.3;

/// Two or three rectangular fields on one frame (wide physics, rectangle shutters): a cassette or
/// panel split for several views, the fields side by side or stacked, each in a slot of its own
/// (slots of unequal length, with gaps between them and a margin to the border), with a small
/// rotation of its own (±6°, or none) and its own patient inside (a body ellipse of 45–85 % of the
/// field, 1–3 bones; the frame's implants go into the first). The blades around every field pass
/// the frame's blade transmission with its penumbra; dose, heel, scatter fraction, texture and panel
/// effects are the frame's, as if every view was taken at the same technique with the rest of the
/// panel under the blades. Drawn from a stream of its own, after everything else: a frame that does
/// not get several fields is what it was without them, bit for bit.
struct MultiField {
    fields: Vec<Field>,
    patients: Vec<Patient>,
    markers: Vec<[f64; 5]>,
}

impl MultiField {
    fn draw(spec: &PhantomSpec, wd: &WideDraws) -> Option<Self> {
        let mut r = Rng::new(spec.seed.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ 0x3F1_E1D5);
        if !r.chance(MULTI_FIELD_CHANCE) {
            return None;
        }
        let (wf, hf) = (spec.width as f64, spec.height as f64);
        let m = wf.min(hf);
        let n = 2 + r.chance(0.35) as usize;
        let side_by_side = r.chance(0.5);
        let (along, across) = if side_by_side { (wf, hf) } else { (hf, wf) };
        let margin = m * r.range(0.01, 0.05);
        let gap = m * r.range(0.02, 0.06);
        let weights: Vec<f64> = (0..n).map(|_| r.range(0.7, 1.3)).collect();
        let total: f64 = weights.iter().sum();
        let free = along - 2.0 * margin - (n - 1) as f64 * gap;
        // Pixel centres are integers, so the panel spans −0.5 … side − 0.5.
        let mut start = margin - 0.5;
        let half_across = 0.5 * (across - 2.0 * margin);
        let mut fields = Vec::with_capacity(n);
        let mut patients = Vec::with_capacity(n);
        for wgt in weights {
            let half_along = 0.5 * free * wgt / total;
            let (mut ha, mut hc) = (half_along * r.range(0.75, 0.95), half_across * r.range(0.55, 0.95));
            let deg = if r.chance(0.3) { 0.0 } else { r.range(-6.0, 6.0) };
            let (s, c) = deg.to_radians().sin_cos();
            // The turned field stays in its slot.
            let (ext_a, ext_c) = (ha * c.abs() + hc * s.abs(), ha * s.abs() + hc * c.abs());
            let k = (half_along / ext_a).min(half_across / ext_c).min(1.0);
            (ha, hc) = (ha * k, hc * k);
            let ca = start + half_along + r.range(-1.0, 1.0) * (half_along - ext_a * k);
            let cc = margin - 0.5 + half_across + r.range(-1.0, 1.0) * (half_across - ext_c * k);
            start += 2.0 * half_along + gap;
            let (cx, cy, hw, hh) = if side_by_side { (ca, cc, ha, hc) } else { (cc, ca, hc, ha) };
            fields.push(Field::Rect { cx, cy, hw, hh, angle_deg: deg });
            let bdeg = deg + r.range(-10.0, 10.0);
            let (bs, bc) = bdeg.to_radians().sin_cos();
            let (ba, bb) = (hw * r.range(0.45, 0.8), hh * r.range(0.5, 0.85));
            let body = Ellipse {
                cx: cx + r.range(-0.08, 0.08) * hw,
                cy: cy + r.range(-0.08, 0.08) * hh,
                a: ba,
                b: bb,
                cos: bc,
                sin: bs,
                mu: r.range(1.0, 2.4),
            };
            let inner = (0..1 + (r.next_u64() % 3) as usize)
                .map(|_| {
                    let (s, c) = r.range(-90.0f64, 90.0).to_radians().sin_cos();
                    Ellipse {
                        cx: body.cx + r.range(-0.4, 0.4) * ba,
                        cy: body.cy + r.range(-0.4, 0.4) * bb,
                        a: ba * r.range(0.3, 0.6),
                        b: bb * r.range(0.05, 0.12),
                        cos: c,
                        sin: s,
                        mu: r.range(0.3, 0.6),
                    }
                })
                .collect();
            let implants = if patients.is_empty() { implants_in(&body, &wd.implants) } else { Vec::new() };
            patients.push(Patient { body, inner, implants });
        }
        let mut markers = Vec::new();
        if spec.markers {
            let size = 0.025 * m;
            for _ in 0..1 + (r.next_u64() % 2) as usize {
                let field = fields[(r.next_u64() % n as u64) as usize];
                let Field::Rect { cx, cy, hw, hh, .. } = field else { continue };
                // As on a one-field frame: inside the field, 4 % of its size clear of its edge.
                for _try in 0..20 {
                    let (x, y) = (cx + r.range(-hw, hw), cy + r.range(-hh, hh));
                    if !field.holds_marker(x, y, size, 0.08 * hw.min(hh), (wf, hf)) {
                        continue;
                    }
                    markers.push([x, y, 0.5 * size, 0.7 * size, r.range(0.02, 0.05)]);
                    break;
                }
            }
        }
        Some(MultiField { fields, patients, markers })
    }

    /// Puts the fields, their patients and the markers into the scene drawn for one field.
    fn apply(self, scene: &mut Scene) {
        let mut fields = self.fields.into_iter();
        let mut patients = self.patients.into_iter();
        if let (Some(f), Some(p)) = (fields.next(), patients.next()) {
            scene.field = f;
            (scene.body, scene.inner, scene.implants) = (p.body, p.inner, p.implants);
        }
        scene.more_fields = fields.collect();
        scene.more_bodies = patients.collect();
        scene.markers = self.markers;
    }
}

fn make_scene(spec: &PhantomSpec, rng: &mut Rng, dose: f64, wide: Option<&WideDraws>) -> Scene {
    let (w, h) = (spec.width, spec.height);
    let (wf, hf) = (w as f64, h as f64);
    let m = wf.min(hf);
    let field = match spec.kind {
        FieldKind::Open => Field::Open,
        FieldKind::Rect => {
            let mut area = if rng.chance(0.25) { rng.range(0.05, 0.1) } else { rng.range(0.15, 0.8) } * wf * hf;
            let mut aspect = rng.range(0.7, 1.4);
            if let Some((frac, asp)) = wide.and_then(|wd| wd.paediatric) {
                (area, aspect) = (frac * wf * hf, asp);
            }
            let mut hw = 0.5 * (area * aspect).sqrt();
            let mut hh = 0.5 * (area / aspect).sqrt();
            hw = hw.min(0.5 * wf * 0.95);
            hh = hh.min(0.5 * hf * 0.95);
            let mut deg = if rng.chance(0.4) { 0.0 } else { rng.range(-20.0, 20.0) };
            if let (Some(wd), true) = (wide, deg != 0.0) {
                deg = wd.angle_deg;
            }
            let mut cx = wf * (0.5 + rng.range(-0.12, 0.12));
            let mut cy = hf * (0.5 + rng.range(-0.12, 0.12));
            if rng.chance(0.3) {
                // Field running off one border of the detector.
                let over = rng.range(0.02, 0.25);
                match (rng.next_u64() % 4) as u8 {
                    0 => cx = hw * (1.0 - over),
                    1 => cx = wf - hw * (1.0 - over),
                    2 => cy = hh * (1.0 - over),
                    _ => cy = hf - hh * (1.0 - over),
                }
            }
            Field::Rect { cx, cy, hw, hh, angle_deg: deg }
        }
        FieldKind::Circle => {
            let (r, off) = if rng.chance(0.2) {
                (rng.range(0.14, 0.17) * m, 0.1)
            } else if rng.chance(0.25) {
                (rng.range(0.45, 0.58) * m, 0.08)
            } else {
                (rng.range(0.22, 0.46) * m, 0.1)
            };
            let cx = wf * (0.5 + rng.range(-off, off));
            let cy = hf * (0.5 + rng.range(-off, off));
            match wide.and_then(|wd| wd.paediatric) {
                Some((frac, _)) => Field::Circle { cx, cy, r: (frac * wf * hf / std::f64::consts::PI).sqrt() },
                None => Field::Circle { cx, cy, r },
            }
        }
    };
    // Field extent on the panel, to place the anatomy where it will be seen.
    let (fx0, fy0, fx1, fy1) = match field {
        Field::Circle { cx, cy, r } => (cx - r * 0.7, cy - r * 0.7, cx + r * 0.7, cy + r * 0.7),
        Field::Open => (-0.5, -0.5, wf - 0.5, hf - 0.5),
        Field::Rect { .. } => {
            let pts = field.corners();
            let xs = pts.iter().map(|p| p.0.clamp(-0.5, wf - 0.5));
            let ys = pts.iter().map(|p| p.1.clamp(-0.5, hf - 0.5));
            (
                xs.clone().fold(f64::INFINITY, f64::min),
                ys.clone().fold(f64::INFINITY, f64::min),
                xs.fold(f64::NEG_INFINITY, f64::max),
                ys.fold(f64::NEG_INFINITY, f64::max),
            )
        }
    };
    let (fw, fh) = ((fx1 - fx0).max(16.0), (fy1 - fy0).max(16.0));
    let (bcx, bcy) = (0.5 * (fx0 + fx1) + rng.range(-0.1, 0.1) * fw, 0.5 * (fy0 + fy1) + rng.range(-0.1, 0.1) * fh);
    let big = rng.chance(0.2);
    let (mut ba, mut bb) = if big {
        (fw * rng.range(0.6, 0.9), fh * rng.range(0.6, 0.9))
    } else {
        (fw * rng.range(0.22, 0.42), fh * rng.range(0.3, 0.45))
    };
    let bdeg: f64 = rng.range(-25.0, 25.0);
    let (bs, bc) = bdeg.to_radians().sin_cos();
    let mut mu = rng.range(1.2, 2.0);
    // Tight collimation: the radiographer collimated to the body, which fills the field (its
    // ellipse reaches past the field's corners) and may be thick.
    let tight = matches!(wide, Some(wd) if wd.tight) && spec.kind != FieldKind::Open;
    if let (Some(wd), true) = (wide, tight) {
        (ba, bb) = (fw * wd.body_scale.0, fh * wd.body_scale.1);
        mu = wd.body_mu;
    }
    let body = Ellipse { cx: bcx, cy: bcy, a: ba, b: bb, cos: bc, sin: bs, mu };
    let implants: Vec<[f64; 7]> = wide.map(|wd| implants_in(&body, &wd.implants)).unwrap_or_default();
    let mut inner = Vec::new();
    for _ in 0..1 + (rng.next_u64() % 3) as usize {
        let d: f64 = rng.range(-90.0, 90.0);
        let (s, c) = d.to_radians().sin_cos();
        inner.push(Ellipse {
            cx: bcx + rng.range(-0.4, 0.4) * ba,
            cy: bcy + rng.range(-0.4, 0.4) * bb,
            a: ba * rng.range(0.3, 0.6),
            b: bb * rng.range(0.05, 0.12),
            cos: c,
            sin: s,
            mu: rng.range(0.3, 0.6),
        });
    }
    if rng.chance(0.4) {
        // Air-filled regions (lungs, bowel gas): elongated, modest contrast.
        for side in [-1.0, 1.0] {
            inner.push(Ellipse {
                cx: bcx + side * 0.4 * ba,
                cy: bcy,
                a: ba * 0.3,
                b: bb * 0.6,
                cos: 1.0,
                sin: 0.0,
                mu: -rng.range(0.15, 0.3),
            });
        }
    }
    let tex_n = 24;
    let tex: Vec<f64> = (0..tex_n * tex_n).map(|_| rng.range(-1.0, 1.0)).collect();
    let mut markers = Vec::new();
    if spec.markers {
        for _ in 0..1 + (rng.next_u64() % 2) as usize {
            // Marker near a random place inside the field, at least 4 % of the field size from its edge.
            for _try in 0..20 {
                let x = rng.range(fx0, fx1);
                let y = rng.range(fy0, fy1);
                let size = 0.025 * m;
                if !field.holds_marker(x, y, size, 0.04 * fw.min(fh), (wf, hf)) {
                    continue;
                }
                let t = rng.range(0.02, 0.05);
                markers.push([x, y, 0.5 * size, 0.7 * size, t]);
                break;
            }
        }
    }
    let heel_mag = rng.range(0.03, 0.08);
    let heel_sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
    let heel_axis_x = rng.chance(0.5);
    let tex_amp = rng.range(0.05, 0.15);
    let leak = rng.range(0.01, 0.04);
    let (heel_mag, leak, penumbra_scale, max_attenuation) = match wide {
        Some(wd) => (wd.heel, wd.leak, logistic_scale(wd.penumbra_sigma), 4.0),
        None => (heel_mag, leak, 0.35, 2.6),
    };
    Scene {
        w,
        h,
        k0_dn: DN_PER_UGY * NOMINAL_UGY * dose,
        heel: heel_mag * heel_sign,
        heel_axis_x,
        body,
        inner,
        tex,
        tex_n,
        tex_amp,
        max_attenuation,
        field,
        leak,
        penumbra_scale,
        markers,
        implants,
        more_fields: Vec::new(),
        more_bodies: Vec::new(),
    }
}

/// What the panel and the grid in front of it add (wide physics; identity otherwise): the
/// residual gain of each tile after flat-field calibration, stationary grid lines, saturation.
struct Panel {
    tile_w: usize,
    tile_h: usize,
    cols: usize,
    gains: Vec<f64>,
    grid: Option<[f64; 4]>,
    saturation_dn: f64,
}

impl Panel {
    fn new(wide: Option<&WideDraws>, w: usize, h: usize, k0_dn: f64) -> Self {
        match wide {
            None => Panel { tile_w: w, tile_h: h, cols: 1, gains: vec![1.0], grid: None, saturation_dn: 65535.0 },
            Some(wd) => Panel {
                tile_w: w.div_ceil(wd.tiles.0),
                tile_h: h.div_ceil(wd.tiles.1),
                cols: wd.tiles.0,
                gains: wd.tile_gain.clone(),
                grid: wd.grid,
                saturation_dn: wd.saturation.map_or(65535.0, |f| (f * k0_dn).min(65535.0)),
            },
        }
    }

    #[inline]
    fn gain(&self, x: usize, y: usize) -> f64 {
        self.gains[(y / self.tile_h) * self.cols + x / self.tile_w]
    }

    #[inline]
    fn grid(&self, x: f64, y: f64) -> f64 {
        match self.grid {
            None => 1.0,
            Some([f, m, phase, across_x]) => {
                let t = if across_x > 0.5 { x } else { y };
                1.0 - m * 0.5 * (1.0 + (std::f64::consts::TAU * f * t + phase).cos())
            }
        }
    }
}

/// Scatter on a coarse grid (cell = 16 px): a wide separable box blur, applied three times
/// (≈ Gaussian), of the collimated primary.
fn scatter_grid(scene: &Scene, spr: f64) -> (Vec<f64>, usize, usize, f64) {
    let cell = 16.0;
    let gw = (scene.w as f64 / cell).ceil() as usize + 1;
    let gh = (scene.h as f64 / cell).ceil() as usize + 1;
    let mut g: Vec<f64> = (0..gw * gh)
        .into_par_iter()
        .map(|i| {
            let (x, y) = ((i % gw) as f64 * cell, (i / gw) as f64 * cell);
            scene.primary(x, y)
        })
        .collect();
    let rad = ((0.05 * scene.w.max(scene.h) as f64 / cell).round() as usize).max(2);
    for _ in 0..3 {
        let mut t = vec![0.0; gw * gh];
        for y in 0..gh {
            for x in 0..gw {
                let (a, b) = (x.saturating_sub(rad), (x + rad).min(gw - 1));
                let s: f64 = g[y * gw + a..=y * gw + b].iter().sum();
                t[y * gw + x] = s / (2 * rad + 1) as f64;
            }
        }
        for y in 0..gh {
            for x in 0..gw {
                let (a, b) = (y.saturating_sub(rad), (y + rad).min(gh - 1));
                let s: f64 = (a..=b).map(|j| t[j * gw + x]).sum();
                g[y * gw + x] = s / (2 * rad + 1) as f64;
            }
        }
    }
    for v in g.iter_mut() {
        *v *= spr;
    }
    (g, gw, gh, cell)
}

/// Generates a phantom frame with its ground truth.
pub fn generate(spec: &PhantomSpec) -> CoreResult<Phantom> {
    let (w, h) = (spec.width, spec.height);
    if w < SIDE_RANGE.0 || h < SIDE_RANGE.0 || w > SIDE_RANGE.1 || h > SIDE_RANGE.1 || w * h > MAX_TOTAL {
        return Err(CoreError::InvalidArgument(format!(
            "phantom {h}x{w}: each side must be within {}..={} pixels and the total at most {MAX_TOTAL}",
            SIDE_RANGE.0, SIDE_RANGE.1
        )));
    }
    let mut rng = Rng::new(spec.seed);
    let dose = match spec.dose_scale {
        Some(d) if d.is_finite() && d > 0.0 && d <= 100.0 => d,
        Some(d) => return Err(CoreError::InvalidArgument(format!("dose_scale {d} must be in (0, 100]"))),
        None => (rng.range(0.08f64.ln(), 3.0f64.ln())).exp(),
    };
    // The scene is drawn from a stream that does not depend on the dose, so the same seed at two
    // doses gives the same anatomy and geometry.
    let mut srng = Rng::new(spec.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xA5A5);
    let wide = (spec.physics == Physics::Wide).then(|| WideDraws::new(spec.seed));
    let mut scene = make_scene(spec, &mut srng, dose, wide.as_ref());
    let multi = match &wide {
        Some(wd) if spec.kind == FieldKind::Rect => MultiField::draw(spec, wd),
        _ => None,
    };
    let multi_field = multi.is_some();
    if let Some(mf) = multi {
        mf.apply(&mut scene);
    }
    let mut spr = srng.range(0.15, 0.45);
    if let Some(wd) = &wide {
        spr = wd.scatter_to_primary;
    }
    let (sg, gw, gh, cell) = scatter_grid(&scene, spr);
    let panel = Panel::new(wide.as_ref(), w, h, scene.k0_dn);
    let seed = spec.seed;
    let mut raw = vec![0u16; w * h];
    let mut direct = vec![false; w * h];
    let mut anat = vec![false; w * h];
    let mut mark = vec![false; w * h];
    let mut field = vec![false; w * h];
    raw.par_chunks_mut(w)
        .zip(direct.par_chunks_mut(w))
        .zip(anat.par_chunks_mut(w))
        .zip(mark.par_chunks_mut(w))
        .zip(field.par_chunks_mut(w))
        .enumerate()
        .for_each(|(y, ((((row, drow), arow), mrow), frow))| {
            let mut r = Rng::new(seed ^ ((y as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)));
            let yf = y as f64;
            let gy = (yf / cell).min((gh - 1) as f64 - 1e-9);
            let (iy, fy) = (gy as usize, gy - gy.floor());
            for x in 0..w {
                let xf = x as f64;
                let a = scene.attenuation(xf, yf);
                let mk = scene.marker(xf, yf);
                let mut p = scene.incident(xf, yf) * (-a).exp() * scene.shutter(xf, yf);
                if let Some(t) = mk {
                    p *= t;
                }
                let gx = (xf / cell).min((gw - 1) as f64 - 1e-9);
                let (ix, fx) = (gx as usize, gx - gx.floor());
                let s = (sg[iy * gw + ix] * (1.0 - fx) + sg[iy * gw + ix + 1] * fx) * (1.0 - fy)
                    + (sg[(iy + 1) * gw + ix] * (1.0 - fx) + sg[(iy + 1) * gw + ix + 1] * fx) * fy;
                let signal = (p + s) * panel.grid(xf, yf);
                let v = signal + (0.5 * signal).sqrt() * r.normal() + 3.0 * r.normal();
                row[x] = (v * panel.gain(x, y)).round().clamp(0.0, panel.saturation_dn) as u16;
                let inside = scene.signed_distance(xf, yf) >= 0.0;
                frow[x] = inside;
                drow[x] = inside && a < DIRECT_MAX_ATTENUATION && mk.is_none();
                arow[x] = inside && a >= ANATOMY_MIN_ATTENUATION && mk.is_none();
                mrow[x] = inside && mk.is_some();
            }
        });
    if spec.defects {
        let mut d = Rng::new(seed ^ 0xDEAD_BEEF);
        let n = (w * h) / 50_000 + 1;
        for _ in 0..n {
            let i = (d.next_u64() % (w * h) as u64) as usize;
            raw[i] = if d.chance(0.5) { 0 } else { 65535 };
        }
        let lines = if d.chance(0.6) { 1 + d.chance(0.3) as usize } else { 0 };
        for _ in 0..lines {
            if d.chance(0.5) {
                let x = (d.next_u64() % w as u64) as usize;
                for y in 0..h {
                    raw[y * w + x] = 0;
                }
            } else {
                let y = (d.next_u64() % h as u64) as usize;
                raw[y * w..(y + 1) * w].fill(0);
            }
        }
    }
    let shape = (h, w);
    let mk = |v: Vec<bool>| Array2::from_shape_vec(shape, v).map_err(|e| CoreError::InvalidArgument(e.to_string()));
    let params = SceneParams {
        field: scene.field,
        more_fields: scene.more_fields.clone(),
        more_bodies: scene
            .more_bodies
            .iter()
            .map(|p| BodyParams {
                body: p.body.params(),
                inner: p.inner.iter().map(Ellipse::params).collect(),
                implants: p.implants.clone(),
            })
            .collect(),
        body: scene.body.params(),
        inner: scene.inner.iter().map(Ellipse::params).collect(),
        tex: scene.tex.clone(),
        tex_n: scene.tex_n,
        tex_amp: scene.tex_amp,
        max_attenuation: scene.max_attenuation,
        markers: scene.markers.clone(),
        penumbra_scale: scene.penumbra_scale,
        blade_transmission: scene.leak,
        scatter_to_primary: spr,
        heel: scene.heel,
        dn_per_ugy: DN_PER_UGY,
        implants: scene.implants.clone(),
        tiles: wide.as_ref().map_or((1, 1), |wd| wd.tiles),
        tile_gain: panel.gains.clone(),
        grid: panel.grid,
        saturation_dn: panel.saturation_dn,
        // A multi-field frame's fields are sized by its layout, not by the child's draw.
        paediatric: !multi_field && wide.as_ref().is_some_and(|wd| wd.paediatric.is_some()),
    };
    Ok(Phantom {
        raw: Array2::from_shape_vec(shape, raw).map_err(|e| CoreError::InvalidArgument(e.to_string()))?,
        scene: params,
        field_mask: mk(field)?,
        direct_mask: mk(direct)?,
        anatomy_mask: mk(anat)?,
        marker_mask: mk(mark)?,
        dose_scale: dose,
    })
}
