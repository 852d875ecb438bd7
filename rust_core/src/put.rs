//! Writing output pixels: into a buffer already initialised, or into one not yet initialised,
//! which saves zeroing a frame-sized buffer that every pixel is written into anyway.

use std::mem::MaybeUninit;

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
