"""argon2 runs off the event loop; a stop answers every waiting caller at once."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from dros.auth import passwords
from dros.auth.passwords import DUMMY_HASH, HashPool, verify_password_async
from dros.errors import DrosError
from dros.runtime.loop_lag import LoopLagProbe


def test_verification_and_hashing_run_on_the_pool_not_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []

    def recording_verify(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        time.sleep(0.2)  # on the loop this would be a 200 ms stall
        return False

    def recording_hash(password: str) -> str:
        threads.append(threading.current_thread().name)
        return "hash"

    monkeypatch.setattr(passwords, "verify_password", recording_verify)
    monkeypatch.setattr(passwords, "hash_password", recording_hash)

    async def scenario() -> tuple[bool, str, float, int]:
        async with LoopLagProbe(interval_s=0.005) as probe:
            await asyncio.sleep(0.02)
            probe.reset()
            ok = await verify_password_async(DUMMY_HASH, "wrong")
            hashed = await passwords.hash_password_async("secret")
            return ok, hashed, probe.worst_ms, probe.samples

    ok, hashed, worst, samples = asyncio.run(scenario())
    assert (ok, hashed) == (False, "hash")
    assert threads and all(name.startswith("argon2-") for name in threads), threads
    assert samples >= 10  # the loop kept waking during the 200 ms verification
    assert worst < 150, worst


def test_a_stop_answers_queued_and_running_callers_at_once() -> None:
    pool = HashPool(workers=1)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "done"

    async def scenario() -> tuple[list[object], float]:
        calls = [asyncio.ensure_future(pool.run(slow)) for _ in range(3)]
        while not started.is_set():
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        pool.cancel_queued()
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        took = time.monotonic() - t0
        with pytest.raises(DrosError):
            await pool.run(slow)  # refused once stopping
        return outcomes, took

    try:
        outcomes, took = asyncio.run(scenario())
    finally:
        release.set()
    assert took < 0.5
    assert all(isinstance(o, DrosError) and "stopping" in str(o) for o in outcomes), outcomes
