//! Large buffers in transparent huge pages.
//!
//! A 3072² frame's chain allocates about ten fresh buffers of 5–40 MB per call (planes, masks, the
//! output), and the kernel maps each one 4 KiB page at a time on first touch: about 25,000 page
//! faults per frame, measured as 26 ms of system time per call against 190 ms of user time. The
//! host's policy is usually `madvise` (Debian's default), so a buffer gets 2 MiB pages only
//! when asked for: this allocator asks for every allocation of `HUGE_FROM` bytes or more, which
//! brought the system time to 8 ms. Small allocations, and every free, are the system
//! allocator's own.

use std::alloc::{GlobalAlloc, Layout, System};

/// Smallest allocation placed in huge pages: a few of them, so little is rounded up.
const HUGE_FROM: usize = 1 << 20;
/// A huge page: large allocations start on one and span whole ones, so no 4 KiB pages are left at
/// their ends (an unaligned 19 MB buffer still took about a thousand small-page faults).
const HUGE_PAGE: usize = 2 << 20;

struct HugePageAlloc;

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: HugePageAlloc = HugePageAlloc;

/// The layout a large allocation really gets; a function of the caller's layout alone, so
/// `dealloc` finds the same one.
#[inline]
fn huge(layout: Layout) -> Option<Layout> {
    if layout.size() < HUGE_FROM {
        return None;
    }
    Layout::from_size_align(layout.size().next_multiple_of(HUGE_PAGE), layout.align().max(HUGE_PAGE)).ok()
}

/// A fresh mapping of `h.size()` bytes starting on a huge page, advised into huge pages, or null.
/// Straight from the kernel rather than through `malloc`: glibc places large blocks at 16 bytes
/// past a page, and its aligned allocation moved some of them onto the heap, where they were
/// trimmed and faulted in again on every call (page faults rose from 14k to 19k per frame).
#[cfg(target_os = "linux")]
fn map(h: Layout) -> *mut u8 {
    let len = h.size() + h.align();
    // SAFETY: an anonymous private mapping; the parts before and after the aligned range are
    // unmapped again right away, and nothing else refers to them.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        let start = (p as usize).next_multiple_of(h.align());
        let head = start - p as usize;
        if head > 0 {
            libc::munmap(p, head);
        }
        let tail = len - head - h.size();
        if tail > 0 {
            libc::munmap((start + h.size()) as *mut libc::c_void, tail);
        }
        libc::madvise(start as *mut libc::c_void, h.size(), libc::MADV_HUGEPAGE);
        start as *mut u8
    }
}

// SAFETY: small layouts go to `System` unchanged; large ones are whole anonymous mappings of the
// size `huge` gives (at least the caller's size and alignment), unmapped by `dealloc` with the
// same size, which `huge` computes again from the caller's layout.
#[cfg(target_os = "linux")]
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match huge(layout) {
            None => unsafe { System.alloc(layout) },
            Some(h) => map(h),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match huge(layout) {
            None => unsafe { System.alloc_zeroed(layout) },
            // A fresh anonymous mapping reads as zeros.
            Some(h) => map(h),
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        match huge(layout) {
            None => unsafe { System.dealloc(p, layout) },
            Some(h) => unsafe {
                libc::munmap(p.cast(), h.size());
            },
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` with the old alignment is a valid layout (the caller's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if huge(layout).is_none() && huge(new_layout).is_none() {
            return unsafe { System.realloc(p, layout, new_size) };
        }
        let q = unsafe { self.alloc(new_layout) };
        if !q.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                self.dealloc(p, layout);
            }
        }
        q
    }
}
