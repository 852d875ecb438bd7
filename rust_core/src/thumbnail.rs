//! Thumbnails: the windowed image, shrunk by area averaging, as a lossless WebP.
//!
//! Windowing uses the DICOM linear VOI function (PS3.3 C.11.2.1.2.1) so the thumbnail looks like
//! the image a viewer shows with the same Window Center / Width. It is applied before shrinking
//! (the function clips, so averaging first would change the result) through a 65536-entry table.
//! Area averaging weights every source pixel by the fraction of it that falls inside the output
//! pixel, also for non-integer factors; it is done separably (rows, then columns) in parallel.
//! Images whose longest side is already at most `size` keep their size (no enlargement).

use std::path::Path;

use image_webp::{ColorType, WebPEncoder};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

/// WebP stores dimensions in 14 bits.
pub const MAX_SIZE: usize = 16383;

/// The DICOM linear window mapped to 0..=255, for every 16-bit value.
fn window_lut(center: f64, width: f64) -> Vec<f32> {
    let lo = center - 0.5 - (width - 1.0) / 2.0;
    let hi = center - 0.5 + (width - 1.0) / 2.0;
    (0..=u16::MAX)
        .map(|x| {
            let x = f64::from(x);
            if x <= lo {
                0.0
            } else if x > hi {
                255.0
            } else {
                (((x - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0) as f32
            }
        })
        .collect()
}

/// For each output index: the first source index and the normalised weights of the source
/// samples it covers.
fn area_weights(src: usize, dst: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|o| {
            let a = o as f64 * scale;
            let b = ((o + 1) as f64 * scale).min(src as f64);
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).min(src).max(first + 1);
            let w: Vec<f32> =
                (first..last).map(|i| ((b.min((i + 1) as f64) - a.max(i as f64)).max(0.0) / (b - a)) as f32).collect();
            (first, w)
        })
        .collect()
}

/// Output size: the longest side becomes `size` (never enlarged), the other keeps the aspect.
pub fn thumbnail_dims(rows: usize, cols: usize, size: usize) -> (usize, usize) {
    let long = rows.max(cols);
    if long <= size {
        return (rows, cols);
    }
    let f = size as f64 / long as f64;
    let r = ((rows as f64 * f).round() as usize).clamp(1, size);
    let c = ((cols as f64 * f).round() as usize).clamp(1, size);
    (r, c)
}

/// The windowed, area-averaged 8-bit image (rows × columns of [`thumbnail_dims`]).
pub fn windowed_thumbnail(image: ArrayView2<'_, u16>, center: f64, width: f64, size: usize) -> CoreResult<Array2<u8>> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 {
        return Err(CoreError::InvalidArgument(format!("cannot make a thumbnail of an empty image ({rows}×{cols})")));
    }
    if !(1..=MAX_SIZE).contains(&size) {
        return Err(CoreError::InvalidArgument(format!("thumbnail size {size} is outside 1..={MAX_SIZE}")));
    }
    if !center.is_finite() || !width.is_finite() || width < 1.0 {
        return Err(CoreError::InvalidArgument(format!(
            "window center {center} / width {width}: both finite and the width at least 1"
        )));
    }
    let (out_r, out_c) = thumbnail_dims(rows, cols, size);
    let lut = window_lut(center, width);
    let wx = area_weights(cols, out_c);
    let wy = area_weights(rows, out_r);

    // Rows first: each source row shrinks to out_c columns.
    let mut horiz = Array2::<f32>::zeros((rows, out_c));
    horiz.axis_iter_mut(Axis(0)).into_par_iter().zip(image.axis_iter(Axis(0))).for_each(|(mut out, src)| {
        for (o, (first, w)) in out.iter_mut().zip(&wx) {
            *o = w.iter().enumerate().map(|(k, wk)| wk * lut[src[first + k] as usize]).sum();
        }
    });
    // Then columns: each output row is a weighted sum of the source rows it covers.
    let mut out = Array2::<u8>::zeros((out_r, out_c));
    out.axis_iter_mut(Axis(0)).into_par_iter().zip(wy.par_iter()).for_each(|(mut dst, (first, w))| {
        let mut acc = vec![0f32; out_c];
        for (k, wk) in w.iter().enumerate() {
            for (a, v) in acc.iter_mut().zip(horiz.row(first + k)) {
                *a += wk * v;
            }
        }
        for (d, a) in dst.iter_mut().zip(&acc) {
            *d = a.round().clamp(0.0, 255.0) as u8;
        }
    });
    Ok(out)
}

/// Lossless WebP (grey, 8-bit) of an 8-bit image.
pub fn encode_webp(img: ArrayView2<'_, u8>) -> CoreResult<Vec<u8>> {
    let (rows, cols) = img.dim();
    let data = img.as_standard_layout();
    let mut buf = Vec::new();
    WebPEncoder::new(&mut buf)
        .encode(data.as_slice().expect("standard layout"), cols as u32, rows as u32, ColorType::L8)
        .map_err(|e| CoreError::Encoding(format!("WebP: {e}")))?;
    Ok(buf)
}

/// Windowed, shrunk WebP thumbnail written to `path`.
pub fn write_thumbnail(
    path: &Path,
    image: ArrayView2<'_, u16>,
    center: f64,
    width: f64,
    size: usize,
) -> CoreResult<()> {
    let small = windowed_thumbnail(image, center, width, size)?;
    let bytes = encode_webp(small.view())?;
    std::fs::write(path, bytes).map_err(|source| CoreError::Io { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_cover_the_source_once() {
        for (src, dst) in [(3072, 512), (4288, 512), (3520, 420), (7, 3), (5, 5)] {
            let w = area_weights(src, dst);
            let mut cover = vec![0f64; src];
            for (first, ws) in &w {
                let s: f32 = ws.iter().sum();
                assert!((s - 1.0).abs() < 1e-5, "{src}->{dst}: {s}");
                for (k, wk) in ws.iter().enumerate() {
                    cover[first + k] += *wk as f64 * src as f64 / dst as f64;
                }
            }
            assert!(cover.iter().all(|c| (c - 1.0).abs() < 1e-4), "{src}->{dst}");
        }
    }

    #[test]
    fn integer_factor_is_block_mean_of_windowed_values() {
        let img = Array2::from_shape_fn((12, 18), |(r, c)| (r * 300 + c * 17) as u16);
        let t = windowed_thumbnail(img.view(), 2000.0, 4000.0, 6).unwrap();
        assert_eq!(t.dim(), (4, 6));
        let lut = window_lut(2000.0, 4000.0);
        for r in 0..4 {
            for c in 0..6 {
                let mut s = 0f32;
                for y in 0..3 {
                    for x in 0..3 {
                        s += lut[img[[r * 3 + y, c * 3 + x]] as usize];
                    }
                }
                assert_eq!(t[[r, c]], (s / 9.0).round() as u8);
            }
        }
    }

    #[test]
    fn window_clips_and_is_linear() {
        let lut = window_lut(1000.0, 201.0);
        assert_eq!(lut[0], 0.0);
        assert_eq!(lut[899], 0.0);
        assert_eq!(lut[1101], 255.0);
        assert!((lut[1000] - 128.1375).abs() < 1e-3);
    }

    #[test]
    fn dims() {
        assert_eq!(thumbnail_dims(3072, 3072, 512), (512, 512));
        assert_eq!(thumbnail_dims(4288, 3520, 512), (512, 420));
        assert_eq!(thumbnail_dims(100, 50, 512), (100, 50));
    }
}
