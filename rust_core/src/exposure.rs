//! Exposure index per IEC 62494-1.
//!
//! EI = c0 · K_CAL, with K_CAL the detector air kerma (µGy) under calibration conditions (RQA5)
//! and c0 = 100 µGy⁻¹. The value of interest is the median of the *linearised* raw values over
//! the anatomy region (field minus direct exposure), converted to K_CAL by the detector
//! calibration below. DI = 10·log10(EI / EI_T).

use rayon::prelude::*;

use crate::frame::Frame;
use crate::region::HalfMask;

/// Linear detector response: `raw = offset_dn + dn_per_ugy · K_CAL`. The default is the
/// calibration of the DROS phantom/demo detector (16-bit, offset-corrected, 1000 DN per µGy at
/// RQA5); a real panel passes its own figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    pub dn_per_ugy: f64,
    pub offset_dn: f64,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration { dn_per_ugy: 1000.0, offset_dn: 0.0 }
    }
}

impl Calibration {
    pub fn kerma_ugy(&self, dn: f64) -> f64 {
        ((dn - self.offset_dn) / self.dn_per_ugy).max(0.0)
    }
    pub fn dn(&self, kerma_ugy: f64) -> f64 {
        self.offset_dn + self.dn_per_ugy * kerma_ugy
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExposureIndex {
    pub exposure_index: f64,
    pub target_exposure_index: f64,
    /// `None` when EI is 0 (no signal): DI = 10·log10(0) is undefined.
    pub deviation_index: Option<f64>,
    /// Median raw value of the region the EI was taken from.
    pub median_dn: f64,
}

/// Rows per parallel histogram chunk: one or two chunks per thread, so the 65536-bin
/// histograms are merged a handful of times, not once per few rows.
pub fn chunk_rows(height: usize) -> usize {
    height.div_ceil(2 * rayon::current_num_threads().max(1)).max(1)
}

/// Median of the raw `frame` (read through its rows: dead rows repaired) over the pixels of
/// `region` (`None` if the region is empty). Only each row's span is read, which matters for small
/// fields. Exact: the median of every region pixel, from a parallel 65536-bin histogram.
pub fn region_median(frame: &Frame<'_>, region: &HalfMask) -> Option<f64> {
    let (width, height) = (frame.width, frame.height);
    let rows = chunk_rows(height);
    let hist = (0..height.div_ceil(rows))
        .into_par_iter()
        .map(|c| {
            let (mut h, mut buf) = (vec![0u32; 65536], vec![false; width]);
            for k in 0..rows.min(height - c * rows) {
                let rr = frame.row(c * rows + k);
                let (a, b) = region.span(c * rows + k);
                if a >= b {
                    continue;
                }
                let mr = region.row(c * rows + k, &mut buf);
                // Eight mask bytes at a time: regions are often a fraction of the frame.
                for (rv, mv) in rr[a..b].chunks(8).zip(mr[a..b].chunks(8)) {
                    if mv.len() == 8 && !mv.iter().any(|b| *b) {
                        continue;
                    }
                    for (v, inside) in rv.iter().zip(mv) {
                        h[*v as usize] += *inside as u32;
                    }
                }
            }
            h
        })
        .reduce(
            || vec![0u32; 65536],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let n: u64 = hist.iter().map(|&c| c as u64).sum();
    if n == 0 {
        return None;
    }
    // Mean of the two middle order statistics, so an even count is handled exactly.
    let lo_rank = (n - 1) / 2;
    let hi_rank = n / 2;
    let (mut lo, mut hi) = (None, None);
    let mut cum = 0u64;
    for (v, &c) in hist.iter().enumerate() {
        let next = cum + c as u64;
        if lo.is_none() && lo_rank < next {
            lo = Some(v);
        }
        if hi_rank < next {
            hi = Some(v);
            break;
        }
        cum = next;
    }
    Some((lo.unwrap_or(0) + hi.unwrap_or(0)) as f64 / 2.0)
}

/// EI, target EI and DI from the anatomy region of the raw frame.
pub fn exposure_index(frame: &Frame<'_>, anatomy: &HalfMask, target_ei: f64, cal: &Calibration) -> ExposureIndex {
    let median_dn = region_median(frame, anatomy).unwrap_or(0.0);
    let ei = 100.0 * cal.kerma_ugy(median_dn);
    let di = if ei > 0.0 && target_ei > 0.0 { Some(10.0 * (ei / target_ei).log10()) } else { None };
    ExposureIndex { exposure_index: ei, target_exposure_index: target_ei, deviation_index: di, median_dn }
}
