"""The device layer's contract: states, status/event types, the raw-frame hand-off, the `Generator` and
`Detector` interfaces and the device errors. Everything else in `dros.device` (and every caller) codes
against this module; it changes only additively.

Who implements what
-------------------
- `Generator`: `dros.device.generator.GeneratorDriver` (the serial protocol of docs/generator-protocol.md).
- `Detector`: the detector driver (`dros.device.detector`), one per panel kind.
- `dros.device.manager.DeviceManager` owns both, the interlocks and the one-exposure-at-a-time lock. The app
  reaches it as ``app.state.devices`` (set in the lifespan); nothing else drives the devices.

Acquisition-facing API (see `dros.device.manager` for the details)::

    devices: DeviceManager = app.state.devices
    await devices.load_technique(Technique(kv=70, ma=200, ms=50, mas=10, focus=1, work_station=1))
    await devices.arm(ArmRequest(view_id="...", thickness_cm=19))     # detector ARMED
    result = await devices.expose(ExposureRequest(press_id="trigger-uuid"))
    result.post          # PostExposure: delivered kV/mA/ms/mAs (the dose record, always present)
    result.frame         # RawFrame | None: the detector's frame (None + result.frame_error when it timed out)

`expose` raises `DeviceNotReady` (0x040001, with every failing interlock in ``data["interlocks"]``),
`DeviceBusy` (0x040002, another exposure holds the lock) or `DeviceFault` (0x040003, the exposure was
aborted: fault, release, comm loss, backup timer — ``exc.post`` holds what was delivered, if anything).

Events: ``async for ev in devices.events(): ...`` (or ``devices.subscribe(callback)``) yields a `DeviceEvent`
for every status change, parameter change and exposure step; ``await devices.wait_for(pred, timeout)``
waits until ``pred(devices.status)`` holds.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import msgspec
import numpy as np
import numpy.typing as npt

from dros.errors import DrosError, ErrorCode

# --- states -----------------------------------------------------------------------------------------


class LinkState(enum.StrEnum):
    """The communication link to one device (independent of the device's own state)."""

    CLOSED = "closed"  # not opened (device/open not called, or stopped)
    CONNECTING = "connecting"  # first connection attempt running
    CONNECTED = "connected"
    LOST = "lost"  # was connected, heartbeat/command failed: reconnecting per ReConnect


class GeneratorState(enum.IntEnum):
    """R2CP `tGenStatus_Stat` values; `GENERATORSTATUS` in device/get reports the number."""

    INVALID = 0
    INIT = 1
    STANDBY = 2
    PREPARATION = 3
    READY = 4
    EXP_REQ = 5
    EXP_IN_PROGRESS = 6
    WAIT_FOOT_RELEASE = 7
    GOING_TO_SHUTDOWN = 8
    ERROR = 9
    SERVICE = 10

    @property
    def seed_name(self) -> str:
        """The seed's `GENERATOR_STATUS_*` string (`gen_status` of task/inspection/status)."""
        return "GENERATOR_STATUS_" + self.name


#: Reported as `gen_status` while the link is not connected (there is no live generator state then).
GENERATOR_STATUS_DISCONNECTED = "GENERATOR_STATUS_DISCONNECTED"


class DetectorState(enum.StrEnum):
    """A flat panel's own states (iRay/Varex-like); `seed_name` gives `DETECTOR_STATUS_*`."""

    INIT = "INIT"  # booting / self test / offset warm-up
    STANDBY = "STANDBY"  # ready to be armed
    ARMED = "ARMED"  # waiting for X-rays (integration window may open)
    INTEGRATING = "INTEGRATING"  # X-ray window open
    READOUT = "READOUT"  # reading out / transferring the frame
    ERROR = "ERROR"

    @property
    def seed_name(self) -> str:
        return "DETECTOR_STATUS_" + self.value


DETECTOR_STATUS_DISCONNECTED = "DETECTOR_STATUS_DISCONNECTED"


class CalibrationValidity(enum.StrEnum):
    """iRay's calibration states, per correction map."""

    NO_DATA = "NoData"
    VALID = "Valid"
    VALID_WARN = "ValidWarn"  # valid, due soon
    OUT_OF_DATE = "OutOfDate"

    @property
    def usable(self) -> bool:
        return self in (CalibrationValidity.VALID, CalibrationValidity.VALID_WARN)


class TechMode(enum.IntEnum):
    """`TECHMODE` / the APR's exposure_mode numbering (resource/options apr_cbo.exposure_mode)."""

    TWO_POINT = 0  # kV + mAs
    THREE_POINT = 1  # kV + mA + ms
    AEC = 2  # kV + AEC field/density, backup mAs


class Focus(enum.IntEnum):
    SMALL = 0
    LARGE = 1


class EndOfExposure(enum.IntEnum):
    """Why an exposure ended (R2CP `RadEndOfExposure`-like); part of the post-exposure record."""

    NONE = 0  # no exposure yet
    NORMAL = 1  # preset time / mAs reached
    AEC = 2  # AEC terminated
    BACKUP_TIMER = 3  # backup timer terminated
    ABORTED_HOST = 4  # host sent abort
    ABORTED_RELEASE = 5  # hand switch released early
    ABORTED_FAULT = 6  # interlock / fault / comm loss


# --- values -----------------------------------------------------------------------------------------


class Technique(msgspec.Struct, frozen=True, kw_only=True):
    """Technique factors to load into the generator (an APR row, or the console's values)."""

    kv: float
    ma: float
    ms: float
    mas: float
    focus: Focus = Focus.LARGE
    tech_mode: TechMode = TechMode.THREE_POINT
    work_station: int = 1
    aec_field: str = "000"  # three chambers left/centre/right as '0'/'1'
    aec_density: int = 0


class GeneratorLimits(msgspec.Struct, frozen=True, kw_only=True):
    kv_min: float
    kv_max: float
    ma_min: float
    ma_max: float
    ms_min: float
    ms_max: float
    mas_min: float
    mas_max: float
    max_power_kw: float
    heat_capacity_hu: float


class PostExposure(msgspec.Struct, frozen=True, kw_only=True):
    """What the generator actually delivered (R2CP RAD post-exposure record)."""

    kv: float
    ma: float
    ms: float
    mas: float
    focus: Focus
    end: EndOfExposure


class GeneratorStatus(msgspec.Struct, frozen=True, kw_only=True):
    link: LinkState = LinkState.CLOSED
    state: GeneratorState = GeneratorState.INVALID
    errors: tuple[int, ...] = ()  # active fault codes (docs/generator-protocol.md "Fault codes")
    heat_pct: float = 0.0  # anode heat, % of capacity
    door_closed: bool = True
    technique: Technique | None = None  # last values read back from the generator
    limits: GeneratorLimits | None = None
    post: PostExposure | None = None  # last post-exposure record
    reconnects: int = 0

    @property
    def seed_status(self) -> str:
        if self.link != LinkState.CONNECTED:
            return GENERATOR_STATUS_DISCONNECTED
        return self.state.seed_name

    @property
    def ready(self) -> bool:
        """Able to start an exposure sequence (Standby, no fault, link up)."""
        return self.link == LinkState.CONNECTED and self.state == GeneratorState.STANDBY and not self.errors


class DetectorCalibration(msgspec.Struct, frozen=True, kw_only=True):
    """Correction-map validity plus the EI calibration (IEC 62494-1) handed to the imaging chain."""

    offset: CalibrationValidity = CalibrationValidity.NO_DATA
    gain: CalibrationValidity = CalibrationValidity.NO_DATA
    defect: CalibrationValidity = CalibrationValidity.NO_DATA
    dn_per_ugy: float = 1000.0  # detector response: DN per µGy at the detector (RQA5)
    offset_dn: float = 0.0  # DN at zero dose

    @property
    def usable(self) -> bool:
        return self.offset.usable and self.gain.usable and self.defect.usable


class DetectorStatus(msgspec.Struct, frozen=True, kw_only=True):
    link: LinkState = LinkState.CLOSED
    state: DetectorState = DetectorState.INIT
    detector_id: str = ""
    calibration: DetectorCalibration = msgspec.field(default_factory=DetectorCalibration)
    errors: tuple[str, ...] = ()
    battery_pct: float | None = None  # wireless panels
    temperature_c: float | None = None

    @property
    def seed_status(self) -> str:
        if self.link != LinkState.CONNECTED:
            return DETECTOR_STATUS_DISCONNECTED
        return self.state.seed_name

    @property
    def ready(self) -> bool:
        """Connected, no error, calibrated, and in a state from which it can be armed (or already armed)."""
        return (
            self.link == LinkState.CONNECTED
            and self.state in (DetectorState.STANDBY, DetectorState.ARMED)
            and not self.errors
            and self.calibration.usable
        )


class DeviceStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The manager's snapshot of both devices and the interlock; `seq` grows with every change."""

    seq: int = 0
    generator: GeneratorStatus = msgspec.field(default_factory=GeneratorStatus)
    detector: DetectorStatus = msgspec.field(default_factory=DetectorStatus)
    exposing: bool = False  # the one-exposure lock is held
    interlocks: tuple[str, ...] = ()  # reasons an exposure would be refused now ([] = may expose)

    @property
    def gen_status(self) -> str:
        return self.generator.seed_status

    @property
    def fpd_status(self) -> str:
        return self.detector.seed_status

    @property
    def gen_ready(self) -> bool:
        return self.generator.ready

    @property
    def fpd_ready(self) -> bool:
        return self.detector.ready


class EventKind(enum.StrEnum):
    STATUS = "status"  # any status change (link, state, errors, heat)
    PARAM = "param"  # a generator parameter changed (device/action)
    EXPOSURE = "exposure"  # an exposure step: started / ended / aborted / frame
    ERROR = "error"  # a device error raised or cleared


class DeviceEvent(msgspec.Struct, frozen=True, kw_only=True):
    kind: EventKind
    status: DeviceStatus
    name: str = ""  # e.g. "KV", "link", "expose", "frame"
    detail: dict[str, Any] = msgspec.field(default_factory=dict)
    transaction: str = ""  # reqTransaction of the request that caused it (correlation)
    client_id: str = ""  # reqClientID of that request
    at: float = msgspec.field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One raw detector frame handed from the detector driver to acquisition (held in memory)."""

    pixels: npt.NDArray[np.uint16]  # 2-D (rows, columns), native uint16
    frame_id: int
    detector_id: str
    bit_depth: int = 16
    delivered: PostExposure | None = None  # the generator's post-exposure record for this frame
    exposure_started_at: float = 0.0  # time.time() values
    exposure_ended_at: float = 0.0
    received_at: float = 0.0
    calibration: DetectorCalibration = field(default_factory=DetectorCalibration)
    metadata: dict[str, str] = field(default_factory=dict)  # e.g. source file of a replayed frame


class ArmRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the detector needs to get ready for one exposure (the simulator also uses it to shape the
    frame: the view and body thickness set the phantom and its attenuation)."""

    view_id: str = ""
    body_part: str = ""
    thickness_cm: float = 20.0
    sync_mode: str = "HWS"  # HWS (hardware handshake) / CMD (software) / FRE (free-run, AED)
    seed: int = 0


class ExposureRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One press of the hand switch. `press_id` identifies the press: the manager exposes at most once per
    press (WaitFootRelease), a second `expose` with the same id is refused."""

    press_id: str
    transaction: str = ""
    client_id: str = ""
    frame_timeout_s: float = 10.0  # how long to wait for the detector's frame after the exposure ends


@dataclass(frozen=True, slots=True)
class ExposureResult:
    post: PostExposure
    frame: RawFrame | None
    frame_error: str = ""  # why there is no frame (detector timeout / error), localized by the caller
    frame_fault: DrosError | None = None  # the same reason with its en/zh texts
    started_at: float = 0.0
    ended_at: float = 0.0


# --- errors (DrosError subclasses: HTTP handlers render them as the envelope) ------------------------


class DeviceNotReady(DrosError):
    """0x040001: not open / not connected, or an interlock refuses. `data["interlocks"]` lists every reason."""

    def __init__(self, en: str, zh: str, *, interlocks: tuple[str, ...] = (), field: str | None = None) -> None:
        super().__init__(ErrorCode.DEVICE_NOT_READY, en=en, zh=zh, field=field, data={"interlocks": list(interlocks)})
        self.interlocks = interlocks


class DeviceBusy(DrosError):
    """0x040002: another exposure holds the one-exposure lock."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.DEVICE_BUSY, en="an exposure is running", zh="正在曝光")


class DeviceFault(DrosError):
    """0x040003: the generator refused a command (`!,code`) or an exposure was aborted."""

    def __init__(
        self, en: str, zh: str, *, code: int = 0, post: PostExposure | None = None, field: str | None = None
    ) -> None:
        super().__init__(ErrorCode.DEVICE_ERROR, en=en, zh=zh, field=field, data={"device_code": code})
        self.device_code = code
        self.post = post


# --- interfaces --------------------------------------------------------------------------------------

StatusListener = Callable[[], None]  # called (on the loop) after the device's `status` changed


@runtime_checkable
class Generator(Protocol):
    """An X-ray generator driver. All methods run on the event loop and never block it."""

    @property
    def status(self) -> GeneratorStatus: ...

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call `listener` after every status change; returns the function that removes it."""
        ...

    async def start(self) -> None:
        """Open the link and keep it (heartbeat at loopTime, reconnect per ReConnect) until `stop`."""
        ...

    async def stop(self) -> None: ...

    async def set_technique(self, technique: Technique) -> Technique:
        """Load all technique factors; returns what the generator accepted (read back)."""
        ...

    async def set_param(self, name: str, value: float) -> float:
        """One parameter: KV, MA, MS, MAS, FOCUS, TECHMODE, WORKSTATION, AECFIELD, AECDENSITY."""
        ...

    async def prepare(self) -> None:
        """Prep on (rotor, filament); returns when the generator reports Ready."""
        ...

    async def expose(self) -> None:
        """X-ray request; returns when the exposure has started (ExpInProgress)."""
        ...

    async def wait_exposure_end(self, timeout_s: float) -> PostExposure:
        """Wait for the end of the running exposure and return the post-exposure record."""
        ...

    async def abort(self) -> None:
        """Stop prep/exposure at once (safe state). Never raises for a lost link."""
        ...

    async def release(self) -> None:
        """Hand switch released: leaves WaitFootRelease (or prep) for Standby."""
        ...

    async def clear_errors(self) -> None: ...


@runtime_checkable
class Detector(Protocol):
    """A flat-panel detector driver (control link + data channel)."""

    @property
    def status(self) -> DetectorStatus: ...

    def add_listener(self, listener: StatusListener) -> Callable[[], None]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def arm(self, request: ArmRequest) -> None:
        """Prepare for one exposure; returns when the panel is ARMED."""
        ...

    async def disarm(self) -> None: ...

    async def exposure_started(self) -> None:
        """The X-ray window opened (the sync handshake; a simulator starts integrating)."""
        ...

    async def exposure_ended(self, post: PostExposure) -> None:
        """The X-ray window closed; `post` is what the generator delivered (a simulator sets its dose from it)."""
        ...

    async def read_frame(self, timeout_s: float) -> RawFrame:
        """The frame of the last exposure; raises `DeviceFault` on timeout or a bad transfer."""
        ...

    async def clear_errors(self) -> None: ...
