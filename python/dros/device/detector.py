"""The flat-panel detector driver (`dros.device.base.Detector`) for panels speaking
docs/detector-protocol.md — the simulator (`dros simulate detector`) or a real panel behind an adapter.

Control link through pyserial's asyncio support (`serial_for_url`: a serial port, a pty or
``socket://host:port``), data channel over TCP (`detector_data.FrameReceiver`). The driver keeps the link:
status poll at `loop_time_s` (the seed's loopTime), commands retried on timeout (a lost or garbled frame
is answered by silence), and on any failure both links are closed and reopened every `reconnect_s` while
the status says LOST. The EI calibration (DN per µGy, offset; IEC 62494-1) comes from the settings and
travels with every frame, so the imaging chain computes EI for this panel.

For the acquisition loop (through `DeviceManager`, or directly)::

    det = DetectorDriver("socket://127.0.0.1:7801", dn_per_ugy=1000.0, offset_dn=0.0)
    await det.start(); await det.wait_for(lambda s: s.ready, 5.0)
    await det.arm(ArmRequest(view_id="View_DX_T_A_SK_AP_00", thickness_cm=19))
    await det.exposure_started()           # X-ray window opened (sync handshake)
    await det.exposure_ended(post)         # window closed; the generator's delivered kV/mA/ms/mAs
    frame = await det.read_frame(10.0)     # RawFrame (pixels, calibration, delivered, timings)
    r = imaging.process(frame.pixels, preset, target_ei, calibration=imaging_calibration(frame))
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import numpy as np
import numpy.typing as npt

from dros.device.base import (
    ArmRequest,
    CalibrationValidity,
    DetectorCalibration,
    DetectorState,
    DetectorStatus,
    DeviceFault,
    DeviceNotReady,
    LinkState,
    PostExposure,
    RawFrame,
    StatusListener,
)
from dros.device.detector_data import FrameReceiver, ReceiverStats
from dros.device.detector_wire import (
    ACK,
    DEFAULT_MAX_FRAME_BYTES,
    EVENT,
    NAK,
    Cmd,
    ControlParser,
    Event,
    FrameHeader,
    ReadoutFailure,
    Refusal,
    encode,
    missing_file_message,
    parse_pairs,
)

if TYPE_CHECKING:
    from dros.imaging import DetectorCalibration as ImagingCalibration

log = logging.getLogger("dros.device.detector")

NO_IMAGE = ("no image from the detector", "探测器未返回图像")


@dataclass(slots=True)
class DriverStats:
    connects: int = 0
    link_losses: int = 0
    commands: int = 0
    retries: int = 0
    frames: int = 0
    refused: int = 0
    events: int = 0


@dataclass(slots=True)
class _Exposure:
    started_at: float = 0.0
    ended_at: float = 0.0
    post: PostExposure | None = None
    frame_id: int | None = None
    done: bool = False  # read_frame has returned or raised for it


class DetectorDriver:
    """One panel. All methods run on the event loop and never block it."""

    def __init__(
        self,
        control_url: str,
        *,
        data_address: tuple[str, int] | None = None,
        dn_per_ugy: float = 1000.0,
        offset_dn: float = 0.0,
        baudrate: int = 115200,
        loop_time_s: float = 2.0,
        reconnect_s: float = 1.0,
        command_timeout_s: float = 0.5,
        retries: int = 2,
        arm_timeout_s: float = 5.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        if dn_per_ugy <= 0:
            raise ValueError("dn_per_ugy must be positive")
        self.control_url = control_url
        self.data_address = data_address
        self.baudrate = baudrate
        self.loop_time_s = loop_time_s
        self.reconnect_s = reconnect_s
        self.command_timeout_s = command_timeout_s
        self.retries = retries
        self.arm_timeout_s = arm_timeout_s
        self.max_frame_bytes = max_frame_bytes
        self._status = DetectorStatus(calibration=DetectorCalibration(dn_per_ugy=dn_per_ugy, offset_dn=offset_dn))
        self._listeners: list[StatusListener] = []
        self._changed = asyncio.Event()
        self.stats = DriverStats()
        self.last_error = ""
        self.data_port = 0
        self.frame_bytes = 0  # a full frame of this panel (its receive buffer is prepared off the loop)
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._lost = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._parser = ControlParser()
        self._cmd_lock = asyncio.Lock()
        self._pending: tuple[str, asyncio.Future[list[str]]] | None = None
        self._data_transport: asyncio.BaseTransport | None = None
        self._receiver: FrameReceiver | None = None
        self.receiver_stats = ReceiverStats()
        self._exposure = _Exposure()
        self._frames: dict[int, RawFrame] = {}
        self._failures: dict[int, tuple[str, str]] = {}

    # --- Detector interface: status ------------------------------------------------------------------

    @property
    def status(self) -> DetectorStatus:
        return self._status

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def _set(self, **changes: object) -> None:
        new = msgspec.structs.replace(self._status, **changes)
        if new == self._status:
            return
        self._status = new
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not take the link down
                log.exception("detector status listener failed")
        self._notify()

    def _notify(self) -> None:
        """Wake everyone waiting for a change (status, frame or failure)."""
        pulse, self._changed = self._changed, asyncio.Event()
        pulse.set()

    async def _until(self, condition: Callable[[], bool], timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await self._changed.wait()

    async def wait_for(self, predicate: Callable[[DetectorStatus], bool], timeout_s: float) -> DetectorStatus:
        """Wait until `predicate(status)` holds; TimeoutError otherwise."""
        await self._until(lambda: predicate(self._status), timeout_s)
        return self._status

    # --- Detector interface: lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        if self._supervisor is not None:
            return
        self._stopping = False
        self._set(link=LinkState.CONNECTING)
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise(), name="detector-link")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._disconnect()
        self._set(link=LinkState.CLOSED)

    async def _supervise(self) -> None:
        while not self._stopping:
            try:
                await self._connect()
                self.stats.connects += 1
                self.last_error = ""
                self._set(link=LinkState.CONNECTED)
                await self._keep_alive()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of either link: report, close, retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.debug("detector link failed: %s", self.last_error)
            if self._status.link == LinkState.CONNECTED:
                self.stats.link_losses += 1
            # the frame being read out is gone with the link: say so now, not after the close below
            # (closing a serial writer may itself wait up to a second for a peer that went away)
            self._fail_waiting_frame("detector connection lost during readout", "读出过程中探测器连接中断")
            self._set(link=LinkState.LOST)
            await self._disconnect()
            await asyncio.sleep(self.reconnect_s)

    async def _connect(self) -> None:
        import serial_asyncio_fast

        self._lost = asyncio.Event()
        self._parser = ControlParser()
        reader, self._writer = await asyncio.wait_for(
            serial_asyncio_fast.open_serial_connection(url=self.control_url, baudrate=self.baudrate), 5.0
        )
        self._reader_task = asyncio.get_running_loop().create_task(self._read_control(reader))
        self._apply(parse_pairs(await self._command(Cmd.STATUS)))
        host, port = self.data_address or (self._control_host(), self.data_port)
        if not port:
            raise ConnectionError("the detector reported no data channel port")
        loop = asyncio.get_running_loop()
        transport, receiver = await asyncio.wait_for(
            loop.create_connection(lambda: FrameReceiver(self, self.max_frame_bytes, self.frame_bytes), host, port), 5.0
        )
        self._data_transport, self._receiver = transport, receiver

    def _control_host(self) -> str:
        if self.control_url.startswith("socket://"):
            return self.control_url[len("socket://") :].rsplit(":", 1)[0] or "127.0.0.1"
        return "127.0.0.1"  # a pty or serial line: the data channel is on this host

    async def _keep_alive(self) -> None:
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.loop_time_s)
            if self._lost.is_set():
                break
            self._apply(parse_pairs(await self._command(Cmd.STATUS)))
        raise ConnectionError(self.last_error or "link lost")

    async def _disconnect(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
            self._reader_task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writer.wait_closed(), 1.0)
            self._writer = None
        if self._data_transport is not None:
            self._data_transport.close()
            self._data_transport = None
        if self._receiver is not None:
            self.receiver_stats = self._receiver.stats
            self._receiver = None
        if self._pending is not None and not self._pending[1].done():
            self._pending[1].set_exception(ConnectionError("link closed"))

    # --- control channel -----------------------------------------------------------------------------

    async def _read_control(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(4096):
                for fields in self._parser.feed(data):
                    self._dispatch(fields)
            self.last_error = "control link closed by the detector"
        except (OSError, ConnectionError) as exc:
            self.last_error = f"control link: {exc}"
        except Exception as exc:  # pyserial raises SerialException (an OSError subclass on most versions)
            self.last_error = f"control link: {exc}"
        self._link_lost()

    def _link_lost(self) -> None:
        """Either channel went away: say so at once. The frame being read out fails, the status shows
        LOST, and a command waiting for its reply fails now. The supervisor would do all this too, but it
        may itself be waiting on a reply that will never come (3 attempts × 0.5 s outlast the 1.3 s readout
        the frame was racing)."""
        self._lost.set()
        self._fail_waiting_frame("detector connection lost during readout", "读出过程中探测器连接中断")
        if self._status.link == LinkState.CONNECTED:
            self.stats.link_losses += 1
            self._set(link=LinkState.LOST)
        pending = self._pending
        if pending is not None and not pending[1].done():
            pending[1].set_exception(ConnectionError("link lost"))

    def _dispatch(self, fields: list[str]) -> None:
        name = fields[0]
        if name == EVENT:
            self.stats.events += 1
            self._event(fields[1] if len(fields) > 1 else "", parse_pairs(fields[2:]))
            return
        pending = self._pending
        if pending is not None and pending[0] == name and not pending[1].done():
            pending[1].set_result(fields[1:])

    async def _command(self, cmd: Cmd, *args: str | int, retries: int | None = None) -> list[str]:
        """Send one command and return the fields after ``$``; DeviceFault/DeviceNotReady on ``!``."""
        async with self._cmd_lock:
            writer = self._writer
            if writer is None:
                raise DeviceNotReady("detector not connected", "探测器未连接", interlocks=("detector_link",))
            loop = asyncio.get_running_loop()
            attempts = (self.retries if retries is None else retries) + 1
            for attempt in range(attempts):
                if self._lost.is_set():
                    raise DeviceNotReady("detector not connected", "探测器未连接", interlocks=("detector_link",))
                fut: asyncio.Future[list[str]] = loop.create_future()
                self._pending = (cmd.value, fut)
                self.stats.commands += 1
                if attempt:
                    self.stats.retries += 1
                try:
                    writer.write(encode(cmd.value, *args))
                    reply = await asyncio.wait_for(fut, self.command_timeout_s)
                except TimeoutError:
                    continue
                except (ConnectionError, OSError) as exc:
                    self._lost.set()
                    raise DeviceNotReady(
                        "detector not connected", "探测器未连接", interlocks=("detector_link",)
                    ) from exc
                finally:
                    self._pending = None
                if reply and reply[0] == ACK:
                    return reply[1:]
                if reply and reply[0] == NAK:
                    raise _refusal(cmd, reply[1:])
                continue  # neither $ nor !: treat as garbled
            self.last_error = f"no answer to {cmd.value} after {attempts} attempts"
            self._lost.set()
            raise DeviceNotReady("detector does not answer", "探测器无响应", interlocks=("detector_link",))

    def _event(self, name: str, values: dict[str, str]) -> None:
        self._apply(values)
        if name == Event.READOUT_FAILED:
            frame_id = _int(values.get("frame", ""))
            if values.get("reason") == ReadoutFailure.MISSING_FILE:
                en, zh = missing_file_message(values.get("path", ""))
            else:
                en = values.get("message", "readout failed")
                zh = "探测器读出失败：" + en
            if frame_id is not None:
                self._failures[frame_id] = (en, zh)
                self._notify()
        elif name == Event.EXPOSURE_TIMEOUT:
            self.last_error = "armed without X-rays until the panel's window closed"

    def _apply(self, values: dict[str, str]) -> None:
        changes: dict[str, object] = {}
        if "state" in values:
            with contextlib.suppress(ValueError):
                changes["state"] = DetectorState(values["state"])
        cal: dict[str, object] = {}
        for key in ("offset", "gain", "defect"):
            if key in values:
                with contextlib.suppress(ValueError):
                    cal[key] = CalibrationValidity(values[key])
        if cal:
            changes["calibration"] = msgspec.structs.replace(self._status.calibration, **cal)
        if "errors" in values:
            changes["errors"] = tuple(e for e in values["errors"].split(";") if e)
        if "id" in values:
            changes["detector_id"] = values["id"]
        if "temp" in values:
            with contextlib.suppress(ValueError):
                changes["temperature_c"] = float(values["temp"])
        if "data" in values:
            self.data_port = _int(values["data"]) or 0
        if "w" in values and "h" in values:
            self.frame_bytes = (_int(values["w"]) or 0) * (_int(values["h"]) or 0) * 2
        if changes:
            self._set(**changes)

    # --- Detector interface: exposure ----------------------------------------------------------------

    async def arm(self, request: ArmRequest) -> None:
        thickness_mm = max(1, round(request.thickness_cm * 10))
        self._exposure = _Exposure()
        self._frames.clear()  # frame ids restart with a new panel session: nothing older is wanted
        self._failures.clear()
        await self._command(Cmd.ARM, request.view_id, thickness_mm, request.seed, request.sync_mode)
        try:
            await self.wait_for(
                lambda s: s.state == DetectorState.ARMED or s.link != LinkState.CONNECTED, self.arm_timeout_s
            )
        except TimeoutError:
            raise DeviceFault("detector did not arm", "探测器未能进入就绪状态") from None
        if self._status.state != DetectorState.ARMED:
            raise DeviceNotReady("detector not connected", "探测器未连接", interlocks=("detector_link",))

    async def disarm(self) -> None:
        await self._command(Cmd.DISARM)

    async def exposure_started(self) -> None:
        self._exposure.started_at = time.time()
        await self._command(Cmd.XRAY_ON, retries=0)

    async def exposure_ended(self, post: PostExposure) -> None:
        """Close the X-ray window; the panel answers with the id of the frame it now reads out.
        Not retried: a second XOFF would find the panel already reading out."""
        self._exposure.ended_at = time.time()
        self._exposure.post = post
        reply = await self._command(
            Cmd.XRAY_OFF,
            round(post.kv * 10),
            round(post.ma * 100),
            round(post.ms * 100),
            round(post.mas * 1000),
            int(post.focus),
            retries=0,
        )
        frame_id = _int(reply[0]) if reply else None
        if frame_id is None:
            raise DeviceFault("detector sent no frame id", "探测器未返回帧号")
        self._exposure.frame_id = frame_id

    async def read_frame(self, timeout_s: float) -> RawFrame:
        frame_id = self._exposure.frame_id
        if frame_id is None:
            raise DeviceFault("no exposure to read out", "没有待读出的曝光")

        def arrived() -> bool:
            return frame_id in self._frames or frame_id in self._failures

        try:
            await self._until(arrived, timeout_s)
        except TimeoutError:
            self._exposure.done = True
            raise DeviceFault(*NO_IMAGE) from None
        self._exposure.done = True
        if frame_id in self._failures:
            en, zh = self._failures.pop(frame_id)
            raise DeviceFault(en, zh)
        frame = self._frames.pop(frame_id)
        if frame.delivered is None:
            # a fast panel's frame can arrive before its XOFF reply named it: it is this exposure's
            exp = self._exposure
            frame = dataclasses.replace(
                frame, delivered=exp.post, exposure_started_at=exp.started_at, exposure_ended_at=exp.ended_at
            )
        return frame

    async def clear_errors(self) -> None:
        await self._command(Cmd.RESET)

    # --- extras: service and simulator control -------------------------------------------------------

    async def calibrate(self, correction: str) -> None:
        """Run one correction map (offset, gain, defect); returns when the panel is back in STANDBY."""
        await self._command(Cmd.CALIBRATE, correction)
        await self.wait_for(lambda s: s.state == DetectorState.STANDBY, 60.0)

    async def inject_fault(self, name: str, arg: str | int = "") -> None:
        """Simulator only (`FAULT`): timeout, corrupt, truncate, garbage, disconnect, error, expire, clear."""
        await self._command(Cmd.FAULT, name, arg)

    async def refresh(self) -> DetectorStatus:
        self._apply(parse_pairs(await self._command(Cmd.STATUS)))
        return self._status

    # --- FrameSink (called by FrameReceiver on the loop) ---------------------------------------------

    def frame_received(self, header: FrameHeader, pixels: npt.NDArray[np.uint16], received_at: float) -> None:
        self.stats.frames += 1
        exp = self._exposure
        transfer_ms = max(0.0, received_at * 1e3 - header.sent_at_us / 1e3) if header.sent_at_us else 0.0
        mine = exp.frame_id == header.frame_id
        self._frames[header.frame_id] = RawFrame(
            pixels=pixels,
            frame_id=header.frame_id,
            detector_id=self._status.detector_id,
            bit_depth=header.bits_stored,
            delivered=exp.post if mine else None,
            exposure_started_at=exp.started_at if mine else 0.0,
            exposure_ended_at=exp.ended_at if mine else 0.0,
            received_at=received_at,
            calibration=self._status.calibration,
            metadata={"transfer_ms": f"{transfer_ms:.3f}"},
        )
        for old in sorted(self._frames)[:-2]:  # keep the last two: nobody reads older ones
            del self._frames[old]
        self._notify()

    def frame_refused(self, frame_id: int | None, reason: str) -> None:
        self.stats.refused += 1
        self.last_error = reason
        log.warning("detector frame refused: %s", reason)
        if frame_id is not None:
            self._failures[frame_id] = (reason, "探测器图像传输错误：" + reason)
            self._notify()

    def data_link_lost(self, exc: Exception | None) -> None:
        if self._receiver is not None:
            self.receiver_stats = self._receiver.stats
        if not self._stopping:
            self.last_error = f"data link lost: {exc}" if exc else "data link closed by the detector"
            self._link_lost()

    def _fail_waiting_frame(self, en: str, zh: str) -> None:
        frame_id = self._exposure.frame_id
        if frame_id is None or self._exposure.done:
            return
        if frame_id not in self._frames and frame_id not in self._failures:
            self._failures[frame_id] = (en, zh)
            self._notify()


def parse_data_address(text: str) -> tuple[str, int] | None:
    """``"host:port"`` (the `device.detector_data` setting) → (host, port); ``""`` → None (ask the panel)."""
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"detector data address must be host:port, not {text!r}")
    return host, int(port)


def imaging_calibration(frame: RawFrame) -> ImagingCalibration:
    """The frame's detector calibration as `imaging.process(..., calibration=…)` takes it, so EI/DI are
    computed for the panel that took the frame (IEC 62494-1), not for the phantom's demo detector."""
    from dros.imaging import DetectorCalibration as ImagingCalibration

    return ImagingCalibration(dn_per_ugy=frame.calibration.dn_per_ugy, offset_dn=frame.calibration.offset_dn)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _refusal(cmd: Cmd, fields: list[str]) -> Exception:
    code = _int(fields[0]) if fields else None
    text = fields[1] if len(fields) > 1 else ""
    if code == Refusal.CALIBRATION_INVALID:
        return DeviceNotReady(
            f"detector calibration out of date ({text})",
            f"探测器校准已过期（{text}）",
            interlocks=("detector_calibration",),
        )
    if code == Refusal.IN_ERROR:
        return DeviceNotReady(f"detector error ({text})", f"探测器故障（{text}）", interlocks=("detector_error",))
    if code == Refusal.WRONG_STATE:
        return DeviceNotReady(f"detector not ready: {text}", f"探测器未就绪：{text}", interlocks=("detector_state",))
    return DeviceFault(f"detector refused {cmd.value}: {text}", f"探测器拒绝 {cmd.value}：{text}", code=code or 0)
