"""A simulated X-ray generator speaking docs/generator-protocol.md, served on a pty or TCP.

It is a model of the device, not a test double: it enforces its own limits and state machine
(Init → Standby → Preparation → Ready → ExpReq/ExpInProgress → WaitFootRelease → Standby), models prep
time, exposure time, anode heat (HU = kV × mAs × 1.35 for a high-frequency generator) with cooling, the
30 s prep cap, a host watchdog (a silent host during prep/exposure stops it), and injects faults on command:
door/interlock open, overheat, arc, NAK storms, dropped frames, garbled replies, silence, a stuck
exposure terminator. Run it as ``dros simulate generator`` or in-process (`GeneratorSimulator.serve_pty`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from dros.device.base import EndOfExposure, Focus, GeneratorState, TechMode
from dros.device.framing import FrameDecoder, encode
from dros.device.protocol import (
    ACK,
    EVENT_STATUS,
    NAK,
    SCALE,
    Cmd,
    Fault,
    Refusal,
    StatusTuple,
)
from dros.simulators import stdin_lines

log = logging.getLogger("dros.simulators.generator")

HU_FACTOR = 1.35  # heat units per kV·mAs, high-frequency (constant potential) generator
ACTIVE_STATES = (
    GeneratorState.PREPARATION,
    GeneratorState.READY,
    GeneratorState.EXP_REQ,
    GeneratorState.EXP_IN_PROGRESS,
)


@dataclass(frozen=True, slots=True)
class Profile:
    """Timing of one simulator profile (`device.simulator_profile`)."""

    init_s: float
    prep_s: float
    real_time_exposure: bool  # exposures last their set time (else they end at once)


PROFILES: dict[str, Profile] = {
    "instant": Profile(init_s=0.0, prep_s=0.0, real_time_exposure=False),
    "realistic": Profile(init_s=0.5, prep_s=1.0, real_time_exposure=True),
}


@dataclass(slots=True)
class SimLimits:
    kv: tuple[float, float] = (40.0, 150.0)
    ma: tuple[float, float] = (10.0, 1000.0)
    ms: tuple[float, float] = (1.0, 10000.0)
    mas: tuple[float, float] = (0.1, 1000.0)
    max_power_w: float = 80_000.0  # kV × mA
    heat_capacity_hu: float = 225_000.0  # the seed's MaxHeatContent 225 (kHU)
    cooling_hu_per_s: float = 750.0
    prep_cap_s: float = 30.0


@dataclass(slots=True)
class Injected:
    """Active fault injections (see `GeneratorSimulator.inject`)."""

    nak: int = 0  # answer the next N frames with !,BUSY
    drop: int = 0  # ignore the next N received frames
    garble: int = 0  # corrupt the checksum of the next N sent frames
    silent_until: float = 0.0  # monotonic time until which nothing is received or sent
    stuck: bool = False  # exposures do not terminate (generator terminator and backup failed)


@dataclass(slots=True)
class SimState:
    state: GeneratorState = GeneratorState.INIT
    kv: float = 70.0
    ma: float = 200.0
    ms: float = 50.0
    mas: float = 10.0
    focus: int = int(Focus.LARGE)
    tech_mode: int = int(TechMode.THREE_POINT)
    work_station: int = 1
    aec_field: str = "010"
    aec_density: int = 0
    door_closed: bool = True
    faults: list[int] = field(default_factory=list)
    heat_hu: float = 0.0
    heat_at: float = field(default_factory=time.monotonic)
    post: tuple[float, float, float, float, int, int] = (0.0, 0.0, 0.0, 0.0, 1, int(EndOfExposure.NONE))
    exposures: int = 0
    exp_started: float = 0.0
    watchdog_s: float = 6.0
    # what the AEC chambers see: the patient in the beam (water-equivalent) and the source-image distance
    patient_cm: float = 20.0
    sid_cm: float = 110.0
    aec_cut: tuple[float, int] | None = None  # this exposure's planned end under AEC: (fraction, EndOfExposure)


class GeneratorSimulator:
    def __init__(self, profile: str = "instant", limits: SimLimits | None = None) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown simulator profile {profile!r} (instant, realistic)")
        self.profile = PROFILES[profile]
        self.limits = limits or SimLimits()
        self.s = SimState()
        self.inj = Injected()
        self._decoder = FrameDecoder()
        self._send: Callable[[bytes], None] | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._last_host_rx = time.monotonic()
        self._last_seq: tuple[tuple[str, ...], list[bytes]] | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        self._closers: list[Callable[[], None]] = []
        self.frames_received = 0

    # --- serving ---------------------------------------------------------------------------------

    async def _begin(self) -> None:
        loop = asyncio.get_running_loop()
        if self.profile.init_s > 0:
            self._timer("init", self.profile.init_s, self._init_done)
        else:
            loop.call_soon(self._init_done)
        self._watchdog_task = loop.create_task(self._watchdog())

    async def serve_pty(self, link: str | None = None) -> str:
        """Listen on a new pty; returns the path the driver opens (the slave, or `link` → slave)."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo / line discipline: the host side sees bytes as sent
        os.set_blocking(master, False)
        path = os.ttyname(slave)
        if link:
            tmp = f"{link}.tmp{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(path, tmp)
            os.replace(tmp, link)  # atomic: a driver reconnecting sees the old or the new pty
            path = link
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                return
            except OSError:
                return
            self._receive(data)

        def send(data: bytes) -> None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(master, data)  # a full pty buffer drops bytes, like a line nobody reads

        loop.add_reader(master, readable)
        self._send = send

        def close() -> None:
            loop.remove_reader(master)
            # Closing the slave last keeps the master from EIO while the driver reconnects.
            for fd in (master, slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if link:
                with contextlib.suppress(OSError):
                    if os.path.islink(link) and os.readlink(link) == os.ttyname(slave):
                        os.unlink(link)

        self._closers.append(close)
        await self._begin()
        return path

    async def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on TCP (one host connection at a time, the latest wins); returns the port."""
        current: list[asyncio.StreamWriter] = []
        tasks: set[asyncio.Task[None]] = set()

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            for old in current:
                old.close()
            current[:] = [writer]
            self._decoder.reset()
            self._last_seq = None  # a new host: its sequence numbers start afresh

            def send(data: bytes) -> None:
                if not writer.is_closing():
                    writer.write(data)

            self._send = send
            try:
                while data := await reader.read(4096):
                    self._receive(data)
            except (ConnectionError, OSError, asyncio.CancelledError):
                pass
            finally:
                if current and current[0] is writer:
                    self._send = None
                    current.clear()
                writer.close()

        server = await asyncio.start_server(on_client, host, port)
        sock_port: int = server.sockets[0].getsockname()[1]

        def close() -> None:
            server.close()
            for w in current:
                w.close()
            for t in tasks:
                t.cancel()

        self._closers.append(close)
        await self._begin()
        return sock_port

    async def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._watchdog_task:
            self._watchdog_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog_task
        for closer in self._closers:
            closer()
        self._closers.clear()
        self._send = None

    # --- fault injection -------------------------------------------------------------------------

    def inject(self, fault: str, arg: float = 1) -> str:
        """Inject a fault; returns a one-line description. Names: door (arg 0 = open, 1 = closed),
        overheat, arc, nak (N frames), drop (N frames), garble (N replies), silence (seconds),
        stuck (1/0), heat (set anode heat to arg %), noise (N random bytes on the line now),
        clear (all injections off)."""
        now = time.monotonic()
        if fault == "door":
            self.s.door_closed = bool(arg)
            if not self.s.door_closed and self.s.state in ACTIVE_STATES:
                self._fault_stop(Fault.INTERLOCK)
            self._emit()
        elif fault == "overheat":
            self._heat_now()
            self.s.heat_hu = self.limits.heat_capacity_hu
            self._fault_stop(Fault.OVER_TEMPERATURE)
        elif fault == "arc":
            self._fault_stop(Fault.ARC)
        elif fault == "heat":
            self._heat_now()
            self.s.heat_hu = self.limits.heat_capacity_hu * max(0.0, min(100.0, arg)) / 100
            self._emit()
        elif fault == "nak":
            self.inj.nak = int(arg)
        elif fault == "drop":
            self.inj.drop = int(arg)
        elif fault == "garble":
            self.inj.garble = int(arg)
        elif fault == "silence":
            self.inj.silent_until = now + float(arg)
        elif fault == "stuck":
            self.inj.stuck = bool(arg)
        elif fault == "noise":
            if self._send is not None and not self._silent():
                self._send(os.urandom(max(1, int(arg))))  # line noise between frames, right now
        elif fault == "patient":
            self.s.patient_cm = max(0.0, float(arg))  # water-equivalent thickness the AEC chambers look through
        elif fault == "clear":
            self.inj = Injected()
        else:
            raise ValueError(f"unknown fault {fault!r}")
        return f"{fault} {arg:g}"

    # --- receive / send ------------------------------------------------------------------------

    def _silent(self) -> bool:
        return time.monotonic() < self.inj.silent_until

    def _receive(self, data: bytes) -> None:
        if self._silent():
            return
        for fields in self._decoder.feed(data):
            self.frames_received += 1
            if self.inj.drop > 0:
                self.inj.drop -= 1
                continue
            self._last_host_rx = time.monotonic()
            for frame in self._answer(fields):
                self._write(frame, reply=True)

    def _write(self, frame: bytes, *, reply: bool = False) -> None:
        if self._send is None or self._silent():
            return
        if reply and self.inj.garble > 0:
            self.inj.garble -= 1
            frame = frame[:-2] + bytes(((frame[-2] ^ 0x01) | 0x40,)) + frame[-1:]
        self._send(frame)

    def _emit(self) -> None:
        self._write(encode(EVENT_STATUS, *self._status().fields()))

    def _status(self) -> StatusTuple:
        return StatusTuple(
            state=self.s.state,
            heat_pct=self._heat_now() * 100 / self.limits.heat_capacity_hu,
            door_closed=self.s.door_closed,
            faults=tuple(self.s.faults),
        )

    def _answer(self, fields: tuple[str, ...]) -> list[bytes]:
        if len(fields) < 2 or not fields[1].isdigit():
            cmd = fields[0] if fields and fields[0] else "??"
            return [encode(cmd, "0", NAK, str(int(Refusal.BAD_ARGUMENT)))]
        cmd, seq, args = fields[0], fields[1], fields[2:]
        if self._last_seq is not None and self._last_seq[0] == fields:
            return self._last_seq[1]  # a retry of the command just executed: answer again, do not redo it
        if self.inj.nak > 0:
            self.inj.nak -= 1
            return [encode(cmd, seq, NAK, str(int(Refusal.BUSY)))]
        try:
            values = self._execute(cmd, args)
        except _Refused as r:
            out = [encode(cmd, seq, NAK, str(int(r.code)))]
        else:
            out = [encode(cmd, seq, ACK, *values)]
        self._last_seq = (fields, out)
        return out

    # --- the command set --------------------------------------------------------------------------

    def _params(self) -> list[str]:
        s = self.s
        return [
            str(round(s.kv * SCALE["KV"])),
            str(round(s.ma * SCALE["MA"])),
            str(round(s.ms * SCALE["MS"])),
            str(round(s.mas * SCALE["MAS"])),
            str(s.focus),
            str(s.tech_mode),
            str(s.work_station),
            s.aec_field,
            str(s.aec_density),
        ]

    def _execute(self, cmd: str, args: tuple[str, ...]) -> list[str]:
        s = self.s
        lim = self.limits
        if cmd == Cmd.IDENTIFY:
            return ["DROS", "SIM-GEN", "0001", "1"]
        if cmd == Cmd.LIMITS:
            return [
                str(round(lim.kv[0] * 10)), str(round(lim.kv[1] * 10)),
                str(round(lim.ma[0] * 100)), str(round(lim.ma[1] * 100)),
                str(round(lim.ms[0] * 100)), str(round(lim.ms[1] * 100)),
                str(round(lim.mas[0] * 1000)), str(round(lim.mas[1] * 1000)),
                str(round(lim.max_power_w)), str(round(lim.heat_capacity_hu)),
            ]  # fmt: skip
        if cmd == Cmd.PARAMS:
            return self._params()
        if cmd == Cmd.STATUS:
            return self._status().fields()
        if cmd == Cmd.HEARTBEAT:
            if args:
                s.watchdog_s = max(0.2, 3 * _int(args[0]) / 1000)
            return [str(s.exposures)]
        if cmd == Cmd.ERRORS:
            return [str(f) for f in s.faults]
        if cmd == Cmd.HEAT:
            hu = self._heat_now()
            return [str(round(hu)), str(round(lim.heat_capacity_hu)), str(round(hu * 1000 / lim.heat_capacity_hu))]
        if cmd == Cmd.POST_EXPOSURE:
            kv, ma, ms, mas, focus, end = s.post
            return [str(round(kv * 10)), str(round(ma * 100)), str(round(ms * 100)), str(round(mas * 1000)),
                    str(focus), str(end)]  # fmt: skip
        if cmd in (Cmd.KV, Cmd.MA, Cmd.MS, Cmd.MAS, Cmd.FOCUS, Cmd.TECH_MODE, Cmd.WORK_STATION,
                   Cmd.AEC_FIELD, Cmd.AEC_DENSITY):  # fmt: skip
            if s.state in ACTIVE_STATES or s.state == GeneratorState.INIT:
                raise _Refused(Refusal.WRONG_STATE)
            if len(args) != 1:
                raise _Refused(Refusal.BAD_ARGUMENT)
            self._set(cmd, args[0])
            return self._params()
        if cmd == Cmd.CLEAR_ERRORS:
            self._heat_now()
            keep = []
            if not s.door_closed and Fault.INTERLOCK in s.faults:
                keep.append(int(Fault.INTERLOCK))
            if Fault.OVER_TEMPERATURE in s.faults and s.heat_hu >= 0.9 * lim.heat_capacity_hu:
                keep.append(int(Fault.OVER_TEMPERATURE))
            s.faults = keep
            if not keep and s.state == GeneratorState.ERROR:
                self._to(GeneratorState.STANDBY)
            if keep:
                raise _Refused(Refusal.FAULT_ACTIVE)
            return []
        if cmd == Cmd.PREP:
            on = args[:1] == ("1",)
            if on:
                self._check_may_expose()
                if s.state != GeneratorState.STANDBY:
                    raise _Refused(Refusal.WRONG_STATE)
                self._to(GeneratorState.PREPARATION)
                self._timer("prep_cap", lim.prep_cap_s, lambda: self._fault_stop(Fault.PREP_TIMEOUT))
                if self.profile.prep_s > 0:
                    self._timer("prep", self.profile.prep_s, self._prep_done)
                else:
                    asyncio.get_running_loop().call_soon(self._prep_done)
            elif s.state in (GeneratorState.PREPARATION, GeneratorState.READY):
                self._cancel("prep", "prep_cap")
                self._to(GeneratorState.STANDBY)
            return []
        if cmd == Cmd.EXPOSE:
            if s.state == GeneratorState.WAIT_FOOT_RELEASE:
                raise _Refused(Refusal.RELEASE_REQUIRED)
            self._check_may_expose()
            if s.state != GeneratorState.READY:
                raise _Refused(Refusal.WRONG_STATE)
            self._start_exposure()
            return []
        if cmd == Cmd.ABORT:
            self._abort(EndOfExposure.ABORTED_HOST)
            return []
        if cmd == Cmd.RELEASE:
            if s.state == GeneratorState.WAIT_FOOT_RELEASE:
                self._to(GeneratorState.STANDBY)
            elif s.state in (GeneratorState.PREPARATION, GeneratorState.READY):
                self._cancel("prep", "prep_cap")
                self._to(GeneratorState.STANDBY)
            elif s.state in (GeneratorState.EXP_REQ, GeneratorState.EXP_IN_PROGRESS):
                self._abort(EndOfExposure.ABORTED_RELEASE)  # dead-man switch: releasing stops X-rays
            return []
        if cmd == Cmd.FAULT:
            if not args:
                raise _Refused(Refusal.BAD_ARGUMENT)
            try:
                self.inject(args[0], float(args[1]) if len(args) > 1 else 1.0)
            except ValueError:
                raise _Refused(Refusal.BAD_ARGUMENT) from None
            return []
        raise _Refused(Refusal.UNKNOWN_COMMAND)

    def _set(self, cmd: str, arg: str) -> None:
        s = self.s
        lim = self.limits
        if cmd == Cmd.AEC_FIELD:
            if len(arg) != 3 or any(c not in "01" for c in arg):
                raise _Refused(Refusal.BAD_ARGUMENT)
            s.aec_field = arg
            return
        value = _int(arg)
        if cmd == Cmd.KV:
            s.kv = _in(value / 10, lim.kv)
        elif cmd == Cmd.MA:
            ma = _in(value / 100, lim.ma)
            s.ma, s.mas = ma, _in(ma * s.ms / 1000, lim.mas)
        elif cmd == Cmd.MS:
            ms = _in(value / 100, lim.ms)
            s.ms, s.mas = ms, _in(s.ma * ms / 1000, lim.mas)
        elif cmd == Cmd.MAS:
            mas = _in(value / 1000, lim.mas)
            s.mas, s.ms = mas, _in(round(mas * 1000 / s.ma, 2), lim.ms)  # the time follows (mA held)
        elif cmd == Cmd.FOCUS:
            s.focus = int(_in(value, (0, 1)))
        elif cmd == Cmd.TECH_MODE:
            s.tech_mode = int(_in(value, (0, 2)))
        elif cmd == Cmd.WORK_STATION:
            s.work_station = int(_in(value, (0, 9)))
        elif cmd == Cmd.AEC_DENSITY:
            s.aec_density = int(_in(value, (-5, 5)))

    def _check_may_expose(self) -> None:
        s = self.s
        if not s.door_closed:
            raise _Refused(Refusal.INTERLOCK_OPEN)
        if s.faults:
            raise _Refused(Refusal.FAULT_ACTIVE)
        if s.kv * s.ma > self.limits.max_power_w:
            raise _Refused(Refusal.POWER_LIMIT)
        if self._heat_now() + s.kv * s.mas * HU_FACTOR > self.limits.heat_capacity_hu:
            raise _Refused(Refusal.HEAT_LIMIT)

    # --- state machine ---------------------------------------------------------------------------

    def _to(self, state: GeneratorState) -> None:
        if self.s.state != state:
            self.s.state = state
            self._emit()

    def _timer(self, name: str, delay: float, fn: Callable[[], None]) -> None:
        self._cancel(name)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, fn)

    def _cancel(self, *names: str) -> None:
        for name in names:
            handle = self._timers.pop(name, None)
            if handle:
                handle.cancel()

    def _init_done(self) -> None:
        if self.s.state == GeneratorState.INIT:
            self._to(GeneratorState.STANDBY)

    def _prep_done(self) -> None:
        if self.s.state == GeneratorState.PREPARATION:
            self._to(GeneratorState.READY)

    def _start_exposure(self) -> None:
        s = self.s
        self._cancel("prep")
        s.exp_started = time.monotonic()
        self._to(GeneratorState.EXP_REQ)
        self._to(GeneratorState.EXP_IN_PROGRESS)
        if self.inj.stuck:
            return
        s.aec_cut = aec_cut(s) if s.tech_mode == int(TechMode.AEC) else None
        fraction = s.aec_cut[0] if s.aec_cut else 1.0
        duration = s.ms * fraction / 1000 if self.profile.real_time_exposure else 0.0
        self._timer("exposure", duration, self._exposure_done)

    def _exposure_done(self) -> None:
        self._timers.pop("exposure", None)
        if self.s.state == GeneratorState.EXP_IN_PROGRESS:
            cut = self.s.aec_cut
            if cut is None:
                self._end_exposure(EndOfExposure.NORMAL)
            else:
                self._end_exposure(EndOfExposure(cut[1]), cut[0])
            self._to(GeneratorState.WAIT_FOOT_RELEASE)  # one exposure per hand-switch press

    def _end_exposure(self, end: EndOfExposure, fraction: float = 1.0) -> None:
        s = self.s
        self._cancel("exposure", "prep_cap")
        ms = s.ms * fraction
        mas = s.ma * ms / 1000
        self._heat_now()
        s.heat_hu += s.kv * mas * HU_FACTOR
        s.post = (s.kv, s.ma if mas > 0 else 0.0, ms, mas, s.focus, int(end))
        s.exposures += 1

    def _abort(self, end: EndOfExposure) -> None:
        s = self.s
        if s.state in (GeneratorState.EXP_REQ, GeneratorState.EXP_IN_PROGRESS):
            elapsed_ms = (time.monotonic() - s.exp_started) * 1000
            self._end_exposure(end, min(1.0, elapsed_ms / s.ms) if self.profile.real_time_exposure else 0.0)
            self._to(
                GeneratorState.WAIT_FOOT_RELEASE if end != EndOfExposure.ABORTED_RELEASE else GeneratorState.STANDBY
            )
        elif s.state in (GeneratorState.PREPARATION, GeneratorState.READY):
            self._cancel("prep", "prep_cap")
            self._to(GeneratorState.STANDBY)

    def _fault_stop(self, fault: Fault) -> None:
        s = self.s
        if s.state in (GeneratorState.EXP_REQ, GeneratorState.EXP_IN_PROGRESS):
            self._abort(EndOfExposure.ABORTED_FAULT)
        self._cancel("prep", "prep_cap", "exposure")
        if int(fault) not in s.faults:
            s.faults.append(int(fault))
        s.state = GeneratorState.ERROR
        self._emit()

    def _heat_now(self) -> float:
        now = time.monotonic()
        s = self.s
        s.heat_hu = max(0.0, s.heat_hu - self.limits.cooling_hu_per_s * (now - s.heat_at))
        s.heat_at = now
        return s.heat_hu

    async def _watchdog(self) -> None:
        """Stops prep/exposure when the host falls silent (it sends at least a heartbeat every loopTime)."""
        while True:
            await asyncio.sleep(0.05)
            s = self.s
            if s.state in ACTIVE_STATES and time.monotonic() - self._last_host_rx > s.watchdog_s:
                self._fault_stop(Fault.WATCHDOG)


class _Refused(Exception):
    def __init__(self, code: Refusal) -> None:
        super().__init__(int(code))
        self.code = code


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Refused(Refusal.BAD_ARGUMENT) from None


def _in(value: float, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    if not lo - 1e-9 <= value <= hi + 1e-9:
        raise _Refused(Refusal.OUT_OF_RANGE)
    return value


# --- AEC ---------------------------------------------------------------------------------------------

#: Air kerma behind the patient at which the chambers end an exposure at density 0 (µGy; EI ≈ 250, the
#: views' target), and the factor of one density step (−3…+3).
AEC_TARGET_UGY = 2.5
AEC_DENSITY_STEP = 1.25


def aec_cut(s: SimState) -> tuple[float, int]:
    """Where an AEC exposure ends, as (fraction of the set time, EndOfExposure): the chambers integrate the
    kerma behind the patient — the detector simulator's own dose model (tube output ∝ kV², inverse square,
    grid, water attenuation μ(kV)) — and stop the beam when it reaches the target for the density; an
    unreachable target (no chamber selected, too little mAs) runs to the backup time/mAs and says so."""
    from dros.simulators.detector_frames import anatomy_kerma_ugy

    backup_mas = s.ma * s.ms / 1000
    per_mas = anatomy_kerma_ugy(s.kv, 1.0, s.sid_cm, s.patient_cm)
    if "1" not in s.aec_field or per_mas <= 0 or backup_mas <= 0:
        return 1.0, int(EndOfExposure.BACKUP_TIMER)
    needed_mas = AEC_TARGET_UGY * AEC_DENSITY_STEP**s.aec_density / per_mas
    if needed_mas >= backup_mas:
        return 1.0, int(EndOfExposure.BACKUP_TIMER)
    return needed_mas / backup_mas, int(EndOfExposure.AEC)


# --- command line ------------------------------------------------------------------------------------


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dros simulate generator …` (registered by dros.cli under `simulate`)."""
    p = sub.add_parser("generator", help="run the X-ray generator simulator on a pty or TCP")
    p.add_argument("--listen", choices=("pty", "tcp"), default="pty", help="pty (default) or tcp")
    p.add_argument("--link", help="with pty: also make this path a symlink to the pty (stable across restarts)")
    p.add_argument("--host", default="127.0.0.1", help="bind address for tcp")
    p.add_argument("--port", type=int, default=0, help="TCP port (0 = any free port)")
    p.add_argument("--profile", choices=tuple(PROFILES), help="timing (default: device.simulator_profile)")
    p.add_argument("--config", help="TOML settings file (DROS_CONFIG)")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from dros.settings import Settings, SettingsError

    try:
        settings = Settings.load(args.config)
    except SettingsError as exc:
        print(f"dros simulate generator: {exc}", file=sys.stderr)
        return 2
    profile = args.profile or str(getattr(settings.device, "simulator_profile", "realistic"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return asyncio.run(_serve(GeneratorSimulator(profile), args, profile))


async def _serve(sim: GeneratorSimulator, args: argparse.Namespace, profile: str) -> int:
    """Serve until SIGINT/SIGTERM. Standard input takes fault injections, one per line: `door 0`,
    `overheat`, `nak 5`, `drop 2`, `garble 1`, `silence 3`, `stuck 1`, `heat 95`, `noise 64`, `clear`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.listen == "pty":
        url = await sim.serve_pty(args.link)
    else:
        url = f"socket://{args.host}:{await sim.serve_tcp(args.host, args.port)}"
    print(json.dumps({"url": url, "profile": profile}), flush=True)

    def on_line(parts: list[str]) -> None:
        try:
            done = sim.inject(parts[0], float(parts[1]) if len(parts) > 1 else 1.0)
        except ValueError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
        else:
            print(json.dumps({"injected": done}), flush=True)

    stop_reading = stdin_lines.watch(loop, sys.stdin.fileno(), on_line)
    await stop.wait()
    stop_reading()
    await sim.close()
    return 0
