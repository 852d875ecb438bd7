//! `f32::total_cmp`'s order as an unsigned integer key: percentiles and medians select on the
//! keys, since integers compare faster than the float comparator (about twice, on the chain's
//! sample sizes of 10⁵–10⁶).

/// The key of `v`: keys compare as `total_cmp` compares the values (−0 below +0, NaN at the ends).
#[inline]
pub fn key(v: f32) -> u32 {
    let b = v.to_bits();
    // Negative values: all bits flipped (larger magnitude, smaller key); positive: the sign set.
    b ^ (((b as i32 >> 31) as u32) | 1 << 31)
}

/// The value of a key (`value(key(v))` has the bits of `v`).
#[inline]
pub fn value(k: u32) -> f32 {
    f32::from_bits(k ^ ((((k ^ 1 << 31) as i32 >> 31) as u32) | 1 << 31))
}

/// The value at rank `k` (0-based, in `total_cmp` order) of `v`, by selection on the keys;
/// `v` is left as it was.
pub fn select(v: &[f32], k: usize) -> f32 {
    let mut keys: Vec<u32> = v.iter().map(|x| key(*x)).collect();
    value(*keys.select_nth_unstable(k).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_like_the_values_and_give_them_back() {
        let v = [f32::NEG_INFINITY, -3.5, -1e-30, -0.0, 0.0, 1e-8, 2.0, 7.25, f32::INFINITY];
        for p in v.windows(2) {
            assert!(key(p[0]) < key(p[1]), "{} {}", p[0], p[1]);
        }
        for x in v.iter().chain(&[f32::NAN, -f32::NAN]) {
            assert_eq!(value(key(*x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn selection_equals_the_sorted_rank() {
        let v: Vec<f32> = (0..1001).map(|i| ((i * 7919) % 1001) as f32 * 0.37 - 150.0).collect();
        let mut sorted = v.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        for k in [0, 1, 500, 999, 1000] {
            assert_eq!(select(&v, k), sorted[k]);
        }
    }
}
