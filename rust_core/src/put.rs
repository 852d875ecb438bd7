//! Writing output pixels: into a buffer already initialised, or into one not yet initialised,
//! which saves zeroing a frame-sized buffer that every pixel is written into anyway.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// A pixel that can be given its value `T`.
pub trait Put<T> {
    fn put(&mut self, v: T);
}

impl<T> Put<T> for T {
    #[inline]
    fn put(&mut self, v: T) {
        *self = v;
    }
}

impl<T> Put<T> for MaybeUninit<T> {
    #[inline]
    fn put(&mut self, v: T) {
        self.write(v);
    }
}

/// A new `Vec` of `n` elements made in parallel chunks of `chunk` (the last one shorter when `n`
/// is not a multiple): `f(state, k, out)` writes chunk `k` into `out`, a scratch slice of the
/// chunk's length whose contents on entry are left from the thread's previous chunk, and the chunk
/// is then copied into place. Large buffers that every element is written into are not zeroed
/// first: zeroing one, which `vec![0; n]` does on the calling thread alone, took 0.5–1.5 ms a
/// buffer on a 3072² frame. The copy is from a chunk still in cache. `state` is `init()`, made
/// per rayon job like `for_each_init`'s.
pub fn par_chunks_new<T, S>(
    n: usize,
    chunk: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, &mut [T]) + Sync + Send,
) -> Vec<T>
where
    T: Copy + Default + Send + Sync,
{
    let mut out: Vec<T> = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let chunk = chunk.max(1);
    out.spare_capacity_mut()[..n].par_chunks_mut(chunk).enumerate().for_each_init(
        || (init(), vec![T::default(); chunk]),
        |(state, scratch), (k, dst)| {
            let scratch = &mut scratch[..dst.len()];
            f(state, k, scratch);
            for (d, v) in dst.iter_mut().zip(scratch.iter()) {
                d.write(*v);
            }
        },
    );
    // SAFETY: the chunks of the first `n` elements cover all of them, and each was written
    // element by element just above.
    unsafe { out.set_len(n) };
    out
}
