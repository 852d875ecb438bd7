"""Imaging-chain benchmarks on 3072×3072 phantom frames (issue 5, "Performance").

* Whole chain, Rust (`dros.imaging.process`) next to the NumPy/SciPy/OpenCV implementation of
  the same stages (`benches/baseline/numpy_chain.py`) in the same run; `extra_info` holds both
  implementations' accuracy (field-mask IoU against the phantom truth, window, EI) and the ratio.
* Per-stage comparison (median stage times of both over the three collimation kinds).
* Whole chain plus the service's output step (DICOM write beside the WebP thumbnail, both durable).
* Peak extra memory of `process`, measured as the peak RSS growth of a fresh process.

Targets (issue 13): chain median ≤ 60 ms, ≤ 100 ms with DICOM + thumbnail, ≥ 5× faster than the baseline
overall with no stage slower, peak extra memory ≤ 4× the raw frame (issue 5 asked for 150 / 250 ms and 6×).
With --benchmark-disable (the default suite, CI) each benchmark runs once and only the accuracy and
memory checks are asserted: timing and speed-ratio targets are asserted only when benchmarking is
enabled.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benches.baseline import numpy_chain
from dros import imaging
from dros.acquisition.worker import write_outputs
from dros.dx_metadata import DxMetadata

SIZE = 3072
KINDS = ("rect", "circle", "none")
CHAIN_TARGET_S = 0.060  # issue 13 (issue 5: 150 ms)
CHAIN_IO_TARGET_S = 0.100  # issue 13 (issue 5: 250 ms)
MEMORY_FACTOR = 4.0
STAGES = (
    "prepare",
    "collimator_rect",
    "collimator_circle",
    "foreground",
    "enhance",
    "apply",
    "auto_wwwl",
    "exposure_index",
)


@pytest.fixture(scope="module")
def frames() -> dict[str, imaging.Phantom]:
    return {k: imaging.phantom(k, SIZE, SIZE, seed=2024 + i) for i, k in enumerate(KINDS)}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b)))


def _median_time(fn: Callable[[], Any], runs: int) -> float:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def _accuracy(p: imaging.Phantom, mask: np.ndarray, kind: str, wc: float, ww: float, ei: float) -> dict[str, Any]:
    return {
        "iou": round(_iou(mask, p.field_mask), 5),
        "kind_ok": kind == p.collimation.kind,
        "window": [wc, ww],
        "ei": round(ei, 2),
    }


@pytest.mark.parametrize("impl", ["rust", "numpy"])
def test_chain(benchmark: Any, frames: dict[str, imaging.Phantom], impl: str) -> None:
    p = frames["rect"]
    benchmark.group = f"imaging chain {SIZE}x{SIZE}"
    if impl == "rust":
        r = benchmark(imaging.process, p.raw)
        acc = _accuracy(p, r.field_mask, r.collimation.kind, r.window_center, r.window_width, r.exposure_index)
    else:
        r = benchmark(numpy_chain.process, p.raw)
        acc = _accuracy(p, r.field_mask, r.kind, r.window_center, r.window_width, r.exposure_index)
    benchmark.extra_info.update(acc)
    assert acc["iou"] >= 0.98 and acc["kind_ok"]


def test_chain_targets_and_ratio(benchmark: Any, frames: dict[str, imaging.Phantom]) -> None:
    """Rust vs baseline, every kind, same run: per-stage medians, ratios and accuracy of both."""
    benchmark.group = "imaging stages rust vs numpy"
    # Rust and baseline alternate run by run (and which goes first alternates too), so that both
    # see the same machine load; with --benchmark-disable one pair per kind keeps the suite quick.
    pairs = 3 if benchmark.enabled else 1
    rust_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    np_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    rust_total: list[float] = []
    np_total: list[float] = []
    info: dict[str, Any] = {}

    def run_rust(p: imaging.Phantom) -> Any:
        t = time.perf_counter()
        r = imaging.process(p.raw)
        rust_total.append(time.perf_counter() - t)
        for s in STAGES:
            rust_stage[s].append(r.timings[s])
        return r

    def run_numpy(p: imaging.Phantom) -> Any:
        t = time.perf_counter()
        b = numpy_chain.process(p.raw)
        np_total.append(time.perf_counter() - t)
        for s in STAGES:
            np_stage[s].append(b.timings[s])
        return b

    for kind, p in frames.items():
        for i in range(pairs):
            if i % 2 == 0:
                r, b = run_rust(p), run_numpy(p)
            else:
                b, r = run_numpy(p), run_rust(p)
        info[f"accuracy_{kind}"] = {
            "rust": _accuracy(p, r.field_mask, r.collimation.kind, r.window_center, r.window_width, r.exposure_index),
            "numpy": _accuracy(p, b.field_mask, b.kind, b.window_center, b.window_width, b.exposure_index),
        }
    stages = {}
    for s in STAGES:
        rm, nm = statistics.median(rust_stage[s]), statistics.median(np_stage[s])
        stages[s] = {
            "rust_ms": round(rm * 1e3, 2),
            "numpy_ms": round(nm * 1e3, 2),
            "ratio": round(nm / max(rm, 1e-9), 1),
        }
    rm, nm = statistics.median(rust_total), statistics.median(np_total)
    info.update(stages=stages, rust_ms=round(rm * 1e3, 1), numpy_ms=round(nm * 1e3, 1), ratio=round(nm / rm, 2))
    benchmark.extra_info.update(info)
    benchmark.pedantic(imaging.process, args=(frames["rect"].raw,), rounds=1, iterations=1)
    print(json.dumps(info, indent=1))
    for kind in KINDS:
        acc = info[f"accuracy_{kind}"]
        assert acc["rust"]["iou"] >= 0.98 and acc["rust"]["kind_ok"]
        assert acc["numpy"]["iou"] >= 0.98 and acc["numpy"]["kind_ok"], acc["numpy"]
        # Same quality: the baseline implements the same stages; EI within 1 % of each other.
        assert acc["numpy"]["ei"] == pytest.approx(acc["rust"]["ei"], rel=0.01)
    if not benchmark.enabled:
        return  # timings of single runs on a loaded CI machine are not evidence; see the report
    assert rm <= CHAIN_TARGET_S, f"chain median {rm * 1e3:.1f} ms > {CHAIN_TARGET_S * 1e3:.0f} ms"
    assert nm / rm >= 5.0, f"only {nm / rm:.2f}x faster than the NumPy/OpenCV baseline"
    slower = {s: v for s, v in stages.items() if v["rust_ms"] > v["numpy_ms"]}
    assert not slower, f"stages slower than the baseline: {slower}"


def test_chain_with_dicom_and_thumbnail(benchmark: Any, frames: dict[str, imaging.Phantom], tmp_path: Path) -> None:
    """The chain, then the service's own output step (`acquisition.worker.write_outputs`): the DX file
    and the WebP thumbnail beside it, each written durably (fsync, rename, directory fsync)."""
    benchmark.group = f"imaging chain + DICOM + thumbnail {SIZE}x{SIZE}"
    md = DxMetadata.new(patient_id="BENCH", patient_name="Bench^Phantom")
    raw = frames["rect"].raw

    def run() -> None:
        r = imaging.process(raw)
        dcm, webp = write_outputs(tmp_path, "1.2.826.0.1.3680043.10.1", r, md, {})
        assert (tmp_path / dcm).stat().st_size > raw.nbytes and (tmp_path / webp).stat().st_size > 0

    benchmark(run)
    if not benchmark.enabled:
        return
    med = _median_time(run, 5)
    benchmark.extra_info["median_ms_own"] = round(med * 1e3, 1)
    assert med <= CHAIN_IO_TARGET_S, f"chain + DICOM + thumbnail median {med * 1e3:.1f} ms"


def test_peak_extra_memory() -> None:
    """Peak RSS growth of `process` in a fresh interpreter (frame already in memory, one warm-up
    on a small frame so code pages and the thread pool are resident)."""
    code = textwrap.dedent(
        f"""
        import json, re
        from dros import imaging
        def rss(field):
            return int(re.search(field + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
        imaging.process(imaging.phantom("rect", 512, 512, 1).raw)
        raw = imaging.phantom("rect", {SIZE}, {SIZE}, 2024).raw
        base = rss("VmRSS")
        open("/proc/self/clear_refs", "w").write("5")  # reset VmHWM to the current RSS
        r = imaging.process(raw)
        peak = rss("VmHWM")
        print(json.dumps({{"extra": peak - base, "raw": raw.nbytes}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    m = json.loads(out.stdout.strip().splitlines()[-1])
    factor = m["extra"] / m["raw"]
    print(f"peak extra memory {m['extra'] / 2**20:.1f} MiB = {factor:.2f}x the raw frame")
    assert factor <= MEMORY_FACTOR, f"peak extra memory {factor:.2f}x the raw frame"
