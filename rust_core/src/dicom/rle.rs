//! RLE Lossless (transfer syntax 1.2.840.10008.1.2.5) encoder by PS3.5 Annex G, for 16-bit
//! single-sample frames. dicom-rs 0.10 only decodes RLE, so the encoder lives here; the
//! encapsulation (items, sequence delimiter) is left to dicom-object.
//!
//! Layout (G.5): a 64-byte header — the number of segments, then 15 little-endian u32 offsets —
//! followed by segment 1 (the most significant byte of every pixel) and segment 2 (the least
//! significant byte), each PackBits-encoded (G.3.1) one row at a time, since a run must not cross
//! a row boundary, and padded with one 0x00 to an even length.
//!
//! The run choice is the one pydicom's reference encoder and pylibjpeg-rle make (a repeat of
//! two or more bytes is a replicate run; a leftover single byte after full 128-byte replicate runs
//! becomes a one-byte literal). Matching it byte for byte lets the tests compare our frames with
//! an independent implementation instead of only decoding our own output.
//!
//! Rows are independent, so blocks of rows are encoded in parallel (rayon) and the per-block
//! segment pieces are concatenated in row order.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

const HEADER_LEN: usize = 64;
/// Rows per parallel task: big enough that the per-task vectors stay cheap, small enough that
/// two cores get an even share of a 2048–4288-row frame.
const ROWS_PER_TASK: usize = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first `k >= i` with `src[k] == src[k + 1]`, or `n - 1` if there is none.
/// Eight byte pairs per step: literal (noisy) bytes are most of a DX low-byte segment.
#[inline]
fn next_pair(src: &[u8], mut i: usize) -> usize {
    let n = src.len();
    while i + 9 <= n {
        let a = u64::from_le_bytes(src[i..i + 8].try_into().unwrap());
        let b = u64::from_le_bytes(src[i + 1..i + 9].try_into().unwrap());
        let x = a ^ b;
        // classic "has zero byte": exact for the lowest zero byte, which is the one we want
        let z = x.wrapping_sub(ONES) & !x & HIGHS;
        if z != 0 {
            return i + (z.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i + 1 < n {
        if src[i] == src[i + 1] {
            return i;
        }
        i += 1;
    }
    n.saturating_sub(1).max(i)
}

/// End (exclusive) of the run of `src[i]` that starts at `i`.
#[inline]
fn run_end(src: &[u8], i: usize) -> usize {
    let n = src.len();
    let b = src[i];
    let pattern = ONES.wrapping_mul(b as u64);
    let mut j = i + 1;
    while j + 8 <= n {
        let x = u64::from_le_bytes(src[j..j + 8].try_into().unwrap()) ^ pattern;
        if x != 0 {
            return j + (x.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < n && src[j] == b {
        j += 1;
    }
    j
}

/// Encodes one PackBits row of bytes, appending to `out`.
#[inline]
fn encode_row(src: &[u8], out: &mut Vec<u8>) {
    let n = src.len();
    let mut lit_start = 0usize;
    let mut i = 0usize;
    while i < n {
        i = next_pair(src, i);
        if i + 1 >= n {
            break;
        }
        let j = run_end(src, i);
        let run = j - i;
        let b = src[i];
        flush_literal(&src[lit_start..i], out);
        for _ in 0..run / 128 {
            out.push(129); // -127 as i8: repeat the next byte 128 times
            out.push(b);
        }
        match run % 128 {
            0 => {}
            1 => {
                out.push(0);
                out.push(b);
            }
            rest => {
                out.push((257 - rest) as u8);
                out.push(b);
            }
        }
        lit_start = j;
        i = j;
    }
    flush_literal(&src[lit_start..n], out);
}

#[inline]
fn flush_literal(lit: &[u8], out: &mut Vec<u8>) {
    for chunk in lit.chunks(128) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// The two encoded segments of a block of rows.
fn encode_block(rows: &[u16], width: usize) -> (Vec<u8>, Vec<u8>) {
    let n_rows = rows.len() / width;
    // Noise-dominated low bytes barely compress; reserve for the worst case of literal runs.
    let cap = rows.len() + rows.len() / 128 + n_rows + 8;
    let mut hi_out = Vec::with_capacity(cap / 2);
    let mut lo_out = Vec::with_capacity(cap);
    let mut hi = vec![0u8; width];
    let mut lo = vec![0u8; width];
    for row in rows.chunks_exact(width) {
        for ((h, l), &v) in hi.iter_mut().zip(lo.iter_mut()).zip(row) {
            *h = (v >> 8) as u8;
            *l = v as u8;
        }
        encode_row(&hi, &mut hi_out);
        encode_row(&lo, &mut lo_out);
    }
    (hi_out, lo_out)
}

/// Encodes a 2-D u16 frame (rows × columns) as one RLE Lossless frame: the bytes of the single
/// fragment that goes into the encapsulated Pixel Data. Non-contiguous views are copied once.
pub fn encode_frame_u16(image: ArrayView2<'_, u16>) -> CoreResult<Vec<u8>> {
    let (height, width) = image.dim();
    if height == 0 || width == 0 {
        return Err(CoreError::InvalidArgument(format!("cannot RLE-encode an empty frame ({height}×{width})")));
    }
    let owned;
    let data: &[u16] = match image.as_slice() {
        Some(s) => s,
        None => {
            owned = image.as_standard_layout().into_owned().into_raw_vec_and_offset().0;
            &owned
        }
    };
    let blocks: Vec<(Vec<u8>, Vec<u8>)> =
        data.par_chunks(ROWS_PER_TASK * width).map(|rows| encode_block(rows, width)).collect();

    let hi_len: usize = blocks.iter().map(|b| b.0.len()).sum();
    let lo_len: usize = blocks.iter().map(|b| b.1.len()).sum();
    let hi_padded = hi_len + hi_len % 2;
    let lo_padded = lo_len + lo_len % 2;
    let total = HEADER_LEN + hi_padded + lo_padded;
    if total > u32::MAX as usize {
        return Err(CoreError::InvalidArgument(format!(
            "RLE frame of {total} bytes exceeds the 32-bit offsets of PS3.5 G.5"
        )));
    }

    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(HEADER_LEN as u32).to_le_bytes());
    out.extend_from_slice(&((HEADER_LEN + hi_padded) as u32).to_le_bytes());
    out.resize(HEADER_LEN, 0);
    for b in &blocks {
        out.extend_from_slice(&b.0);
    }
    out.resize(HEADER_LEN + hi_padded, 0);
    for b in &blocks {
        out.extend_from_slice(&b.1);
    }
    out.resize(total, 0);
    Ok(out)
}

/// Decodes a frame produced by [`encode_frame_u16`] (two segments, 16-bit). Used by the tests
/// and as a self-check; the service never needs to read RLE back.
pub fn decode_frame_u16(frame: &[u8], height: usize, width: usize) -> CoreResult<Vec<u16>> {
    let bad = |why: &str| CoreError::InvalidArgument(format!("malformed RLE frame: {why}"));
    if frame.len() < HEADER_LEN {
        return Err(bad("shorter than the 64-byte header"));
    }
    let word = |k: usize| u32::from_le_bytes(frame[4 * k..4 * k + 4].try_into().unwrap()) as usize;
    if word(0) != 2 {
        return Err(bad("expected 2 segments for 16-bit samples"));
    }
    let (s1, s2) = (word(1), word(2));
    if !(HEADER_LEN <= s1 && s1 <= s2 && s2 <= frame.len()) {
        return Err(bad("segment offsets out of order or out of range"));
    }
    let n = height * width;
    let hi = unpack_segment(&frame[s1..s2], n).ok_or_else(|| bad("segment 1 too short"))?;
    let lo = unpack_segment(&frame[s2..], n).ok_or_else(|| bad("segment 2 too short"))?;
    Ok(hi.iter().zip(&lo).map(|(&h, &l)| (h as u16) << 8 | l as u16).collect())
}

fn unpack_segment(seg: &[u8], n: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n && i < seg.len() {
        let h = seg[i] as i8;
        i += 1;
        if h >= 0 {
            let len = h as usize + 1;
            out.extend_from_slice(seg.get(i..i + len)?);
            i += len;
        } else if h != -128 {
            let len = 1 - h as isize;
            out.extend(std::iter::repeat_n(*seg.get(i)?, len as usize));
            i += 1;
        }
    }
    (out.len() >= n).then(|| {
        out.truncate(n);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// The plain byte-at-a-time form of the same run choice, to check the word-at-a-time one.
    fn packbits_simple(src: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let (n, mut lit_start, mut i) = (src.len(), 0, 0);
        while i < n {
            let mut j = i + 1;
            while j < n && src[j] == src[i] {
                j += 1;
            }
            let run = j - i;
            if run > 1 {
                flush_literal(&src[lit_start..i], &mut out);
                for _ in 0..run / 128 {
                    out.extend([129, src[i]]);
                }
                match run % 128 {
                    0 => {}
                    1 => out.extend([0, src[i]]),
                    r => out.extend([(257 - r) as u8, src[i]]),
                }
                lit_start = j;
            }
            i = j;
        }
        flush_literal(&src[lit_start..n], &mut out);
        out
    }

    #[test]
    fn word_scan_matches_simple_form() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in (0..40).chain([127, 128, 129, 255, 256, 257, 1000, 3072]) {
            for alphabet in [1u64, 2, 3, 8, 256] {
                for repeat_bias in [0u64, 50, 90, 99] {
                    let mut v = Vec::with_capacity(len);
                    for k in 0..len {
                        let b = if k > 0 && rnd() % 100 < repeat_bias { v[k - 1] } else { (rnd() % alphabet) as u8 };
                        v.push(b);
                    }
                    assert_eq!(packbits(&v), packbits_simple(&v), "{v:?}");
                }
            }
        }
    }

    fn packbits(src: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_row(src, &mut v);
        v
    }

    #[test]
    fn packbits_runs_and_literals() {
        assert_eq!(packbits(&[1, 2, 3]), vec![2, 1, 2, 3]);
        assert_eq!(packbits(&[7, 7]), vec![255, 7]);
        assert_eq!(packbits(&[1, 7, 7, 7, 2]), vec![0, 1, 254, 7, 0, 2]);
        // 129 equal bytes: one full replicate run and a one-byte literal
        assert_eq!(packbits(&[5; 129]), vec![129, 5, 0, 5]);
        assert_eq!(packbits(&[5; 256]), vec![129, 5, 129, 5]);
        // a literal longer than 128 is split
        let lit: Vec<u8> = (0..200u32).map(|x| (x % 2 * 100 + x / 2) as u8).collect();
        let enc = packbits(&lit);
        assert_eq!(enc[0], 127);
        assert_eq!(enc[129], 71);
        assert_eq!(enc.len(), 202);
    }

    #[test]
    fn round_trip_and_layout() {
        let img = Array2::from_shape_fn((131, 257), |(r, c)| {
            let smooth = (r * 40 + c * 7) as u32;
            let noise = ((r * 7919 + c * 104729) % 13) as u32;
            (smooth * 3 + noise) as u16
        });
        let frame = encode_frame_u16(img.view()).unwrap();
        assert_eq!(frame.len() % 2, 0);
        assert_eq!(&frame[0..8], &[2, 0, 0, 0, 64, 0, 0, 0]);
        let back = decode_frame_u16(&frame, 131, 257).unwrap();
        assert_eq!(back, img.iter().copied().collect::<Vec<_>>());
    }

    #[test]
    fn strided_views_are_encoded_like_their_copy() {
        let img = Array2::from_shape_fn((100, 90), |(r, c)| (r * 1000 + c) as u16);
        let t = img.t();
        let a = encode_frame_u16(t).unwrap();
        let b = encode_frame_u16(t.as_standard_layout().view()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn extremes_round_trip() {
        for fill in [0u16, 0xFFFF, 0x00FF, 0xFF00] {
            let img = Array2::from_elem((3, 300), fill);
            let frame = encode_frame_u16(img.view()).unwrap();
            assert_eq!(decode_frame_u16(&frame, 3, 300).unwrap(), vec![fill; 900]);
        }
        assert!(encode_frame_u16(Array2::<u16>::zeros((0, 5)).view()).is_err());
    }
}
