"""Real MQTT peers for tests: a mosquitto broker on a free loopback port (own process group, stopped
with killpg) and a gmqtt subscriber that records what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gmqtt
import msgspec
import pytest

from tests.ports import free_port

CONNECT_TIMEOUT_S = 20.0


class Broker:
    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.proc = subprocess.Popen(
            [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.02)
        raise RuntimeError("mosquitto did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "mosquitto")
    b.start()
    try:
        yield b
    finally:
        b.kill()


class Received(msgspec.Struct):
    topic: str
    payload: dict[str, Any]
    retain: bool
    at: float


class Subscriber:
    """Collects every message on `topics` (JSON payloads) with its retain flag and arrival time."""

    def __init__(self, port: int, topics: tuple[str, ...] = ("MODULE/TASK/#",)) -> None:
        self.port = port
        self.topics = topics
        self.messages: list[Received] = []
        self._new = asyncio.Event()
        self.client = gmqtt.Client(f"test-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect

    def _on_connect(self, client: gmqtt.Client, flags: Any, rc: Any, props: Any) -> None:
        for t in self.topics:
            client.subscribe(t, qos=1)

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int, props: Any) -> int:
        retain = bool(props.get("retain", 0)) if isinstance(props, dict) else False
        self.messages.append(Received(topic, msgspec.json.decode(payload), retain, time.monotonic()))
        self._new.set()
        return 0

    async def connect(self) -> None:
        self.client.set_config({"reconnect_retries": -1, "reconnect_delay": 0.5})
        # bounded: gmqtt retries for ever, and a broker that is not there should fail the test, not hang it
        await asyncio.wait_for(self.client.connect("127.0.0.1", self.port), CONNECT_TIMEOUT_S)

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.disconnect(), 2)

    async def wait_for(self, pred: Callable[[Received], bool], timeout: float = 10.0, start: int = 0) -> Received:
        deadline = time.monotonic() + timeout
        seen = start
        while True:
            for m in self.messages[seen:]:
                if pred(m):
                    return m
            seen = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching message within {timeout} s; got {self.messages}")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), left)
