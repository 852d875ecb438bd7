//! The chain's own peak memory, counted by the allocator: what `pipeline::run` holds at once on a
//! 3072² frame, above the frame itself. `benches/bench_imaging.py` measures the process's RSS,
//! which adds the C allocator's retention on top; this counts only what the chain asks for, so it
//! is exact and the same on every machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use _core::frame::Frame;
use _core::phantom::{generate, FieldKind, PhantomSpec};
use _core::pipeline::{run, Params};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; the counters have no effect on the blocks.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size(), SeqCst) + l.size();
        PEAK.fetch_max(now, SeqCst);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), SeqCst);
        System.dealloc(p, l)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Of the frame's size: the output (1), its two masks (½ each) and the working set on top.
const PEAK_FACTOR: f64 = 3.5;

/// Peak heap growth of `run` over the frame's size, and what it still holds when it returns.
fn peak_and_retained(defects: bool) -> (f64, f64) {
    let n = 3072;
    let mut spec = PhantomSpec::new(n, n, FieldKind::Rect, 2024);
    spec.defects = defects;
    let ph = generate(&spec).expect("phantom");
    let raw = ph.raw.as_slice().expect("contiguous");
    let frame = Frame::new(raw, n, n).expect("frame");
    let params = Params::from_preset("default", 250.0).expect("preset");
    drop(run(&frame, &params).expect("warm-up run")); // the thread pool and its buffers
    let base = LIVE.load(SeqCst);
    PEAK.store(base, SeqCst);
    let out = run(&frame, &params).expect("run");
    let size = (n * n * 2) as f64;
    let r = ((PEAK.load(SeqCst) - base) as f64 / size, (LIVE.load(SeqCst) - base) as f64 / size);
    drop(out);
    r
}

#[test]
fn the_chain_holds_at_most_three_and_a_half_frames_at_once() {
    // One test, so no other test allocates meanwhile: with dead lines (this phantom's are rows,
    // read through a patch of repaired rows) and without. A frame with dead columns is repaired in
    // a copy, which then becomes the output: that path's peak was 3.15x when it was every
    // defective frame's.
    for defects in [true, false] {
        let (peak, retained) = peak_and_retained(defects);
        println!("defects {defects}: peak {peak:.2}x the frame, {retained:.2}x returned");
        assert!(peak <= PEAK_FACTOR, "defects {defects}: peak heap {peak:.2}x the frame");
        assert!((1.9..=2.1).contains(&retained), "defects {defects}: the result holds {retained:.2}x the frame");
    }
}
