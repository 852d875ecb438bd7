"""The database stops within a bound: queued work is cancelled (callers get the stopping error),
a query still running at the deadline is interrupted."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from dros.errors import DrosError
from dros.store.db import Conn, Database


def test_cancel_queued_answers_waiting_callers_and_refuses_new_work(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.duckdb", readers=1)
    inside, release = threading.Event(), threading.Event()

    def held(c: Conn) -> int:
        inside.set()
        release.wait(10)
        return 1

    async def scenario() -> tuple[list[object], float]:
        running = asyncio.ensure_future(db.read(held))
        queued = [asyncio.ensure_future(db.read(lambda c: 2)) for _ in range(5)]
        while not inside.is_set():
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        db.cancel_queued()
        outcomes = await asyncio.gather(*queued, return_exceptions=True)
        took = time.monotonic() - t0
        with pytest.raises(DrosError):
            await db.write(lambda c: None)
        release.set()
        assert await running == 1  # what was running finishes
        return outcomes, took

    try:
        outcomes, took = asyncio.run(scenario())
    finally:
        release.set()
        db.close()
    assert took < 0.5
    assert all(isinstance(o, DrosError) and "stopping" in str(o) for o in outcomes), outcomes


def test_close_interrupts_a_query_running_past_the_deadline(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.duckdb", readers=1)
    started = threading.Event()
    errors: list[BaseException] = []

    def endless(c: Conn) -> object:
        started.set()
        return c.execute("SELECT sum(i * i) FROM range(1000000000000) t(i)").fetchone()

    def reader() -> None:
        try:
            db._readers.submit(db.read_sync, endless).result()
        except BaseException as exc:  # the interrupt
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    assert started.wait(10)
    time.sleep(0.2)
    t0 = time.monotonic()
    closed = db.close(timeout=0.5)
    took = time.monotonic() - t0
    t.join(5)
    assert closed and took < 2.0, took
    assert errors and "interrupt" in str(errors[0]).lower()
