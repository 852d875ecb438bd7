"""`DeviceManager`: the single owner of device state (``app.state.devices``).

It holds the generator and detector drivers, recomputes one `DeviceStatus` on every change, publishes
`DeviceEvent`s, serialises parameter changes, and runs exposures behind the interlocks and the
one-exposure-at-a-time lock. HTTP handlers and the acquisition task only call it.

Acquisition-facing API::

    devices: DeviceManager = app.state.devices
    tech = await devices.load_technique(Technique(...))      # or load an APR: domain/device/service.load_apr
    await devices.arm(ArmRequest(view_id=..., thickness_cm=...))
    result = await devices.expose(ExposureRequest(press_id=str(uuid4())))
    # result.post (dose record, always), result.frame (RawFrame) or result.frame_error

    devices.status                   # DeviceStatus snapshot (gen_status/fpd_status/gen_ready/fpd_ready/interlocks)
    async for ev in devices.events(): ...          # DeviceEvent stream (status, param, exposure, error)
    unsubscribe = devices.subscribe(callback)       # callback(DeviceEvent), on the loop
    await devices.wait_for(lambda st: st.gen_ready, timeout_s=5)

Exposure sequence (`expose`): refuse with `DeviceBusy` if another exposure holds the lock; refuse with
`DeviceNotReady` (every failing interlock listed) unless the generator is in Standby with no error, the
door closed, the technique within limits and the heat budget, the detector connected, calibrated and ARMED,
and no host-side error is active; refuse a second exposure for the same `press_id` (WaitFootRelease).
Then prep → interlocks again (generator Ready) → detector window open → X-ray request → wait for the end
within the backup time (set time × 1.2 + `backup_margin_s`) → post-exposure record → detector window
closed → hand switch released → frame (up to `frame_timeout_s`). A fault, a lost link or the backup timer
aborts (generator to a safe state, detector disarmed), records a host-side error that blocks further
exposures until `clear_errors`, and raises `DeviceFault` with the delivered dose (if any) in `.post`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from dros.device import interlock
from dros.device.base import (
    ArmRequest,
    Detector,
    DetectorStatus,
    DeviceBusy,
    DeviceEvent,
    DeviceFault,
    DeviceNotReady,
    DeviceStatus,
    EventKind,
    ExposureRequest,
    ExposureResult,
    Generator,
    GeneratorStatus,
    LinkState,
    PostExposure,
    TechMode,
    Technique,
)
from dros.errors import DrosError, invalid_param

log = logging.getLogger("dros.device")

GENERATOR_URI = "DIOS/DEVICE/Generator"
DETECTOR_URI = "DIOS/DEVICE/Detector"
Closer = Callable[[], Any]  # sync or async close of an in-process simulator

#: Host-side errors (kept until ClearError/Reset): code → (en, zh).
HOST_ERRORS: dict[str, tuple[str, str]] = {
    "comm_loss": ("communication with the generator lost during prep/exposure", "准备/曝光期间与发生器通信中断"),
    "backup_timer": ("exposure stopped by the backup timer", "曝光被后备计时器终止"),
    "exposure_fault": ("exposure aborted by a generator fault", "曝光因发生器故障中止"),
}


class DeviceManager:
    def __init__(
        self,
        generator: Generator | None,
        detector: Detector | None,
        *,
        backup_margin_s: float = 0.25,
        frame_timeout_s: float = 10.0,
        simulators: list[Closer] | None = None,
    ) -> None:
        self.generator = generator
        self.detector = detector
        self.backup_margin_s = backup_margin_s
        self.frame_timeout_s = frame_timeout_s
        self._simulators = simulators or []
        self._status = DeviceStatus()
        self._subscribers: list[Callable[[DeviceEvent], None]] = []
        self._changed = asyncio.Event()
        self._expose_lock = asyncio.Lock()
        self._param_lock = asyncio.Lock()
        self._presses: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._host_errors: list[str] = []
        self._opened: set[str] = set()
        self._unlisten: list[Callable[[], None]] = []
        self._started = False
        for dev in (generator, detector):
            if dev is not None:
                self._unlisten.append(dev.add_listener(self._device_changed))
        self._refresh()

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the drivers (links are kept from here on: heartbeat, reconnect)."""
        self._started = True
        for dev in (self.generator, self.detector):
            if dev is not None:
                await dev.start()

    async def stop(self, timeout_s: float = 1.0) -> None:
        """Stop drivers and in-process simulators within `timeout_s` in total."""

        async def _all() -> None:
            for dev in (self.generator, self.detector):
                if dev is not None:
                    with contextlib.suppress(Exception):
                        await dev.stop()
            for close in self._simulators:
                with contextlib.suppress(Exception):
                    result = close()
                    if asyncio.iscoroutine(result):
                        await result

        try:
            await asyncio.wait_for(_all(), timeout_s)
        except TimeoutError:
            log.warning("device layer did not stop within %.1f s", timeout_s)
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten.clear()

    def device(self, uri: str) -> Generator | Detector:
        """The driver behind a device URI; invalid_param naming `deviceUri` when unknown or not configured."""
        dev: Generator | Detector | None
        if uri == GENERATOR_URI:
            dev = self.generator
        elif uri == DETECTOR_URI:
            dev = self.detector
        else:
            raise invalid_param("deviceUri", f"unknown device {uri!r} (use {GENERATOR_URI} or {DETECTOR_URI})",
                                f"未知设备 {uri!r}（可用 {GENERATOR_URI} 或 {DETECTOR_URI}）")  # fmt: skip
        if dev is None:
            raise DeviceNotReady("device not configured", "设备未配置", field="deviceUri")
        return dev

    async def open(self, uri: str, timeout_s: float = 3.0) -> None:
        """device/open: make sure the driver runs and wait for its link; DeviceNotReady if it does not come up."""
        dev = self.device(uri)
        await dev.start()
        deadline = time.monotonic() + timeout_s
        while dev.status.link != LinkState.CONNECTED:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeviceNotReady("device not connected", "设备未连接", field="deviceUri")
            await self._wait_change(remaining)
        self._opened.add(uri)

    def require_connected(self, uri: str) -> Generator | Detector:
        dev = self.device(uri)
        if dev.status.link != LinkState.CONNECTED:
            raise DeviceNotReady("device not connected", "设备未连接", field="deviceUri")
        return dev

    # --- status and events --------------------------------------------------------------------------

    @property
    def status(self) -> DeviceStatus:
        return self._status

    @property
    def host_errors(self) -> tuple[str, ...]:
        return tuple(self._host_errors)

    def subscribe(self, callback: Callable[[DeviceEvent], None]) -> Callable[[], None]:
        """`callback(event)` for every event (called on the loop; must not block). Returns unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    async def events(self, maxsize: int = 256) -> AsyncIterator[DeviceEvent]:
        """Every event from now on; a consumer that falls `maxsize` behind loses the oldest ones."""
        queue: asyncio.Queue[DeviceEvent] = asyncio.Queue(maxsize)

        def put(ev: DeviceEvent) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(ev)

        unsubscribe = self.subscribe(put)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    async def wait_for(self, predicate: Callable[[DeviceStatus], bool], timeout_s: float) -> DeviceStatus:
        """Until `predicate(status)` holds; TimeoutError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not predicate(self._status):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            await self._wait_change(remaining)
        return self._status

    async def _wait_change(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout_s)

    def _device_changed(self) -> None:
        self._refresh()

    def _refresh(self, **extra: Any) -> DeviceStatus:
        gen = self.generator.status if self.generator is not None else GeneratorStatus()
        det = self.detector.status if self.detector is not None else DetectorStatus()
        candidate = DeviceStatus(
            seq=self._status.seq,
            generator=gen,
            detector=det,
            exposing=self._expose_lock.locked(),
        )
        reasons = interlock.evaluate(candidate, host_errors=tuple(self._host_errors))
        candidate = msgspec.structs.replace(candidate, interlocks=tuple(r.code for r in reasons), **extra)
        if candidate != self._status:
            old = self._status
            self._status = msgspec.structs.replace(candidate, seq=old.seq + 1)
            self._wake()
            detail: dict[str, Any] = {}
            if old.generator.link != gen.link:
                detail["generator_link"] = str(gen.link)
            if old.detector.link != det.link:
                detail["detector_link"] = str(det.link)
            self._publish(EventKind.STATUS, "status", detail)
        return self._status

    def _wake(self) -> None:
        pulse, self._changed = self._changed, asyncio.Event()
        pulse.set()

    def _publish(
        self,
        kind: EventKind,
        name: str,
        detail: dict[str, Any] | None = None,
        transaction: str = "",
        client_id: str = "",
    ) -> None:
        ev = DeviceEvent(
            kind=kind, status=self._status, name=name, detail=detail or {}, transaction=transaction, client_id=client_id
        )
        for cb in list(self._subscribers):
            try:
                cb(ev)
            except Exception:
                log.exception("device event subscriber failed")

    # --- parameters ---------------------------------------------------------------------------------

    def _generator(self) -> Generator:
        gen = self.require_connected(GENERATOR_URI)
        assert isinstance(gen, Generator)
        return gen

    def _check_limit(self, name: str, value: float) -> None:
        lim = self._status.generator.limits
        if lim is None:
            return
        bounds = {
            "KV": (lim.kv_min, lim.kv_max), "MA": (lim.ma_min, lim.ma_max),
            "MS": (lim.ms_min, lim.ms_max), "MAS": (lim.mas_min, lim.mas_max),
        }.get(name)  # fmt: skip
        if bounds and not bounds[0] - 1e-9 <= value <= bounds[1] + 1e-9:
            raise invalid_param(
                name,
                f"{value:g} is outside {bounds[0]:g}–{bounds[1]:g}",
                f"{value:g} 超出范围 {bounds[0]:g}–{bounds[1]:g}",
            )

    async def set_param(self, name: str, value: float, *, transaction: str = "", client_id: str = "") -> float:
        """Set one generator parameter (KV, MA, MS, MAS, FOCUS, TECHMODE, WORKSTATION, AECDENSITY)."""
        return await self.update_param(name, lambda _cur: value, transaction=transaction, client_id=client_id)

    async def update_param(
        self,
        name: str,
        compute: Callable[[float], float],
        *,
        transaction: str = "",
        client_id: str = "",
    ) -> float:
        """Read-modify-write of one parameter under the parameter lock: `compute(current) -> new`. Concurrent
        callers are serialised, so N increments give N steps."""
        if self._expose_lock.locked():
            raise DeviceBusy()
        async with self._param_lock:
            gen = self._generator()
            tech = gen.status.technique
            current = _value(tech, name) if tech is not None else 0.0
            new = compute(current)
            self._check_limit(name, new)
            accepted = await gen.set_param(name, new)
        self._refresh()
        self._publish(EventKind.PARAM, name, {"value": accepted, "previous": current}, transaction, client_id)
        return accepted

    async def load_technique(self, technique: Technique, *, transaction: str = "", client_id: str = "") -> Technique:
        """Load all technique factors (an APR row); each checked against the limits first."""
        if self._expose_lock.locked():
            raise DeviceBusy()
        for name, value in (("KV", technique.kv), ("MA", technique.ma), ("MS", technique.ms), ("MAS", technique.mas)):
            if name == "MS" and technique.tech_mode != TechMode.THREE_POINT:
                continue
            if name == "MAS" and technique.tech_mode == TechMode.THREE_POINT:
                continue
            self._check_limit(name, value)
        async with self._param_lock:
            accepted = await self._generator().set_technique(technique)
        self._refresh()
        self._publish(EventKind.PARAM, "technique", msgspec.to_builtins(accepted), transaction, client_id)
        return accepted

    async def clear_errors(self, *, transaction: str = "", client_id: str = "") -> None:
        """ClearError/Reset: host-side errors, then the generator's and detector's error lists."""
        if self._expose_lock.locked():
            raise DeviceBusy()
        self._host_errors.clear()
        failures: list[DrosError] = []
        for dev in (self.generator, self.detector):
            if dev is not None and dev.status.link == LinkState.CONNECTED:
                try:
                    await dev.clear_errors()
                except DrosError as exc:
                    failures.append(exc)
        self._refresh()
        self._publish(EventKind.ERROR, "cleared", {}, transaction, client_id)
        if failures:
            raise failures[0]

    # --- exposure ----------------------------------------------------------------------------------

    async def arm(self, request: ArmRequest) -> None:
        det = self.require_connected(DETECTOR_URI)
        assert isinstance(det, Detector)
        await det.arm(request)
        self._refresh()

    async def disarm(self) -> None:
        if self.detector is not None and self.detector.status.link == LinkState.CONNECTED:
            with contextlib.suppress(DrosError):
                await self.detector.disarm()
        self._refresh()

    def check(self, phase: str = "start") -> list[interlock.Interlock]:
        """The interlocks that refuse an exposure now (empty: may expose)."""
        return interlock.evaluate(self._refresh(), phase=phase, host_errors=tuple(self._host_errors))

    def _refuse(self, reasons: list[interlock.Interlock]) -> DeviceNotReady:
        return DeviceNotReady(
            "; ".join(r.en for r in reasons),
            "；".join(r.zh for r in reasons),
            interlocks=tuple(r.code for r in reasons),
        )

    def _backup_s(self, t: Technique | None) -> float:
        if t is None:
            return self.backup_margin_s
        if t.tech_mode == TechMode.THREE_POINT:
            ms = t.ms
        else:
            ms = t.mas * 1000 / t.ma if t.ma > 0 else 10_000.0
        return ms / 1000 * 1.2 + self.backup_margin_s

    async def expose(self, request: ExposureRequest) -> ExposureResult:
        if self._expose_lock.locked():
            raise DeviceBusy()
        try:
            async with self._expose_lock:
                self._refresh()  # exposing = True
                return await self._expose_locked(request)
        finally:
            self._refresh()  # lock released: exposing = False

    async def _expose_locked(self, request: ExposureRequest) -> ExposureResult:
        if request.press_id in self._presses:
            raise DeviceNotReady(
                "one exposure per hand-switch press: release and press again",
                "每次按下手闸只能曝光一次：请松开后重新按下",
                interlocks=("press_used",),
            )
        reasons = self.check("start")
        if reasons:
            raise self._refuse(reasons)
        gen, det = self.generator, self.detector
        assert gen is not None and det is not None  # the interlocks require both connected
        self._presses[request.press_id] = None
        while len(self._presses) > 1000:
            self._presses.popitem(last=False)
        tx, cid = request.transaction, request.client_id
        technique = gen.status.technique
        self._publish(EventKind.EXPOSURE, "prep", {}, tx, cid)
        started_at = 0.0
        try:
            try:
                await gen.prepare()
            except TimeoutError:
                raise DeviceFault("the generator did not get ready", "发生器未能就绪") from None
            reasons = self.check("expose")
            if reasons:
                raise self._refuse(reasons)
            await det.exposure_started()
            started_at = time.time()
            await gen.expose()
            self._publish(EventKind.EXPOSURE, "expose", {}, tx, cid)
            try:
                post = await gen.wait_exposure_end(self._backup_s(technique))
            except TimeoutError:
                await gen.abort()
                partial = await self._post_or_none(gen)
                self._host_error("backup_timer")
                raise DeviceFault(*HOST_ERRORS["backup_timer"], post=partial) from None
        except DeviceNotReady as exc:
            await self._safe_state(gen, det)
            if "generator_link" in exc.interlocks:
                self._host_error("comm_loss")
                raise DeviceFault(*HOST_ERRORS["comm_loss"]) from None
            raise
        except DeviceFault as exc:
            await self._safe_state(gen, det)
            if started_at and not self._host_errors:
                self._host_error("exposure_fault")
            self._publish(EventKind.EXPOSURE, "aborted", {"reason": exc.en or ""}, tx, cid)
            raise
        except BaseException:
            await self._safe_state(gen, det)
            raise
        ended_at = time.time()
        await gen.release()  # the hand switch is let go: WaitFootRelease → Standby
        self._publish(EventKind.EXPOSURE, "ended", msgspec.to_builtins(post), tx, cid)
        frame = None
        frame_error = ""
        frame_fault: DrosError | None = None
        try:
            await det.exposure_ended(post)
            frame = await det.read_frame(request.frame_timeout_s or self.frame_timeout_s)
        except DrosError as exc:
            frame_error = exc.describe("en_US")
            frame_fault = exc
        self._publish(EventKind.EXPOSURE, "frame", {"frame_id": frame.frame_id if frame else None,
                                                    "error": frame_error}, tx, cid)  # fmt: skip
        return ExposureResult(post=post, frame=frame, frame_error=frame_error, frame_fault=frame_fault,
                              started_at=started_at, ended_at=ended_at)  # fmt: skip

    async def _post_or_none(self, gen: Generator) -> PostExposure | None:
        read = getattr(gen, "read_post_exposure", None)
        if read is None:
            return None
        with contextlib.suppress(DrosError, TimeoutError):
            post: PostExposure = await read()
            return post
        return None

    async def _safe_state(self, gen: Generator, det: Detector) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(gen.abort(), 1.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(gen.release(), 1.0)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(det.disarm(), 1.0)

    def _host_error(self, code: str) -> None:
        if code not in self._host_errors:
            self._host_errors.append(code)
        self._refresh()
        self._publish(EventKind.ERROR, code, {"en": HOST_ERRORS[code][0]})


def _value(t: Technique, name: str) -> float:
    return {
        "KV": t.kv, "MA": t.ma, "MS": t.ms, "MAS": t.mas, "FOCUS": float(t.focus),
        "TECHMODE": float(t.tech_mode), "WORKSTATION": float(t.work_station), "AECDENSITY": float(t.aec_density),
    }.get(name, 0.0)  # fmt: skip
