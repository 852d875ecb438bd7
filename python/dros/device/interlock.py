"""The single "may we expose now?" decision. Pure: it reads a `DeviceStatus` and the technique and lists
every reason to refuse (an empty list = may expose). The manager evaluates it before prep and again
before the X-ray request; the one-at-a-time lock and one-exposure-per-press live in the manager.
"""

from __future__ import annotations

from dataclasses import dataclass

from dros.device.base import (
    DetectorState,
    DeviceStatus,
    GeneratorLimits,
    GeneratorState,
    LinkState,
    TechMode,
    Technique,
)

HU_PER_KV_MAS = 1.35  # high-frequency generator: heat units per kV·mAs


@dataclass(frozen=True, slots=True)
class Interlock:
    code: str
    en: str
    zh: str


def _i(code: str, en: str, zh: str) -> Interlock:
    return Interlock(code, en, zh)


GENERATOR_LINK = _i("generator_link", "generator not connected", "发生器未连接")
GENERATOR_ERROR = _i("generator_error", "a generator error is active", "发生器存在错误")
GENERATOR_NOT_STANDBY = _i("generator_state", "generator is not in standby", "发生器不在待机状态")
GENERATOR_NOT_READY = _i("generator_not_ready", "generator is not ready (prep)", "发生器未就绪（准备）")
DOOR_OPEN = _i("door_open", "door/interlock is open", "门联锁已断开")
HEAT_BUDGET = _i("heat_budget", "the tube's heat budget does not allow this exposure", "球管热容量不足以进行该曝光")
LIMITS = _i("limits", "technique factors outside the generator's limits", "曝光参数超出发生器范围")
NO_TECHNIQUE = _i("no_technique", "no technique loaded", "未加载曝光参数")
DETECTOR_LINK = _i("detector_link", "detector not connected", "探测器未连接")
DETECTOR_ERROR = _i("detector_error", "a detector error is active", "探测器存在错误")
DETECTOR_NOT_CALIBRATED = _i(
    "detector_calibration", "detector calibration missing or out of date", "探测器校准缺失或过期"
)
DETECTOR_NOT_ARMED = _i("detector_not_armed", "detector is not armed", "探测器未就绪（未布防）")
HOST_ERROR = _i("error_active", "a device error is active: clear it first", "存在设备错误，请先清除")

ALL = (
    GENERATOR_LINK, GENERATOR_ERROR, GENERATOR_NOT_STANDBY, GENERATOR_NOT_READY, DOOR_OPEN, HEAT_BUDGET, LIMITS,
    NO_TECHNIQUE, DETECTOR_LINK, DETECTOR_ERROR, DETECTOR_NOT_CALIBRATED, DETECTOR_NOT_ARMED, HOST_ERROR,
)  # fmt: skip
BY_CODE = {i.code: i for i in ALL}


def exposure_hu(t: Technique) -> float:
    return t.kv * t.mas * HU_PER_KV_MAS


def within_limits(t: Technique, lim: GeneratorLimits) -> list[str]:
    """Names of the factors outside the limits (KV, MA, MS, MAS)."""
    out = []
    eps = 1e-9
    if not lim.kv_min - eps <= t.kv <= lim.kv_max + eps:
        out.append("KV")
    if t.tech_mode != TechMode.TWO_POINT or t.ma:
        if not lim.ma_min - eps <= t.ma <= lim.ma_max + eps:
            out.append("MA")
    if t.tech_mode == TechMode.THREE_POINT and not lim.ms_min - eps <= t.ms <= lim.ms_max + eps:
        out.append("MS")
    if not lim.mas_min - eps <= t.mas <= lim.mas_max + eps:
        out.append("MAS")
    return out


def evaluate(status: DeviceStatus, *, phase: str = "start", host_errors: tuple[str, ...] = ()) -> list[Interlock]:
    """Every reason an exposure is refused now. `phase` "start" (before prep: generator in Standby) or
    "expose" (after prep: generator Ready)."""
    out: list[Interlock] = []
    g = status.generator
    d = status.detector
    if host_errors:
        out.append(HOST_ERROR)
    if g.link != LinkState.CONNECTED:
        out.append(GENERATOR_LINK)
    else:
        if g.errors or g.state == GeneratorState.ERROR:
            out.append(GENERATOR_ERROR)
        elif phase == "start" and g.state != GeneratorState.STANDBY:
            out.append(GENERATOR_NOT_STANDBY)
        elif phase == "expose" and g.state != GeneratorState.READY:
            out.append(GENERATOR_NOT_READY)
        if not g.door_closed:
            out.append(DOOR_OPEN)
        t, lim = g.technique, g.limits
        if t is None or lim is None:
            out.append(NO_TECHNIQUE)
        else:
            if within_limits(t, lim):
                out.append(LIMITS)
            if g.heat_pct / 100 * lim.heat_capacity_hu + exposure_hu(t) > lim.heat_capacity_hu:
                out.append(HEAT_BUDGET)
    if d.link != LinkState.CONNECTED:
        out.append(DETECTOR_LINK)
    else:
        if d.errors or d.state == DetectorState.ERROR:
            out.append(DETECTOR_ERROR)
        if not d.calibration.usable:
            out.append(DETECTOR_NOT_CALIBRATED)
        if d.state != DetectorState.ARMED:
            out.append(DETECTOR_NOT_ARMED)
    return out
