"""The event loop never blocks: 20 concurrent logins (argon2, ~0.1 s of CPU each) while a console
polls its worklist. The server's own loop-lag probe (read back through auth/service/health) must
see no stall above 20 ms, and the worklist must keep answering during the burst.

The probe measures wall-clock lateness, which includes the time the OS did not run the process at
all. On a shared, oversubscribed machine that alone reaches tens to hundreds of milliseconds, so an
idle Python process runs the same probe over the same period; twice its lateness (scheduler noise,
not the service's doing) is allowed on top of the 20 ms bound. On a quiet machine that reference is
~1 ms; password hashes on the loop stall it for seconds and fail the bound either way (measured:
7.8 s worst against an allowance of 0.87 s)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server, stop_server

# wall-clock figures: run in the suite's serial phase, not beside another test worker
pytestmark = pytest.mark.timing

LOGIN = "/dr/api/v1/pub/login"
WORST_STALL_MS = 20.0

# an idle event loop with the same probe: prints its worst lateness when stdin gets a line
IDLE_REFERENCE = """
import asyncio, sys
from dros.runtime.loop_lag import LoopLagProbe

async def main():
    probe = LoopLagProbe(interval_s=0.005)
    probe.start()
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    probe.reset()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    snap = probe.snapshot()
    print(snap.worst_ms, snap.recent_p99_ms, flush=True)

asyncio.run(main())
"""


def _token(c: httpx.Client, user: str) -> str:
    r = c.post(LOGIN, json={"username": user, "password": "123456"})
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["token"])


def test_20_logins_do_not_stall_the_loop_while_the_worklist_is_polled(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    reference: subprocess.Popen[str] | None = None
    stop = threading.Event()
    try:
        with server.client() as c:
            service = {"Authorization": f"Bearer {_token(c, 'service')}"}
            tech = {"Authorization": f"Bearer {_token(c, 'tech')}"}
            for _ in range(3):  # warm up the routes the test uses
                assert c.get("/dr/api/v1/auth/study/", headers=tech).status_code == 200
                assert c.get("/dr/api/v1/auth/service/health", headers=service).status_code == 200
            time.sleep(0.3)
            assert c.post("/dr/api/v1/auth/service/loop_lag/reset", headers=service).status_code == 200

        polls: list[tuple[float, float, int]] = []  # (sent, answered, status)

        def poll_worklist() -> None:
            with server.client() as c:
                while not stop.is_set():
                    sent = time.monotonic()
                    status = c.get("/dr/api/v1/auth/study/", headers=tech).status_code
                    polls.append((sent, time.monotonic(), status))
                    time.sleep(0.01)

        logins: list[int] = []

        def login(user: str) -> None:
            r = httpx.post(server.base_url + LOGIN, json={"username": user, "password": "123456"}, timeout=60)
            logins.append(r.status_code)

        reference = subprocess.Popen(
            [sys.executable, "-c", IDLE_REFERENCE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert reference.stdout is not None and reference.stdin is not None
        assert reference.stdout.readline().strip() == "ready"
        poller = threading.Thread(target=poll_worklist)
        poller.start()
        time.sleep(0.1)
        burst_start = time.monotonic()
        users = ["service", "admin", "mgr", "tech"] * 5
        threads = [threading.Thread(target=login, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        burst_end = time.monotonic()
        stop.set()
        poller.join()
        reference.stdin.write("\n")
        reference.stdin.flush()
        noise_ms, noise_p99_ms = map(float, reference.stdout.readline().split())
        reference.wait(timeout=10)

        with server.client() as c:
            lag = c.get("/dr/api/v1/auth/service/health", headers=service).json()["data"]["loop_lag"]
    finally:
        stop.set()
        if reference is not None and reference.poll() is None:
            reference.kill()
            reference.wait()
        stop_server(server)

    print(
        f"server loop lag: worst {lag['worst_ms']} ms (its own work: {lag['worst_busy_ms']} ms), "
        f"p99 {lag['recent_p99_ms']} ms; "
        f"idle reference: worst {noise_ms} ms, p99 {noise_p99_ms} ms"
    )
    assert logins == [200] * 20
    assert lag["samples"] > 0 and lag["running"]
    # the loop's own work (its thread's CPU time while the probe slept) never held it 20 ms: no
    # noise allowance for this part, it does not depend on what else runs on the machine
    assert lag["worst_busy_ms"] <= WORST_STALL_MS, lag
    # The reference is one draw of the machine's scheduling noise and the server (more threads)
    # draws its own, so the noise allowance is twice the reference's figure: on a quiet machine
    # (reference ~1 ms) that leaves the 20 ms bound; the hashes on the loop this test guards
    # against stall it for seconds (20 verifications back to back) and fail by far either way.
    assert lag["worst_ms"] <= WORST_STALL_MS + 2 * noise_ms, (lag, f"idle reference: {noise_ms:.1f} ms")
    # and not only the single worst wake-up
    assert lag["recent_p99_ms"] <= WORST_STALL_MS + 2 * noise_p99_ms, (
        lag,
        f"idle reference p99: {noise_p99_ms:.1f} ms",
    )
    during = [p for p in polls if burst_start <= p[0] and p[1] <= burst_end]
    assert all(status == 200 for _, _, status in polls)
    # answered throughout: polls kept completing during the burst, none waited long
    assert len(during) >= 5, (len(during), burst_end - burst_start)
    slowest = max(answered - sent for sent, answered, _ in during)
    assert slowest < 0.5, slowest
