"""The one place where a stage of the imaging chain becomes a `MODULE/TASK/IMGPROC/PROGRESS` message.

The chain names its stages (the keys of `ProcessResult.timings`); the contract sends four intermediate
messages in a fixed order (TASK_RecvMask → _RecvEnhance → _RecvForeground → _RecvApply). The chain does
not run its stages in that order (it finds the foreground before it enhances), so a message waits until
every message before it could go out, and `finish()` releases whatever a completed chain left unsaid.

`stage_done` may be called from any thread as the stages end (a chain that reports its stages as they
happen): `send` is then called on that thread and must hand over to the event loop itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from dros.mqtt.topics import Progress, ProgressMessage

#: Each intermediate message and the chain stages that must be done before it says so.
STAGES_OF: tuple[tuple[Progress, frozenset[str]], ...] = (
    (Progress.RECV_MASK, frozenset({"collimator_rect", "collimator_circle"})),  # the field (mask) is known
    (Progress.RECV_ENHANCE, frozenset({"enhance"})),
    (Progress.RECV_FOREGROUND, frozenset({"foreground"})),
    (Progress.RECV_APPLY, frozenset({"apply"})),
)


class StageProgress:
    """Stage names in, progress payloads out (in the contract's order, each once)."""

    def __init__(self, sop: str, send: Callable[[list[bytes]], None]) -> None:
        self._sop = sop
        self._send = send
        self._done: set[str] = set()
        self._sent = 0  # how many of STAGES_OF went out
        self._lock = threading.Lock()

    @property
    def sent(self) -> int:
        return self._sent

    def stage_done(self, stage: str) -> None:
        with self._lock:
            self._done.add(stage)
            ready = self._take(lambda needs: needs <= self._done)
        if ready:
            self._send(ready)

    def finish(self) -> None:
        """The chain completed: every remaining message is true now."""
        with self._lock:
            ready = self._take(lambda needs: True)
        if ready:
            self._send(ready)

    def _take(self, ok: Callable[[frozenset[str]], bool]) -> list[bytes]:
        out: list[bytes] = []
        while self._sent < len(STAGES_OF) and ok(STAGES_OF[self._sent][1]):
            out.append(ProgressMessage(status=STAGES_OF[self._sent][0], sop=self._sop).payload())
            self._sent += 1
        return out


class ProgressLane:
    """Commits batches of progress payloads to the outbox one after another, in the order `send` was
    called, and never before the batch given to `after` (the raw row with TASK_RecvRaw) is committed.
    `send` may be called from any thread; the writes run on the event loop."""

    def __init__(self, write: Callable[[list[bytes]], Awaitable[None]], loop: asyncio.AbstractEventLoop) -> None:
        self._write = write
        self._loop = loop
        self._loop_thread = threading.get_ident()  # made on the loop
        self._tail: asyncio.Future[None] | None = None

    def after(self, first: Awaitable[None]) -> None:
        self._tail = asyncio.ensure_future(first)

    def send(self, payloads: list[bytes]) -> None:
        if threading.get_ident() == self._loop_thread:
            self._chain(payloads)
        else:
            self._loop.call_soon_threadsafe(self._chain, payloads)

    def _chain(self, payloads: list[bytes]) -> None:
        before = self._tail

        async def write() -> None:
            if before is not None:
                await before  # its failure fails this batch too: nothing goes out of order
            await self._write(payloads)

        self._tail = self._loop.create_task(write())

    async def drain(self) -> None:
        """Wait for every batch sent so far (raises the first failure)."""
        while self._tail is not None:
            tail = self._tail
            await tail
            if tail is self._tail:
                return
