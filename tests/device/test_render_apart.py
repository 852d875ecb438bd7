"""The in-process detector simulator (`device.detector = simulator`) renders a new view's large phantom in
a helper process, so the service's event loop is never kept waiting by it (issue 9: the loop never blocks).

Before: rendered in a thread of the service, a new 3072² phantom kept every core busy and the loop woke up
to 0.25–0.3 s late while its own CPU stayed under 1 ms."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from typing import Any

import numpy as np
import pytest

from dros.runtime.loop_lag import LoopLagProbe
from dros.simulators import render_process
from dros.simulators.detector_frames import PanelResponse, render_phantom

from .detector_helpers import expose, rig


def test_helper_renders_the_same_pixels_in_another_process_at_lower_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    mkstemp = tempfile.mkstemp

    def recording_mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, path = mkstemp(*args, **kwargs)
        made.append(path)
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    raw, median = render_process.render_apart("rect", 1024, 1024, 4242, 1.0)
    pid = render_process.helper_pid()
    assert pid is not None and pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + render_process.RENDER_NICE
    here, here_median = render_phantom("rect", 1024, 1024, 4242, 1.0)
    assert np.array_equal(raw, here) and median == here_median
    assert made and not [p for p in made if os.path.exists(p)], "the shared block is removed"


def test_helper_reports_a_render_error_and_stays_up() -> None:
    with pytest.raises(RuntimeError, match="phantom render failed"):
        render_process.render_apart("hexagon", 1024, 1024, 1, 1.0)
    raw, _ = render_process.render_apart("circle", 1024, 1024, 2, 1.0)
    assert raw.shape == (1024, 1024) and raw.any()


@pytest.mark.timing
def test_new_view_phantom_renders_apart_and_the_loops_own_stall_stays_within_5ms() -> None:
    """A 3072² exposure of a never-seen view through the in-process simulator and driver, with the loop-lag
    probe waking every millisecond: the render ran in the helper, and the loop thread's own part of its worst
    lateness (its CPU) is within the 5 ms target. The wall-clock lateness is printed beside the idle loop's,
    not asserted: on two cores shared with other work it is the scheduler's (it moved 12–92 ms between runs
    at load 7–8, rendered apart or not)."""

    async def main() -> tuple[float, float, float, float]:
        async with rig(panel=PanelResponse(width=3072, height=3072), render_apart=True) as (_sim, drv):
            async with LoopLagProbe(interval_s=0.001) as idle:
                await asyncio.sleep(1.0)
            async with LoopLagProbe(interval_s=0.001) as probe:
                t0 = time.perf_counter()
                frame = await expose(drv, 80, 6.3, view=f"never-seen-{uuid.uuid4().hex}")
                seconds = time.perf_counter() - t0
            assert frame.pixels.shape == (3072, 3072)
            snap = probe.snapshot()
            return idle.snapshot().worst_ms, snap.worst_ms, snap.worst_busy_ms, seconds

    idle_worst, worst, busy, seconds = asyncio.run(main())
    assert render_process.helper_pid() is not None, "the render ran in the helper"
    figures = (
        f"idle {idle_worst:.1f} ms, during {worst:.1f} ms (busy {busy:.2f} ms), {seconds:.1f} s, load {os.getloadavg()}"
    )
    print(figures)
    assert busy <= 5.0, figures
