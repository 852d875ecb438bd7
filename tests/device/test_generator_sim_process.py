"""`dros simulate generator` as its own process: killed mid-session the driver reports the link lost, and
reconnects when it is started again (TCP on the same port; pty through the same `--link` path). Faults are
injected through the program's standard input."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dros.device.base import GeneratorState, LinkState
from dros.device.generator import GeneratorDriver
from tests.ports import free_port


@contextmanager
def simulator(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dros", "simulate", "generator", "--profile", "instant", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the simulator printed no address line"
        yield proc, json.loads(line)["url"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def inject(proc: subprocess.Popen[str], command: str) -> dict[str, str]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    reply: dict[str, str] = json.loads(proc.stdout.readline())
    return reply


@pytest.mark.parametrize("link", ["tcp", "pty"])
def test_killed_simulator_is_lost_then_reconnected(link: str, tmp_path: Path) -> None:
    if link == "tcp":
        args: tuple[str, ...] = ("--listen", "tcp", "--port", str(free_port()))
    else:
        args = ("--listen", "pty", "--link", str(tmp_path / "generator"))

    async def main() -> None:
        drv: GeneratorDriver | None = None
        try:
            with simulator(*args) as (proc, url):
                drv = GeneratorDriver(url, loop_time_s=0.2, reply_timeout_s=0.15, reconnect_interval_s=0.1)
                await drv.start()
                assert await drv.wait_connected(20.0)
                assert await drv.set_param("KV", 66) == 66
                assert inject(proc, "door 0") == {"injected": "door 0"}
                await drv._wait(lambda s: not s.door_closed, 3.0)
                assert "error" in inject(proc, "bogus 1")
                os.killpg(proc.pid, signal.SIGKILL)  # the cable is pulled
                await drv._wait(lambda s: s.link == LinkState.LOST, 5.0, poll=False)
                assert drv.status.seed_status == "GENERATOR_STATUS_DISCONNECTED"
            await asyncio.sleep(0.4)
            assert drv.status.link == LinkState.LOST  # nothing there: still lost
            with simulator(*args) as (proc, url2):
                if link == "tcp":
                    assert url2 == url
                await drv._wait(lambda s: s.link == LinkState.CONNECTED, 20.0, poll=False)
                assert drv.status.reconnects == 1
                assert drv.status.state == GeneratorState.STANDBY and drv.status.door_closed  # a fresh generator
                assert await drv.set_param("KV", 67) == 67
        finally:
            if drv is not None:
                await drv.stop()

    asyncio.run(main())


def test_two_commands_in_one_write_both_take_effect() -> None:
    """Standard input read by descriptor: a buffered readline would keep the second line unseen."""

    async def main() -> None:
        with simulator("--listen", "tcp", "--port", str(free_port())) as (proc, url):
            drv = GeneratorDriver(url, loop_time_s=0.2, reply_timeout_s=0.15, reconnect_interval_s=0.1)
            await drv.start()
            try:
                assert await drv.wait_connected(20.0)
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write("door 0\nheat 60\n")  # one write, two commands
                proc.stdin.flush()
                out = proc.stdout
                # bounded: the lost second reply must fail the test, not hang it
                replies = [json.loads(await asyncio.wait_for(asyncio.to_thread(out.readline), 5.0)) for _ in range(2)]
                assert replies == [{"injected": "door 0"}, {"injected": "heat 60"}]
                await drv._wait(lambda s: not s.door_closed and s.heat_pct >= 59, 3.0)
                assert not drv.status.door_closed
                assert 59 <= drv.status.heat_pct <= 61
            finally:
                await drv.stop()

    asyncio.run(main())
