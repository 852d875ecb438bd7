"""A simulated flat-panel detector speaking docs/detector-protocol.md: control on a pty or TCP, frames on its
own TCP data channel.

A model of the device, not a test double. States INIT (boot self test and offset warm-up, calibration
runs) → STANDBY → ARMED (waiting for X-rays, for at most `arm_window_s`) → INTEGRATING (X-ray window open)
→ READOUT → STANDBY, and ERROR. Offset/gain/defect correction maps each carry a validity that expires
(offset after 12 h, gain and defect after 180 days; due soon = ValidWarn); the panel refuses to arm while
any map is out of date. Pixels come from the Rust phantom shaped by the delivered kV/mAs, the patient
thickness and the view (`detector_frames`), or from a replayed folder. Faults on command: lost frame
(readout timeout), corrupted payload, truncated transfer, garbage on the data channel, dropped
connections, an error state, an expired calibration.

Run it as ``dros simulate detector`` or in-process (`DetectorSimulator.serve_tcp` / `serve_pty`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import time
import tty
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dros.device.base import CalibrationValidity, DetectorState
from dros.device.detector_wire import (
    ACK,
    EVENT,
    NAK,
    Cmd,
    ControlParser,
    Event,
    FrameHeader,
    Refusal,
    encode,
    pairs,
)
from dros.simulators import stdin_lines
from dros.simulators.detector_frames import Beam, PanelResponse, ReplayError, ReplaySource, synthesize

log = logging.getLogger("dros.simulators.detector")

DAY = 86400.0
SEND_SLICE = 256 * 1024


@dataclass(frozen=True, slots=True)
class Profile:
    """Timing of one simulator profile (`device.simulator_profile`)."""

    init_s: float  # boot self test + offset warm-up
    arm_s: float  # STANDBY → ARMED
    readout_s: float  # X-ray window closed → frame on the data channel (at least)
    calibrate_s: float  # one correction map


PROFILES: dict[str, Profile] = {
    "instant": Profile(init_s=0.0, arm_s=0.0, readout_s=0.0, calibrate_s=0.0),
    # readout 1.3 s: a 35×43 cm panel's VSYNC for ~2600 lines (docs/detector-protocol.md §6)
    "realistic": Profile(init_s=1.0, arm_s=0.2, readout_s=1.3, calibrate_s=3.0),
}

#: Validity period and warning margin of each correction map (seconds).
CAL_PERIODS: dict[str, tuple[float, float]] = {
    "offset": (12 * 3600.0, 3600.0),
    "gain": (180 * DAY, 14 * DAY),
    "defect": (180 * DAY, 14 * DAY),
}


@dataclass(slots=True)
class Injected:
    lose_frames: int = 0  # readouts that send nothing (driver sees a timeout)
    corrupt_frames: int = 0  # payload CRC does not match
    truncate_frames: int = 0  # half the payload, then the data link drops


@dataclass(slots=True)
class Arming:
    view_id: str = ""
    thickness_cm: float = 20.0
    seed: int = 0
    sync: str = "HWS"


@dataclass(slots=True)
class Stats:
    frames_sent: int = 0
    commands: int = 0
    control_connections: int = 0
    data_connections: int = 0
    readout_failures: int = 0


@dataclass(slots=True)
class PendingFrame:
    header: FrameHeader
    payload: memoryview


class DetectorSimulator:
    def __init__(
        self,
        profile: str = "instant",
        panel: PanelResponse | None = None,
        *,
        replay: str | None = None,
        detector_id: str = "SIM-FPD-0001",
        sid_cm: float = 110.0,
        arm_window_s: float = 30.0,
        integration_max_s: float = 10.0,
        render_apart: bool = False,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown simulator profile {profile!r} (instant, realistic)")
        self.profile = PROFILES[profile]
        self.panel = panel or PanelResponse()
        self.replay = ReplaySource(replay) if replay else None
        self.detector_id = detector_id
        self.sid_cm = sid_cm
        self.arm_window_s = arm_window_s
        self.integration_max_s = integration_max_s
        self.render_apart = render_apart  # inside the service: large phantoms in a helper process
        self.state = DetectorState.INIT
        self.errors: list[str] = []
        now = time.time()
        # offset is taken at boot (INIT); gain/defect come from the last service visit, a month ago
        self.calibrated_at: dict[str, float] = {"offset": now, "gain": now - 30 * DAY, "defect": now - 30 * DAY}
        self.frame_id = 0
        self.arming = Arming()
        self.inj = Injected()
        self.stats = Stats()
        self.temperature_c = 31.5
        self._parser = ControlParser()
        self._send: Callable[[bytes], None] | None = None
        self._data_writer: asyncio.StreamWriter | None = None
        self._control_writers: list[asyncio.StreamWriter] = []
        self._pending: PendingFrame | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closers: list[Callable[[], None]] = []
        self._data_port = 0
        self._data_server: asyncio.Server | None = None

    # --- serving -----------------------------------------------------------------------------------

    async def serve_data(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen for the host's data connection (one at a time, the latest wins); returns the port."""

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            old = self._data_writer
            self._data_writer = writer
            self.stats.data_connections += 1
            if old is not None:
                old.close()
            if self._pending is not None:
                pending, self._pending = self._pending, None
                self._spawn(self._transmit(pending))
            with contextlib.suppress(ConnectionError, OSError):
                while await reader.read(4096):
                    pass  # the host never sends on the data channel
            if self._data_writer is writer:
                self._data_writer = None
            writer.close()

        self._data_server = await asyncio.start_server(on_client, host, port)
        self._data_port = int(self._data_server.sockets[0].getsockname()[1])
        server = self._data_server

        def close() -> None:
            server.close()
            if self._data_writer is not None:
                self._data_writer.close()
                self._data_writer = None

        self._closers.append(close)
        return self._data_port

    async def serve_tcp(self, host: str = "127.0.0.1", port: int = 0, data_port: int = 0) -> tuple[int, int]:
        """Control on TCP; returns (control port, data port)."""

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for old in self._control_writers:
                old.close()
            self._control_writers[:] = [writer]
            self.stats.control_connections += 1
            self._parser = ControlParser()

            def send(data: bytes) -> None:
                if not writer.is_closing():
                    writer.write(data)

            self._send = send
            try:
                while data := await reader.read(4096):
                    self._receive(data)
            except (ConnectionError, OSError):
                pass
            finally:
                if self._control_writers and self._control_writers[0] is writer:
                    self._send = None
                    self._control_writers.clear()
                writer.close()

        server = await asyncio.start_server(on_client, host, port)
        control_port = int(server.sockets[0].getsockname()[1])

        def close() -> None:
            server.close()
            for w in self._control_writers:
                w.close()
            self._control_writers.clear()

        self._closers.append(close)
        dport = await self.serve_data(host, data_port)
        self._begin()
        return control_port, dport

    async def serve_pty(self, host: str = "127.0.0.1", data_port: int = 0) -> tuple[str, int]:
        """Control on a new pty; returns (the slave's path for the driver, data port)."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line discipline: the host sees the bytes as sent
        os.set_blocking(master, False)
        path = os.ttyname(slave)
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            self._receive(data)

        def send(data: bytes) -> None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(master, data)  # a full pty drops bytes, like a line nobody reads

        loop.add_reader(master, readable)
        self._send = send
        self.stats.control_connections += 1

        def close() -> None:
            loop.remove_reader(master)
            for fd in (master, slave):  # the slave stays open until here: no EIO while the host reopens
                with contextlib.suppress(OSError):
                    os.close(fd)

        self._closers.append(close)
        dport = await self.serve_data(host, data_port)
        self._begin()
        return path, dport

    async def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for closer in self._closers:
            closer()
        self._closers.clear()
        self._send = None
        for _ in range(3):  # let the connection handlers see their EOF and return
            await asyncio.sleep(0)

    def _begin(self) -> None:
        self._to(DetectorState.INIT)
        self._timer("init", self.profile.init_s, self._init_done)

    def _init_done(self) -> None:
        self.calibrated_at["offset"] = time.time()
        self._to(DetectorState.ERROR if self.errors else DetectorState.STANDBY)

    # --- status ------------------------------------------------------------------------------------

    def validity(self, name: str, now: float | None = None) -> tuple[CalibrationValidity, int]:
        """Validity of one correction map and the seconds until it is out of date (negative: overdue)."""
        period, warn = CAL_PERIODS[name]
        at = self.calibrated_at.get(name)
        if at is None:
            return CalibrationValidity.NO_DATA, 0
        left = at + period - (time.time() if now is None else now)
        if left <= 0:
            return CalibrationValidity.OUT_OF_DATE, int(left)
        return (CalibrationValidity.VALID_WARN if left <= warn else CalibrationValidity.VALID), int(left)

    def status_pairs(self) -> list[str]:
        now = time.time()
        values: dict[str, str | int | float] = {"state": self.state.value, "frame": self.frame_id}
        for name in CAL_PERIODS:
            v, left = self.validity(name, now)
            values[name] = v.value
            values[name + "_due"] = left
        values.update(
            errors=";".join(self.errors),
            id=self.detector_id,
            w=self.panel.width,
            h=self.panel.height,
            bits=self.panel.bits,
            data=self._data_port,
            temp=self.temperature_c,
        )
        return pairs(values)

    def _emit(self, event: Event, **extra: str | int | float) -> None:
        self._write(encode(EVENT, event.value, *self.status_pairs(), *pairs(dict(extra))))

    def _write(self, frame: bytes) -> None:
        if self._send is not None:
            self._send(frame)

    def _to(self, state: DetectorState) -> None:
        if state != self.state:
            log.debug("detector %s → %s", self.state, state)
        self.state = state
        self._cancel("arm_window", "integration")
        if state == DetectorState.ARMED:
            self._timer("arm_window", self.arm_window_s, self._arm_expired)
        elif state == DetectorState.INTEGRATING:
            self._timer("integration", self.integration_max_s, self._integration_expired)
        self._emit(Event.STATE)

    def _arm_expired(self) -> None:
        if self.state == DetectorState.ARMED:
            self._to(DetectorState.STANDBY)
            self._emit(Event.EXPOSURE_TIMEOUT)

    def _integration_expired(self) -> None:
        if self.state == DetectorState.INTEGRATING:
            self._to(DetectorState.STANDBY)
            self._emit(Event.EXPOSURE_TIMEOUT)

    def _timer(self, name: str, delay: float, fn: Callable[[], None]) -> None:
        self._cancel(name)
        self._timers[name] = asyncio.get_running_loop().call_later(max(delay, 0.0), fn)

    def _cancel(self, *names: str) -> None:
        for name in names:
            handle = self._timers.pop(name, None)
            if handle is not None:
                handle.cancel()

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- commands ----------------------------------------------------------------------------------

    def _receive(self, data: bytes) -> None:
        for fields in self._parser.feed(data):
            self.stats.commands += 1
            name, args = fields[0], fields[1:]
            try:
                reply = self._execute(name, args)
            except _Refused as exc:
                self._write(encode(name, NAK, int(exc.code), exc.text))
            else:
                self._write(encode(name, ACK, *reply))

    def _execute(self, name: str, args: list[str]) -> list[str]:
        if name == Cmd.STATUS:
            return self.status_pairs()
        if name == Cmd.ARM:
            return self._arm(args)
        if name == Cmd.DISARM:
            if self.state in (DetectorState.ARMED, DetectorState.INTEGRATING):
                self._to(DetectorState.STANDBY)
            return []
        if name == Cmd.XRAY_ON:
            if self.state == DetectorState.INTEGRATING:
                return []
            if self.state != DetectorState.ARMED:
                raise _Refused(Refusal.WRONG_STATE, f"not armed ({self.state.value})")
            self._to(DetectorState.INTEGRATING)
            return []
        if name == Cmd.XRAY_OFF:
            return self._xray_off(args)
        if name == Cmd.CALIBRATE:
            return self._calibrate(args)
        if name == Cmd.RESET:
            self.errors.clear()
            self._cancel("init")
            self._begin()
            return []
        if name == Cmd.FAULT:
            return [self.inject(args[0] if args else "", args[1] if len(args) > 1 else "")]
        raise _Refused(Refusal.UNKNOWN_COMMAND, f"unknown command {name}")

    def _arm(self, args: list[str]) -> list[str]:
        if self.errors or self.state == DetectorState.ERROR:
            raise _Refused(Refusal.IN_ERROR, "detector error: " + ";".join(self.errors))
        if self.state not in (DetectorState.STANDBY, DetectorState.ARMED):
            raise _Refused(Refusal.WRONG_STATE, f"cannot arm in {self.state.value}")
        bad = [n for n in CAL_PERIODS if not self.validity(n)[0].usable]
        if bad:
            raise _Refused(Refusal.CALIBRATION_INVALID, "calibration out of date: " + ";".join(bad))
        try:
            view = args[0] if args else ""
            thickness = float(args[1]) / 10.0 if len(args) > 1 and args[1] else 20.0
            seed = int(args[2]) if len(args) > 2 and args[2] else 0
            sync = args[3] if len(args) > 3 and args[3] else "HWS"
        except ValueError:
            raise _Refused(Refusal.BAD_ARGUMENT, "ARM,view,thickness_mm,seed,sync") from None
        if not 0 < thickness <= 100:
            raise _Refused(Refusal.BAD_ARGUMENT, "thickness_mm must be 1..1000")
        self.arming = Arming(view_id=view, thickness_cm=thickness, seed=seed, sync=sync)
        if self.state == DetectorState.STANDBY:
            if self.profile.arm_s > 0:
                self._timer("arm", self.profile.arm_s, self._armed)
            else:
                self._armed()
        return []

    def _armed(self) -> None:
        if self.state == DetectorState.STANDBY:
            self._to(DetectorState.ARMED)

    def _xray_off(self, args: list[str]) -> list[str]:
        if self.state not in (DetectorState.ARMED, DetectorState.INTEGRATING):
            raise _Refused(Refusal.WRONG_STATE, f"no X-ray window open ({self.state.value})")
        try:
            kv = int(args[0]) / 10.0
            mas = int(args[3]) / 1000.0
        except (IndexError, ValueError):
            raise _Refused(Refusal.BAD_ARGUMENT, "XOFF,kv10,ma100,ms100,mas1000,focus") from None
        if not (0 < kv <= 200 and 0 <= mas <= 2000):
            raise _Refused(Refusal.BAD_ARGUMENT, "kV or mAs out of range")
        self.frame_id += 1
        beam = Beam(
            kv=kv,
            mas=mas,
            sid_cm=self.sid_cm,
            thickness_cm=self.arming.thickness_cm,
            view_id=self.arming.view_id,
            seed=self.arming.seed,
        )
        self._to(DetectorState.READOUT)
        self._spawn(self._readout(self.frame_id, beam))
        return [str(self.frame_id)]

    def _calibrate(self, args: list[str]) -> list[str]:
        name = args[0] if args else ""
        if name not in CAL_PERIODS:
            raise _Refused(Refusal.BAD_ARGUMENT, "CAL,offset|gain|defect")
        if self.state != DetectorState.STANDBY:
            raise _Refused(Refusal.WRONG_STATE, f"cannot calibrate in {self.state.value}")
        self._to(DetectorState.INIT)

        def done() -> None:
            self.calibrated_at[name] = time.time()
            self._to(DetectorState.STANDBY)

        self._timer("calibrate", self.profile.calibrate_s, done)
        return []

    # --- faults ------------------------------------------------------------------------------------

    def inject(self, fault: str, arg: str = "") -> str:
        """Names: timeout (next N readouts send nothing), corrupt (next N payloads fail their CRC),
        truncate (next N transfers stop half-way and drop the data link), garbage (N random bytes on the
        data channel now), noise (N random bytes on the control channel now), disconnect (drop the control and
        data connections now), error (enter ERROR with
        code `arg`), expire (make map `arg` out of date), clear (injections off)."""
        n = int(arg) if arg.isdigit() else 1
        if fault == "timeout":
            self.inj.lose_frames = n
        elif fault == "corrupt":
            self.inj.corrupt_frames = n
        elif fault == "truncate":
            self.inj.truncate_frames = n
        elif fault == "garbage":
            junk = np.random.default_rng().integers(0, 256, size=max(n, 1), dtype=np.uint8).tobytes()
            if self._data_writer is not None:
                self._data_writer.write(junk)
        elif fault == "noise":  # line noise on the control channel: random bytes, STX and ETX included
            self._write(np.random.default_rng().integers(0, 256, size=max(n, 1), dtype=np.uint8).tobytes())
        elif fault == "disconnect":
            for w in self._control_writers:
                w.close()
            if self._data_writer is not None:
                self._data_writer.close()
        elif fault == "error":
            self.errors.append(arg or "FPD_HW")
            self._to(DetectorState.ERROR)
        elif fault == "expire":
            if arg not in CAL_PERIODS:
                raise _Refused(Refusal.BAD_ARGUMENT, "expire offset|gain|defect")
            self.calibrated_at[arg] = time.time() - CAL_PERIODS[arg][0] - 1.0
            self._emit(Event.STATE)
        elif fault == "clear":
            self.inj = Injected()
        else:
            raise _Refused(Refusal.BAD_ARGUMENT, f"unknown fault {fault!r}")
        return f"{fault} {arg}".strip()

    # --- readout -----------------------------------------------------------------------------------

    async def _readout(self, frame_id: int, beam: Beam) -> None:
        started = time.monotonic()
        source = ""
        try:
            if self.replay is not None:
                source = self.replay.next_path()
                pixels = await asyncio.to_thread(ReplaySource.load, source)
            else:
                pixels = await asyncio.to_thread(synthesize, beam, self.panel, render_apart=self.render_apart)
            header, payload = await asyncio.to_thread(_pack_frame, frame_id, pixels, self.panel.bits)
        except ReplayError as exc:
            await self._wait_readout(started)
            self.stats.readout_failures += 1
            self._to(DetectorState.STANDBY)
            self._emit(Event.READOUT_FAILED, frame=frame_id, reason=exc.reason.value, path=exc.path, message=exc.en)
            return
        await self._wait_readout(started)
        if self.inj.lose_frames > 0:  # the frame never leaves the panel: the host times out
            self.inj.lose_frames -= 1
            self._to(DetectorState.STANDBY)
            return
        if self.inj.corrupt_frames > 0:
            self.inj.corrupt_frames -= 1
            header = dataclasses.replace(header, payload_crc=header.payload_crc ^ 0x5A5A5A5A)
        frame = PendingFrame(header, payload)
        if self._data_writer is None:
            self._pending = frame  # sent when the host's data link (re)connects
        else:
            await self._transmit(frame)
        self._to(DetectorState.STANDBY)

    async def _wait_readout(self, started: float) -> None:
        left = self.profile.readout_s - (time.monotonic() - started)
        if left > 0:
            await asyncio.sleep(left)

    async def _transmit(self, frame: PendingFrame) -> None:
        writer = self._data_writer
        if writer is None:
            self._pending = frame
            return
        header = dataclasses.replace(frame.header, sent_at_us=int(time.time() * 1e6))
        payload = frame.payload
        truncate = self.inj.truncate_frames > 0
        if truncate:
            self.inj.truncate_frames -= 1
            payload = frame.payload[: len(frame.payload) // 2]
        try:
            writer.write(header.pack())
            # in slices, draining between them: asyncio (3.11) would otherwise copy the unsent rest of 19 MB
            # into its buffer and shift it after every send — milliseconds of the loop of an in-process panel
            for at in range(0, len(payload), SEND_SLICE):
                writer.write(payload[at : at + SEND_SLICE])
                await writer.drain()
                await asyncio.sleep(0)  # drain() does not yield while the socket takes everything
        except (ConnectionError, OSError):
            self._pending = frame
            return
        if truncate:
            writer.close()
            return
        self.stats.frames_sent += 1
        self._emit(Event.FRAME_SENT, frame_id=header.frame_id, crc=header.payload_crc)


def _pack_frame(frame_id: int, pixels: npt.NDArray[np.uint16], bits: int) -> tuple[FrameHeader, memoryview]:
    # the array's own bytes (no 19 MB tobytes() copy under the GIL); zlib.crc32 releases the GIL
    payload = np.ascontiguousarray(pixels, dtype="<u2").data.cast("B")
    rows, cols = pixels.shape
    header = FrameHeader(
        frame_id=frame_id,
        width=int(cols),
        height=int(rows),
        bits_stored=bits,
        payload_size=len(payload),
        payload_crc=zlib.crc32(payload),
        sent_at_us=0,
    )
    return header, payload


class _Refused(Exception):
    def __init__(self, code: Refusal, text: str = "") -> None:
        super().__init__(text)
        self.code = code
        self.text = text


# --- command line ------------------------------------------------------------------------------------


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`dros simulate detector …` (registered by dros.cli under `simulate`)."""
    p = sub.add_parser("detector", help="run the flat-panel detector simulator (control on TCP or a pty)")
    p.add_argument("--control", choices=("tcp", "pty"), default="tcp", help="control channel (default tcp)")
    p.add_argument("--host", default="127.0.0.1", help="bind address of the TCP channels")
    p.add_argument("--port", type=int, default=0, help="control TCP port (0 = any free port)")
    p.add_argument("--data-port", type=int, default=0, help="data channel TCP port (0 = any free port)")
    p.add_argument("--profile", choices=tuple(PROFILES), help="timing (default: device.simulator_profile)")
    p.add_argument("--width", type=int, default=3072)
    p.add_argument("--height", type=int, default=3072)
    p.add_argument("--bits", type=int, default=16, choices=range(10, 17), metavar="10..16")
    p.add_argument("--kind", default="rect", choices=("rect", "circle", "none"), help="phantom collimation")
    p.add_argument("--dn-per-ugy", type=float, help="panel response (default: device.detector_dn_per_ugy)")
    p.add_argument("--offset-dn", type=float, help="DN at zero dose (default: device.detector_offset_dn)")
    p.add_argument("--sid-cm", type=float, default=110.0, help="source-to-image distance")
    p.add_argument("--replay", help="a folder of .tif/.npy/.raw frames (or one file) to send instead of phantoms")
    p.add_argument("--id", default="SIM-FPD-0001", help="detector id reported in status")
    p.add_argument("--arm-window", type=float, default=30.0, help="seconds armed without X-rays before disarming")
    p.add_argument("--config", help="TOML settings file (DROS_CONFIG)")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from dros.settings import Settings, SettingsError

    try:
        settings = Settings.load(args.config)
    except SettingsError as exc:
        print(f"dros simulate detector: {exc}", file=sys.stderr)
        return 2
    dev = settings.device
    profile = args.profile or str(getattr(dev, "simulator_profile", "realistic"))
    panel = PanelResponse(
        width=args.width,
        height=args.height,
        bits=args.bits,
        kind=args.kind,
        dn_per_ugy=args.dn_per_ugy
        if args.dn_per_ugy is not None
        else float(getattr(dev, "detector_dn_per_ugy", 1000.0)),
        offset_dn=args.offset_dn if args.offset_dn is not None else float(getattr(dev, "detector_offset_dn", 0.0)),
    )
    try:
        sim = DetectorSimulator(
            profile,
            panel,
            replay=args.replay,
            detector_id=args.id,
            sid_cm=args.sid_cm,
            arm_window_s=args.arm_window,
        )
    except ValueError as exc:
        print(f"dros simulate detector: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return asyncio.run(_serve(sim, args, profile))


async def _serve(sim: DetectorSimulator, args: argparse.Namespace, profile: str) -> int:
    """Serve until SIGINT/SIGTERM. Standard input takes fault injections, one per line, as the generator
    simulator does: `timeout`, `corrupt 2`, `truncate`, `garbage 5000`, `noise 64`, `disconnect`,
    `error FPD_TEMP`, `expire gain`, `clear`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.control == "pty":
        path, dport = await sim.serve_pty(args.host, args.data_port)
        control = path
    else:
        cport, dport = await sim.serve_tcp(args.host, args.port, args.data_port)
        control = f"socket://{args.host}:{cport}"
    # one JSON line: how to reach the panel (tests and scripts read it)
    print(json.dumps({"control": control, "data": f"{args.host}:{dport}", "profile": profile}), flush=True)

    def on_line(parts: list[str]) -> None:
        try:
            done = sim.inject(parts[0], parts[1] if len(parts) > 1 else "")
        except _Refused as exc:
            print(json.dumps({"error": exc.text}), flush=True)
        else:
            print(json.dumps({"injected": done}), flush=True)

    stop_reading = stdin_lines.watch(loop, sys.stdin.fileno(), on_line)
    await stop.wait()
    stop_reading()
    await sim.close()
    return 0
