"""The generator protocol's vocabulary (docs/generator-protocol.md): commands, reply markers, refusal and
fault codes with their texts, fixed-point scales, the R10 series and the status tuple."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from dros.device.base import GeneratorState

ACK = "$"
NAK = "!"
EVENT_STATUS = "SE"  # unsolicited status event (generator → host), no sequence number
SEQ_MOD = 64  # sequence numbers 0‥63 (R2CP's 6-bit sequence)


class Cmd(enum.StrEnum):
    IDENTIFY = "ID"
    LIMITS = "LM"
    PARAMS = "GP"
    KV = "KV"
    MA = "MA"
    MS = "MS"
    MAS = "MX"
    FOCUS = "FO"
    TECH_MODE = "TM"
    WORK_STATION = "WS"
    AEC_FIELD = "AF"
    AEC_DENSITY = "AD"
    STATUS = "ST"
    ERRORS = "ER"
    CLEAR_ERRORS = "CE"
    PREP = "PR"
    EXPOSE = "EX"
    ABORT = "AB"
    RELEASE = "RL"
    POST_EXPOSURE = "PX"
    HEAT = "HU"
    HEARTBEAT = "HB"
    FAULT = "ZF"  # simulator only: inject a fault (service tool)


#: Fixed-point scale of each numeric parameter on the wire (R2CP: kV10, mA100, ms100, mAs1000).
SCALE: dict[str, int] = {"KV": 10, "MA": 100, "MS": 100, "MAS": 1000}
PARAM_CMD: dict[str, Cmd] = {
    "KV": Cmd.KV,
    "MA": Cmd.MA,
    "MS": Cmd.MS,
    "MAS": Cmd.MAS,
    "FOCUS": Cmd.FOCUS,
    "TECHMODE": Cmd.TECH_MODE,
    "WORKSTATION": Cmd.WORK_STATION,
    "AECFIELD": Cmd.AEC_FIELD,
    "AECDENSITY": Cmd.AEC_DENSITY,
}


def to_wire(name: str, value: float) -> str:
    if name == "AECFIELD":  # three chambers as bits, left/centre/right: 2 → "010"
        return format(int(value), "03b")
    scale = SCALE.get(name)
    return str(round(value * scale)) if scale else str(int(value))


def from_wire(name: str, text: str) -> float:
    scale = SCALE.get(name)
    return int(text) / scale if scale else float(int(text))


@dataclass(frozen=True, slots=True)
class Text:
    en: str
    zh: str


class Refusal(enum.IntEnum):
    """`!,code` reasons a generator gives for refusing a command."""

    UNKNOWN_COMMAND = 1
    BAD_ARGUMENT = 2
    OUT_OF_RANGE = 3
    WRONG_STATE = 4
    INTERLOCK_OPEN = 5
    HEAT_LIMIT = 6
    FAULT_ACTIVE = 7
    RELEASE_REQUIRED = 8
    POWER_LIMIT = 9
    BUSY = 10  # transient: retry (counts against the bounded retries)


REFUSAL_TEXT: dict[int, Text] = {
    Refusal.UNKNOWN_COMMAND: Text("the generator does not know this command", "发生器不支持该命令"),
    Refusal.BAD_ARGUMENT: Text("the generator could not read the value", "发生器无法识别该数值"),
    Refusal.OUT_OF_RANGE: Text("the value is outside the generator's limits", "数值超出发生器范围"),
    Refusal.WRONG_STATE: Text("not possible in the generator's current state", "发生器当前状态下不可执行"),
    Refusal.INTERLOCK_OPEN: Text("the door/interlock is open", "门联锁已断开"),
    Refusal.HEAT_LIMIT: Text("the tube is too hot for this exposure", "球管过热，无法进行该曝光"),
    Refusal.FAULT_ACTIVE: Text("a generator fault is active", "发生器存在故障"),
    Refusal.RELEASE_REQUIRED: Text("release the hand switch before the next exposure", "请先松开手闸再进行下一次曝光"),
    Refusal.POWER_LIMIT: Text("kV × mA exceeds the generator's power", "kV×mA 超出发生器功率"),
    Refusal.BUSY: Text("the generator is busy", "发生器忙"),
}


class Fault(enum.IntEnum):
    """Codes in the generator's error list (`ER`); Spellman monoblock numbering where one exists."""

    OVER_TEMPERATURE = 1
    ARC = 2
    WATCHDOG = 7  # the host fell silent during prep/exposure: the generator stopped itself
    INTERLOCK = 9  # door / interlock opened
    BACKUP_TIMER = 21  # exposure terminated by the generator's backup timer
    PREP_TIMEOUT = 22  # prep held longer than the 30 s cap
    HOST_ABORT = 23  # the host aborted an exposure (backup timer/comm loss/release on the host side)


FAULT_TEXT: dict[int, Text] = {
    Fault.OVER_TEMPERATURE: Text("tube over temperature", "球管过热"),
    Fault.ARC: Text("high-voltage arc", "高压打火"),
    Fault.WATCHDOG: Text("communication with the console lost during prep/exposure", "准备/曝光期间与控制台通信中断"),
    Fault.INTERLOCK: Text("door/interlock opened", "门联锁断开"),
    Fault.BACKUP_TIMER: Text("exposure stopped by the backup timer", "曝光被后备计时器终止"),
    Fault.PREP_TIMEOUT: Text("prep held too long", "准备时间过长"),
    Fault.HOST_ABORT: Text("exposure aborted by the console", "曝光被控制台中止"),
}


def refusal_text(code: int) -> Text:
    return REFUSAL_TEXT.get(code, Text(f"refused with code {code}", f"被拒绝，代码 {code}"))


def fault_text(code: int) -> Text:
    return FAULT_TEXT.get(code, Text(f"generator fault {code}", f"发生器故障 {code}"))


# --- R10 series ----------------------------------------------------------------------------------------

#: Renard R10 preferred numbers (ISO 3) as generators quantise mA, ms and mAs.
R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)


def r10_values(lo: float, hi: float) -> list[float]:
    """Every R10 value in [lo, hi] (inclusive, within rounding)."""
    out: list[float] = []
    lo = max(lo, 1e-6)
    decade = math.floor(math.log10(lo))
    while True:
        for m in R10:
            v = round(m * 10.0**decade, 6)
            if v > hi * (1 + 1e-9):
                return out
            if v >= lo * (1 - 1e-9):
                out.append(v)
        decade += 1


def r10_step(value: float, steps: int, lo: float, hi: float) -> float:
    """`steps` R10 steps up (>0) or down (<0) from `value`, clamped to [lo, hi]. A value between two series
    members moves to the next one in the step's direction (one step)."""
    series = r10_values(lo, hi)
    if not series or steps == 0:
        return value
    eps = 1e-9 * max(1.0, abs(value))
    if steps > 0:
        above = [i for i, v in enumerate(series) if v > value + eps]
        if not above:
            return series[-1]
        return series[min(above[0] + steps - 1, len(series) - 1)]
    below = [i for i, v in enumerate(series) if v < value - eps]
    if not below:
        return series[0]
    return series[max(below[-1] + steps + 1, 0)]


# --- status tuple ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusTuple:
    """`ST` reply / `SE` event fields: state, heat (tenths of %), door (1 closed), prep, xray, faults…"""

    state: GeneratorState
    heat_pct: float
    door_closed: bool
    faults: tuple[int, ...]

    def fields(self) -> list[str]:
        return [
            str(int(self.state)),
            str(round(self.heat_pct * 10)),
            "1" if self.door_closed else "0",
            *(str(f) for f in self.faults),
        ]

    @classmethod
    def parse(cls, fields: tuple[str, ...] | list[str]) -> StatusTuple:
        if len(fields) < 3:
            raise ValueError("status needs state, heat, door")
        return cls(
            state=GeneratorState(int(fields[0])),
            heat_pct=int(fields[1]) / 10,
            door_closed=fields[2] == "1",
            faults=tuple(int(f) for f in fields[3:]),
        )
