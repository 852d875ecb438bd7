//! The pyramid's input holds anatomy only: metal, direct exposure and everything outside the
//! field are replaced by a smooth continuation of the anatomy around them (push-pull, a
//! normalised-convolution pyramid), and their own values are put back, compressed by the
//! latitude, after the enhancement.
//!
//! Why: a multi-scale enhancement spreads a strong step (an implant edge 2–4.5 log units high, the
//! skin line against direct exposure, a blade's shadow) over every level, and the levels' unequal
//! gains and the compressed residual bring it back as a halo beside the step, as wide as the
//! coarsest level. Commercial consoles segment implants for the same reason. With the step gone
//! from the pyramid's input, the tissue beside an implant is processed exactly as if the
//! implant were not there; the step itself is restored pixel by pixel, so nothing overshoots.

use rayon::prelude::*;

use super::expand::{up_row, up_table};
use crate::collimation::Collimation;
use crate::frame::Plane;
use crate::morph::dilate;
use crate::order;
use crate::simd;

/// Log units below the anatomy's median at which attenuation is taken for metal: e² ≈ 7.4× less
/// signal than the median anatomy pixel. Anatomy in a field spans about ±1 log unit around its
/// median (thick and thin parts of a body); implants add 2–4.5 to the tissue they lie on.
pub const METAL_BELOW_MEDIAN: f32 = 2.0;
/// Half-resolution pixels around every excluded pixel that are excluded too: the binomial
/// reduction and the detector's blur spread a step over this many, and a partial step left in the
/// input would come back as a small halo.
pub const EXCLUSION_MARGIN: usize = 2;
/// Below this share of the frame, anatomy is too little to continue into the rest: no fill.
pub const MIN_ANATOMY_SHARE: f64 = 0.01;

/// Which half-resolution pixels are anatomy the pyramid may see: inside the field, not direct
/// exposure, not metal, each grown by `EXCLUSION_MARGIN`. `None` when every pixel is.
pub fn anatomy_mask(g1: &Plane, coll: &Collimation, direct: Option<&[bool]>) -> Option<Vec<bool>> {
    let (w, h) = (g1.width, g1.height);
    let spans = half_spans(coll, w, h);
    let is_direct = |i: usize| direct.map(|d| d[i]).unwrap_or(false);
    // Median of the anatomy, sampled.
    let mut sample: Vec<u32> = (0..h)
        .into_par_iter()
        .step_by(4)
        .flat_map_iter(|y| {
            let (x0, x1) = spans[y];
            (x0..x1).step_by(4).filter(move |&x| !is_direct(y * w + x)).map(move |x| order::key(g1.at(x, y)))
        })
        .collect();
    if sample.len() < 64 {
        return None;
    }
    let mid = sample.len() / 2;
    let median = order::value(*sample.select_nth_unstable(mid).1);
    let metal_below = median - METAL_BELOW_MEDIAN;
    let mut excluded = vec![false; w * h];
    excluded.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let (x0, x1) = spans[y];
        for (e, g) in row.iter_mut().zip(g1.row(y)) {
            *e = *g < metal_below;
        }
        if let Some(d) = direct {
            for (e, d) in row.iter_mut().zip(&d[y * w..(y + 1) * w]) {
                *e |= *d;
            }
        }
        row[..x0.min(w)].fill(true);
        row[x1.max(x0).min(w)..].fill(true);
    });
    let mut anatomy = dilate(&excluded, w, h, EXCLUSION_MARGIN);
    anatomy.par_iter_mut().for_each(|a| *a = !*a);
    let n = anatomy.par_iter().filter(|&&a| a).count();
    if n == w * h || (n as f64) < MIN_ANATOMY_SHARE * (w * h) as f64 {
        return None;
    }
    Some(anatomy)
}

/// Field span of each half-resolution row (`w`×`h`): the full-resolution row through its
/// centre, in whole half-resolution pixels.
pub fn half_spans(coll: &Collimation, w: usize, h: usize) -> Vec<(usize, usize)> {
    (0..h)
        .map(|j| {
            let (x0, x1) = coll.row_span((2 * j + 1).min(coll.height.saturating_sub(1)));
            (x0.div_ceil(2), (x1 / 2).min(w))
        })
        .collect()
}

/// Level 2 of the weighted pull straight from level 1 and its mask: per 2×2 block, the anatomy's
/// sum and count, each over the block's size (partial blocks at the far edges count what they hold).
fn pull_level2(g1: &Plane, anatomy: &[bool]) -> (Plane, Plane) {
    let (w, h) = (g1.width, g1.height);
    let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
    let (mut s, mut c) = (vec![0.0f32; w2 * h2], vec![0.0f32; w2 * h2]);
    s.par_chunks_mut(w2).zip(c.par_chunks_mut(w2)).enumerate().for_each(|(j, (srow, crow))| {
        simd::wide(
            #[inline(always)]
            || {
                let rows = 2 * j..(2 * j + 2).min(h);
                let n_rows = rows.len();
                for y in rows {
                    let (g, a) = (g1.row(y), &anatomy[y * w..(y + 1) * w]);
                    // In pairs of columns, branch-free, so it vectorises (an odd width's last column alone).
                    for (((sv, cv), gp), ap) in
                        srow.iter_mut().zip(crow.iter_mut()).zip(g.chunks_exact(2)).zip(a.chunks_exact(2))
                    {
                        let (k0, k1) = (ap[0] as u8 as f32, ap[1] as u8 as f32);
                        *sv += gp[0] * k0;
                        *sv += gp[1] * k1;
                        *cv += k0;
                        *cv += k1;
                    }
                    if w % 2 == 1 {
                        let k = a[w - 1] as u8 as f32;
                        srow[w2 - 1] += g[w - 1] * k;
                        crow[w2 - 1] += k;
                    }
                }
                for (i, (sv, cv)) in srow.iter_mut().zip(crow.iter_mut()).enumerate() {
                    let n = (n_rows * (w - 2 * i).min(2)) as f32;
                    *sv /= n;
                    *cv /= n;
                }
            },
        )
    });
    (Plane { data: s, width: w2, height: h2 }, Plane { data: c, width: w2, height: h2 })
}

/// The levels below `g1` with its holes (pixels outside `anatomy`) filled (push-pull: weighted
/// box reductions of value and weight, then each level's holes filled from the level below it,
/// blended by the share of anatomy in each pixel). Jacobi steps towards a membrane fill on the
/// coarse levels made the fill itself closer to the anatomy under an implant (0.03 → 0.005 log
/// units at its border) but changed no figure once the expansion is normalised: not kept.
pub fn fill(g1: &Plane, anatomy: &[bool]) -> Filled {
    // Pull: (anatomy's share × its mean, anatomy's share) per level, from level 2 down to a few pixels.
    let mut levels = vec![pull_level2(g1, anatomy)];
    while let Some((s, wt)) = levels.last().filter(|(s, _)| s.width.min(s.height) > 4) {
        let next = (s.downsample_box(2), wt.downsample_box(2));
        levels.push(next);
    }
    let (top_s, top_w) = &levels[levels.len() - 1];
    let count: f64 = top_w.data.iter().map(|&v| v as f64).sum();
    let overall = if count > 0.0 { (top_s.data.iter().map(|&v| v as f64).sum::<f64>() / count) as f32 } else { 0.0 };
    // Push, coarse to fine; each level's mean of anatomy replaces its weighted sum in place.
    let mut above: Option<Plane> = None;
    let mut fill2 = None;
    let (mut stack, mut weights) = (Vec::with_capacity(levels.len()), Vec::with_capacity(levels.len()));
    for (k, (mut s, mut wt)) in levels.into_iter().enumerate().rev() {
        let mut f = Plane::zeros(s.width, s.height);
        match &above {
            None => {
                for (o, (sv, wv)) in f.data.iter_mut().zip(s.data.iter().zip(&wt.data)) {
                    *o = if *wv > 0.0 { sv / wv } else { overall };
                }
            }
            Some(c) => {
                let ty = up_table(s.height, c.height);
                f.data.par_chunks_mut(s.width).enumerate().with_min_len(32).for_each_init(
                    || vec![0.0f32; c.width],
                    |tmp, (y, row)| {
                        simd::wide(
                            #[inline(always)]
                            || {
                                up_row(c, &ty[y], tmp, row);
                                let (sr, wr) = (s.row(y), wt.row(y));
                                for ((o, sv), wv) in row.iter_mut().zip(sr).zip(wr) {
                                    *o = sv + (1.0 - wv) * *o;
                                }
                            },
                        )
                    },
                );
            }
        }
        // The pyramid's level: anatomy's own mean wherever a pixel holds any anatomy.
        s.data.par_iter_mut().zip(wt.data.par_iter_mut().zip(f.data.par_iter())).for_each(|(sv, (wv, fv))| {
            *sv = if *wv > 0.0 { *sv / *wv } else { *fv };
            *wv = wv.max(HOLE_WEIGHT);
        });
        stack.push(s);
        weights.push(wt);
        if k == 0 {
            fill2 = Some(f);
        } else {
            above = Some(f);
        }
    }
    stack.reverse();
    weights.reverse();
    Filled { fill2: fill2.unwrap_or_else(|| Plane::zeros(0, 0)), stack, weights }
}

/// The levels of the pyramid below level 1 when level 1 has holes.
pub struct Filled {
    /// Level 2 of the fill: level 1's holes hold its expansion.
    pub fill2: Plane,
    /// Levels 2, 3, …: each pixel holding anatomy is the mean of its anatomy alone, the others
    /// the fill, down to a few pixels.
    pub stack: Vec<Plane>,
    /// Each level's share of anatomy per pixel, at least `HOLE_WEIGHT`: the weights of the
    /// normalised expansion, which takes anatomy's values wherever there are any.
    pub weights: Vec<Plane>,
}

#[cfg(test)]
impl Filled {
    /// Level 1 with its holes filled (the pyramid computes it row by row, never whole).
    pub fn level1(&self, g1: &Plane, anatomy: &[bool]) -> Plane {
        let (w, h) = (g1.width, g1.height);
        let ty = up_table(h, self.fill2.height);
        let mut out = Plane::zeros(w, h);
        out.data.par_chunks_mut(w).enumerate().for_each_init(
            || vec![0.0f32; self.fill2.width],
            |tmp, (y, row)| {
                up_row(&self.fill2, &ty[y], tmp, row);
                for ((o, g), a) in row.iter_mut().zip(g1.row(y)).zip(&anatomy[y * w..(y + 1) * w]) {
                    if *a {
                        *o = *g;
                    }
                }
            },
        );
        out
    }
}

/// Weight of a pixel without anatomy in the normalised expansion: enough to define it deep in
/// a hole, negligible beside anatomy (whose weight there is 1/16 at least).
pub const HOLE_WEIGHT: f32 = 1e-3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hole_is_filled_by_a_smooth_continuation_and_anatomy_is_kept() {
        // A plane tilted along x with a square hole: the fill continues the tilt.
        let (w, h) = (64, 64);
        let g1 = Plane { data: (0..w * h).map(|i| 0.01 * (i % w) as f32).collect(), width: w, height: h };
        let anatomy: Vec<bool> =
            (0..w * h).map(|i| !((20..40).contains(&(i % w)) && (20..40).contains(&(i / w)))).collect();
        let f = fill(&g1, &anatomy).level1(&g1, &anatomy);
        for (i, a) in anatomy.iter().enumerate() {
            if *a {
                assert_eq!(f.data[i], g1.data[i]);
            } else {
                assert!((f.data[i] - g1.data[i]).abs() < 0.05, "pixel {i}: {} vs {}", f.data[i], g1.data[i]);
            }
        }
    }

    #[test]
    fn levels_below_hold_the_mean_of_anatomy_alone() {
        // Anatomy at 1.0 with a hole at -3.0 (metal): every level-2 pixel that holds any
        // anatomy is 1.0, however much of its block the hole takes.
        let (w, h) = (32, 32);
        let hole = |i: usize| (9..21).contains(&(i % w)) && (9..21).contains(&(i / w));
        let g1 = Plane { data: (0..w * h).map(|i| if hole(i) { -3.0 } else { 1.0 }).collect(), width: w, height: h };
        let anatomy: Vec<bool> = (0..w * h).map(|i| !hole(i)).collect();
        let f = fill(&g1, &anatomy);
        for (v, wt) in f.stack[0].data.iter().zip(&f.weights[0].data) {
            if *wt > HOLE_WEIGHT {
                assert!((v - 1.0).abs() < 1e-6, "{v} at weight {wt}");
            }
        }
        assert!(f.weights[0].data.iter().any(|w| *w > HOLE_WEIGHT && *w < 1.0), "some blocks straddle the hole");
    }

    #[test]
    fn metal_and_a_margin_around_it_leave_the_anatomy() {
        // Tissue around 1.0 ± 0.3 with a plate 3 log units lower (below the median by more than
        // METAL_BELOW_MEDIAN) at columns 40..60 and a thick part only 1 unit lower at 10..20.
        let (w, h) = (96, 64);
        let g1 = Plane {
            data: (0..w * h)
                .map(|i| {
                    let x = i % w;
                    let tissue = 1.0 + 0.3 * ((i / w) as f32 / h as f32 - 0.5);
                    if (40..60).contains(&x) {
                        tissue - 3.0
                    } else if (10..20).contains(&x) {
                        tissue - 1.0
                    } else {
                        tissue
                    }
                })
                .collect(),
            width: w,
            height: h,
        };
        let coll = Collimation::none(2 * w, 2 * h);
        let anatomy = anatomy_mask(&g1, &coll, None).expect("the plate is excluded");
        for x in 0..w {
            let expected = !(40 - EXCLUSION_MARGIN..60 + EXCLUSION_MARGIN).contains(&x);
            assert!((0..h).all(|y| anatomy[y * w + x] == expected), "column {x}");
        }
        // Without metal nothing is excluded: no fill at all.
        let plain = Plane { data: g1.data.iter().map(|v| v.max(0.0)).collect(), width: w, height: h };
        assert!(anatomy_mask(&plain, &coll, None).is_none());
    }
}
