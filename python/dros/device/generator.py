"""The generator driver: docs/generator-protocol.md over a `SerialLink`.

One command at a time (a lock), each with a sequence number; a missing or corrupted reply is a timeout,
the command is sent again with the same sequence number (the generator answers a repeat from its cache
and does not execute it twice) up to `retries` attempts; `!,10` (busy) also retries. When all attempts
time out the link is declared lost. A heartbeat (`HB` + `ST`) runs every `loop_time_s` (the seed's
`loopTime`); a lost link is reopened every `reconnect_interval_s` while `reconnect` (the seed's
`ReConnect`) is on, and the status says `lost` in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec

from dros.device.base import (
    DeviceFault,
    DeviceNotReady,
    EndOfExposure,
    Focus,
    GeneratorLimits,
    GeneratorState,
    GeneratorStatus,
    LinkState,
    PostExposure,
    StatusListener,
    TechMode,
    Technique,
)
from dros.device.framing import encode
from dros.device.protocol import (
    ACK,
    EVENT_STATUS,
    NAK,
    PARAM_CMD,
    SEQ_MOD,
    Cmd,
    Refusal,
    StatusTuple,
    fault_text,
    refusal_text,
    to_wire,
)
from dros.device.transport import SerialLink

log = logging.getLogger("dros.device.generator")

_POLL_S = 0.05  # status poll while waiting for a state (R2CP hosts poll every 50 ms)
_STARTED = (GeneratorState.EXP_REQ, GeneratorState.EXP_IN_PROGRESS, GeneratorState.WAIT_FOOT_RELEASE)
_ENDED = (GeneratorState.WAIT_FOOT_RELEASE, GeneratorState.STANDBY, GeneratorState.ERROR)


class LinkDown(DeviceNotReady):
    def __init__(self, en: str = "generator not connected", zh: str = "发生器未连接") -> None:
        super().__init__(en, zh, interlocks=("generator_link",))


class GeneratorDriver:
    """Implements `dros.device.base.Generator`."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 19200,
        loop_time_s: float = 2.0,
        reconnect: bool = True,
        reconnect_interval_s: float = 0.5,
        reply_timeout_s: float = 0.25,
        retries: int = 3,
        prep_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.loop_time_s = loop_time_s
        self.reconnect = reconnect
        self.reconnect_interval_s = reconnect_interval_s
        self.reply_timeout_s = reply_timeout_s
        self.retries = max(1, retries)
        self.prep_timeout_s = prep_timeout_s
        self._status = GeneratorStatus()
        self._listeners: list[StatusListener] = []
        self._changed = asyncio.Event()
        self._link: SerialLink | None = None
        self._lock = asyncio.Lock()
        self._seq = 0
        self._pending: tuple[str, str, asyncio.Future[tuple[str, ...]]] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._lost_event = asyncio.Event()
        self.identity: tuple[str, ...] = ()  # ID reply: manufacturer, model, serial, protocol version
        self.stats = {"commands": 0, "retries": 0, "timeouts": 0, "naks": 0, "reconnects": 0}

    # --- Generator interface ------------------------------------------------------------------

    @property
    def status(self) -> GeneratorStatus:
        return self._status

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def start(self) -> None:
        if self._runner is None or self._runner.done():
            self._update(link=LinkState.CONNECTING)
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="generator-link")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._drop_link()
        self._update(link=LinkState.CLOSED)

    async def wait_connected(self, timeout_s: float) -> bool:
        try:
            await self._wait(lambda st: st.link == LinkState.CONNECTED, timeout_s, poll=False)
        except (TimeoutError, DeviceNotReady, DeviceFault):
            return False
        return True

    async def set_technique(self, technique: Technique) -> Technique:
        await self.set_param("TECHMODE", int(technique.tech_mode))
        await self.set_param("FOCUS", int(technique.focus))
        await self.set_param("WORKSTATION", technique.work_station)
        await self.set_param("AECDENSITY", technique.aec_density)
        await self.set_param("AECFIELD", int(technique.aec_field, 2))
        await self.set_param("KV", technique.kv)
        await self.set_param("MA", technique.ma)
        if technique.tech_mode == TechMode.THREE_POINT:
            await self.set_param("MS", technique.ms)
        else:
            await self.set_param("MAS", technique.mas)
        assert self._status.technique is not None
        return self._status.technique

    async def set_param(self, name: str, value: float) -> float:
        tech = await self._param_call(name, to_wire(name, value))
        return _technique_value(tech, name)

    async def prepare(self) -> None:
        await self.call(Cmd.PREP, "1")
        await self._wait(lambda st: st.state == GeneratorState.READY, self.prep_timeout_s, fail_on_error=True)

    async def expose(self) -> None:
        await self.call(Cmd.EXPOSE)
        await self._wait(lambda st: st.state in _STARTED, max(1.0, 4 * self.reply_timeout_s), fail_on_error=True)

    async def wait_exposure_end(self, timeout_s: float) -> PostExposure:
        await self._wait(lambda st: st.state in _ENDED, timeout_s)
        post = await self.read_post_exposure()
        if self._status.state == GeneratorState.ERROR:
            raise self._fault_error(post)
        return post

    async def read_post_exposure(self) -> PostExposure:
        v = await self.call(Cmd.POST_EXPOSURE)
        post = PostExposure(
            kv=int(v[0]) / 10, ma=int(v[1]) / 100, ms=int(v[2]) / 100, mas=int(v[3]) / 1000,
            focus=Focus(int(v[4])), end=EndOfExposure(int(v[5])),
        )  # fmt: skip
        self._update(post=post)
        return post

    async def abort(self) -> None:
        with contextlib.suppress(DeviceNotReady, DeviceFault):
            await self.call(Cmd.ABORT)

    async def release(self) -> None:
        with contextlib.suppress(DeviceNotReady, DeviceFault):
            await self.call(Cmd.RELEASE)

    async def clear_errors(self) -> None:
        try:
            await self.call(Cmd.CLEAR_ERRORS)
        finally:
            with contextlib.suppress(DeviceNotReady, DeviceFault):
                await self.poll_status()

    # --- commands -------------------------------------------------------------------------------

    async def call(self, cmd: str, *args: str) -> tuple[str, ...]:
        """Send one command and return the reply's values; `DeviceFault` on `!,code`, `LinkDown` when the
        generator does not answer (after the bounded retries) or the link is not up."""
        async with self._lock:
            return await self._call_locked(cmd, args)

    async def _call_locked(self, cmd: str, args: tuple[str, ...]) -> tuple[str, ...]:
        link = self._link
        if link is None or not link.is_open:
            raise LinkDown()
        self._seq = (self._seq + 1) % SEQ_MOD
        seq = str(self._seq)
        frame = encode(cmd, seq, *args)
        loop = asyncio.get_running_loop()
        self.stats["commands"] += 1
        answered = False
        for attempt in range(self.retries):
            if attempt:
                self.stats["retries"] += 1
            fut: asyncio.Future[tuple[str, ...]] = loop.create_future()
            self._pending = (cmd, seq, fut)
            try:
                link.write(frame)
                reply = await asyncio.wait_for(fut, self.reply_timeout_s)
            except TimeoutError:
                self.stats["timeouts"] += 1
                continue
            except ConnectionError:
                raise LinkDown() from None
            finally:
                self._pending = None
            answered = True
            if reply[0] == ACK:
                return reply[1:]
            code = int(reply[1]) if len(reply) > 1 and reply[1].isdigit() else 0
            self.stats["naks"] += 1
            if code == Refusal.BUSY:
                continue
            text = refusal_text(code)
            raise DeviceFault(text.en, text.zh, code=code)
        if not answered:
            self._declare_lost("no answer")
            raise LinkDown("generator does not answer", "发生器无应答")
        text = refusal_text(Refusal.BUSY)
        raise DeviceFault(text.en, text.zh, code=int(Refusal.BUSY))

    def _on_frame(self, fields: tuple[str, ...]) -> None:
        if not fields:
            return
        if fields[0] == EVENT_STATUS:
            try:
                st = StatusTuple.parse(fields[1:])
            except (ValueError, KeyError):
                return
            self._apply_status(st)
            return
        pending = self._pending
        if pending is None or len(fields) < 3:
            return  # a late reply to a command given up on: ignore (resync by sequence number)
        cmd, seq, fut = pending
        if fields[0] == cmd and fields[1] == seq and fields[2] in (ACK, NAK) and not fut.done():
            fut.set_result(fields[2:])

    # --- state ------------------------------------------------------------------------------------

    def _update(self, **changes: Any) -> None:
        new = msgspec.structs.replace(self._status, **changes)
        if new != self._status:
            self._status = new
            self._changed.set()
            self._changed = asyncio.Event()
            for listener in list(self._listeners):
                try:
                    listener()
                except Exception:  # a listener's bug must not break the link
                    log.exception("generator status listener failed")

    def _apply_status(self, st: StatusTuple) -> None:
        self._update(state=st.state, heat_pct=st.heat_pct, door_closed=st.door_closed, errors=st.faults)

    async def poll_status(self) -> None:
        v = await self.call(Cmd.STATUS)
        self._apply_status(StatusTuple.parse(v))

    async def _param_call(self, name: str, wire: str) -> Technique:
        cmd = PARAM_CMD.get(name)
        if cmd is None:
            raise ValueError(f"unknown generator parameter {name!r}")
        v = await self.call(cmd, wire)
        tech = _parse_params(v)
        self._update(technique=tech)
        return tech

    def _fault_error(self, post: PostExposure | None = None) -> DeviceFault:
        faults = self._status.errors
        code = faults[0] if faults else 0
        texts = [fault_text(f) for f in faults] or [refusal_text(Refusal.FAULT_ACTIVE)]
        return DeviceFault("; ".join(t.en for t in texts), "；".join(t.zh for t in texts), code=code, post=post)

    async def _wait(
        self,
        pred: Callable[[GeneratorStatus], bool],
        timeout_s: float,
        *,
        fail_on_error: bool = False,
        poll: bool = True,
    ) -> None:
        """Until `pred(status)`; status events wake it, and it polls `ST` every 50 ms in case an event was
        lost. Raises LinkDown if the link goes, DeviceFault on Error (when asked), TimeoutError."""
        deadline = time.monotonic() + timeout_s
        next_poll = time.monotonic() + _POLL_S
        while True:
            st = self._status
            if pred(st):
                return
            if poll and st.link != LinkState.CONNECTED:
                raise LinkDown("communication with the generator lost", "与发生器的通信中断")
            if fail_on_error and st.state == GeneratorState.ERROR:
                raise self._fault_error()
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(deadline, next_poll) - now)
            if poll and time.monotonic() >= next_poll:
                next_poll = time.monotonic() + _POLL_S
                with contextlib.suppress(DeviceFault):
                    await self.poll_status()

    # --- link management ----------------------------------------------------------------------

    def _declare_lost(self, why: str) -> None:
        if self._link is not None:
            log.warning("generator link lost: %s", why)
            self._drop_link()
            self._lost_event.set()
        if self._status.link == LinkState.CONNECTED:
            self._update(link=LinkState.LOST)

    def _drop_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()
        pending = self._pending
        if pending is not None and not pending[2].done():
            pending[2].set_exception(ConnectionError("link closed"))

    async def _run(self) -> None:
        first = True
        while True:
            self._lost_event = asyncio.Event()
            try:
                self._link = await SerialLink.open(
                    self.url, self._on_frame, lambda: self._declare_lost("closed by peer"), baudrate=self.baudrate
                )
                await self._handshake()
                if not first:
                    self.stats["reconnects"] += 1
                self._update(link=LinkState.CONNECTED, reconnects=self.stats["reconnects"])
                first = False
                await self._heartbeat()
            except (ConnectionError, DeviceNotReady, DeviceFault, ValueError) as exc:
                log.debug("generator link attempt failed: %s", exc)
                self._drop_link()
                if self._status.link == LinkState.CONNECTED:
                    self._update(link=LinkState.LOST)
            if not self.reconnect:
                self._update(link=LinkState.CLOSED)
                return
            if self._status.link not in (LinkState.CONNECTING, LinkState.LOST):
                self._update(link=LinkState.LOST)
            await asyncio.sleep(self.reconnect_interval_s)

    async def _handshake(self) -> None:
        await self.call(Cmd.HEARTBEAT, str(round(self.loop_time_s * 1000)))
        self.identity = await self.call(Cmd.IDENTIFY)
        v = await self.call(Cmd.LIMITS)
        limits = GeneratorLimits(
            kv_min=int(v[0]) / 10, kv_max=int(v[1]) / 10, ma_min=int(v[2]) / 100, ma_max=int(v[3]) / 100,
            ms_min=int(v[4]) / 100, ms_max=int(v[5]) / 100, mas_min=int(v[6]) / 1000, mas_max=int(v[7]) / 1000,
            max_power_kw=int(v[8]) / 1000, heat_capacity_hu=float(v[9]),
        )  # fmt: skip
        tech = _parse_params(await self.call(Cmd.PARAMS))
        st = StatusTuple.parse(await self.call(Cmd.STATUS))
        self._update(limits=limits, technique=tech)
        self._apply_status(st)

    async def _heartbeat(self) -> None:
        while True:
            lost = self._lost_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.loop_time_s)
            if lost.is_set() or self._link is None:
                raise ConnectionError("link lost")
            try:
                await self.call(Cmd.HEARTBEAT, str(round(self.loop_time_s * 1000)))
                await self.poll_status()
            except DeviceFault:
                continue  # busy storm: the link is alive


def _parse_params(v: tuple[str, ...]) -> Technique:
    return Technique(
        kv=int(v[0]) / 10, ma=int(v[1]) / 100, ms=int(v[2]) / 100, mas=int(v[3]) / 1000,
        focus=Focus(int(v[4])), tech_mode=TechMode(int(v[5])), work_station=int(v[6]),
        aec_field=v[7], aec_density=int(v[8]),
    )  # fmt: skip


def _technique_value(t: Technique, name: str) -> float:
    return {
        "KV": t.kv, "MA": t.ma, "MS": t.ms, "MAS": t.mas, "FOCUS": float(t.focus),
        "TECHMODE": float(t.tech_mode), "WORKSTATION": float(t.work_station),
        "AECDENSITY": float(t.aec_density), "AECFIELD": float(int(t.aec_field, 2)),
    }[name]  # fmt: skip
