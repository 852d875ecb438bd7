//! Wide vectors where the CPU has them, chosen at run time: the extension is built for the x86-64
//! baseline (SSE2, 4 lanes of f32), so one build runs on any DR host, and the hot per-row loops run
//! compiled for AVX2 + FMA (8 lanes) on CPUs that have them.
//!
//! The result does not depend on the path: Rust never fuses a multiply and an add into an FMA on
//! its own (there is no fast-math), and the loops do not reorder their sums, so both paths give
//! the same bits (`tests/imaging_chain.rs`, `the_wide_vector_path_gives_the_same_bits_as_the_baseline`).

use std::sync::atomic::{AtomicBool, Ordering};

/// Cleared to run the baseline path on any CPU (tests compare the two paths).
static ALLOWED: AtomicBool = AtomicBool::new(true);

/// Runs `f` compiled for AVX2 + FMA when the CPU has both, else as built. Pass the closure as
/// `wide(#[inline(always)] || …)`: called on both paths, it is otherwise kept out of line and
/// compiled for the baseline only. What it calls takes the target's code when inlined (the row
/// kernels are `#[inline(always)]`). The call costs an atomic load and the cached feature test,
/// so it wraps a row's work, not a pixel's.
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU has the features `avx2_fma` is compiled for (checked just above).
            return unsafe { avx2_fma(f) };
        }
    }
    f()
}

/// Whether `wide` takes the AVX2 + FMA path.
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        ALLOWED.load(Ordering::Relaxed) && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Allows (the default) or forbids the AVX2 + FMA path for the whole process.
pub fn allow_avx2_fma(allowed: bool) {
    ALLOWED.store(allowed, Ordering::Relaxed);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn avx2_fma<R>(f: impl FnOnce() -> R) -> R {
    f()
}
