"""device/get properties (the seed's 67 keys, values live from the driver, filtered by `Level` per role) and
the device/action catalogue (README "Devices" lists the names). Also `load_apr`, which the
acquisition task uses to load a view's APR for a patient size and work station."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import msgspec

from dros.auth.roles import Role
from dros.device.base import DetectorStatus, Focus, GeneratorStatus, LinkState, TechMode, Technique
from dros.device.manager import DETECTOR_URI, GENERATOR_URI, HOST_ERRORS, DeviceManager
from dros.device.protocol import fault_text, r10_step
from dros.domain.device.schemas import AprParam, DeviceRequest
from dros.domain.protocol import repo as protocol_repo
from dros.errors import DrosError, ErrorCode, invalid_param, not_found
from dros.settings import Locale, Settings
from dros.store.db import Database
from dros.validation import decode_error

log = logging.getLogger("dros.device.api")

PUBLIC, PRIVATE, ZSKK = "Public", "Private", "ZSKK"

#: Which property levels each role sees (§17 item 74): operators the Public ones, admin also the
#: Private (link/loop settings, power and heat ratings), the field engineer everything (manufacturer level).
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.TECH: frozenset({PUBLIC}),
    Role.MGR: frozenset({PUBLIC}),
    Role.ADMIN: frozenset({PUBLIC, PRIVATE}),
    Role.SERVICE: frozenset({PUBLIC, PRIVATE, ZSKK}),
}

PATIENT_SIZES = ("Small", "Medium", "Large", "Paediatric")


def _f6(x: float) -> str:
    return f"{x:.6f}"


def _f2(x: float) -> str:
    return f"{x:.2f}"


def _prop(level: str, key: str, value: Any, desc: str | None = None, **extra: str) -> dict[str, Any]:
    out: dict[str, Any] = {"Level": level, "DescKey": desc or key}
    out.update(extra)
    out["Value"] = value
    return out


def _ranged(key: str, value: float, lo: float, hi: float) -> dict[str, Any]:
    return _prop(PUBLIC, key, _f6(value), min=_f2(lo), max=_f2(hi))


_SYNC_MODES = {
    mode: {"HWS": str(3 * i + 1), "CMD": str(3 * i + 2), "FRE": str(3 * i + 3)}
    for i, mode in enumerate(("SingleRAD", "SerialRAD", "Fluoro", "DDR", "DualEnergy", "TOMO", "Stitch"))
}


def _connections(url: str, baudrate: int) -> dict[str, str]:
    if url.startswith("socket://"):
        u = urlparse(url)
        return {"type": "TCP", "port": f"{u.hostname}:{u.port}", "baudrate": "0", "bytesize": "8", "parity": "0",
                "stopbits": "0"}  # fmt: skip
    # parity 0 = none, stopbits 0 = one (the seed's 8N1 example)
    return {"type": "COM", "port": url, "baudrate": str(baudrate), "bytesize": "8", "parity": "0", "stopbits": "0"}


def error_list(manager: DeviceManager, language: Locale) -> str:
    """`ErrorList`: `code:text` entries joined by `;` (generator faults as numbers, host errors by name,
    detector errors as the panel reports them); empty when nothing is active."""
    zh = language == Locale.zh_CN
    items: list[str] = []
    st = manager.status
    for code in st.generator.errors:
        t = fault_text(code)
        items.append(f"{code}:{t.zh if zh else t.en}")
    for host_code in manager.host_errors:
        en, zh_text = HOST_ERRORS[host_code]
        items.append(f"{host_code}:{zh_text if zh else en}")
    items.extend(f"FPD:{e}" for e in st.detector.errors)
    return ";".join(items)


def generator_properties(manager: DeviceManager, settings: Settings, language: Locale) -> dict[str, dict[str, Any]]:
    """Every key of the seed's example, in its order; values from the driver."""
    gen = manager.generator
    g: GeneratorStatus = gen.status if gen is not None else GeneratorStatus()
    t = g.technique
    lim = g.limits
    post = g.post
    identity: tuple[str, ...] = tuple(getattr(gen, "identity", ()) or ())
    url = str(getattr(gen, "url", settings.device.generator_url))
    dev = settings.device
    focus = t.focus if t is not None else Focus.LARGE
    state = g.state if g.link == LinkState.CONNECTED else 0
    p = _prop
    props: dict[str, dict[str, Any]] = {
        "SupportSyncMode": p(PUBLIC, "SupportSyncMode", _SYNC_MODES),
        "IsDemo": p(PUBLIC, "IsDemo", "1" if dev.generator == "simulator" else "0"),
        "GENERATORSTATUS": p(PUBLIC, "GENERATORSTATUS", str(int(state))),
        "GENERATORSYNCSTATE": p(PUBLIC, "GENERATORSYNCSTATE", "0"),  # 0 = hardware sync handshake idle
        "ErrorList": p(PUBLIC, "ErrorList", error_list(manager, language)),
        "TUBEHEAT": p(PUBLIC, "TUBEHEAT", str(round(g.heat_pct))),
        "TubeAngle": p(PUBLIC, "TubeAngle", _f6(0.0)),
        "FOCUSSIZE": p(ZSKK, "FOCUSSIZE", "0.6" if focus == Focus.SMALL else "1.2"),
        "TubeTargetMaterial": p(ZSKK, "TubeTargetMaterial", "W"),
        "BatteryChargeState": p(PUBLIC, "BatteryChargeState", "0"),  # mains-powered: not charging
        "BatteryPowerState": p(PUBLIC, "BatteryPowerState", "2"),  # as the seed: mains
        "MaxPower": p(PRIVATE, "MaxPower", f"{lim.max_power_kw:g}" if lim else "0", "kV*mA"),
        "MaxHeatContent": p(PRIVATE, "MaxHeatContent", f"{lim.heat_capacity_hu / 1000:g}" if lim else "0", "kV*mAs"),
        "KV": _ranged("KV", t.kv if t else 0, lim.kv_min if lim else 0, lim.kv_max if lim else 0),
        "MA": _ranged("MA", t.ma if t else 0, lim.ma_min if lim else 0, lim.ma_max if lim else 0),
        "MS": _ranged("MS", t.ms if t else 0, lim.ms_min if lim else 0, lim.ms_max if lim else 0),
        "MAS": _ranged("MAS", t.mas if t else 0, lim.mas_min if lim else 0, lim.mas_max if lim else 0),
        "FOCUS": p(PUBLIC, "FOCUS", str(int(focus))),
        "WORKSTATION": p(PUBLIC, "WORKSTATION", str(t.work_station if t else 1)),
        "AECDENSITY": p(PUBLIC, "AECDENSITY", str(t.aec_density if t else 0)),
        "AECFIELD": p(PUBLIC, "AECFIELD", t.aec_field if t else "000"),
        "AECFILM": p(PUBLIC, "AECFILM", "0"),
        "TECHMODE": p(PUBLIC, "TECHMODE", str(int(t.tech_mode if t else TechMode.THREE_POINT))),
        "FrameRate": p(PUBLIC, "FrameRate", _f6(0.0)),
        "EXAMMODE": p(PUBLIC, "EXAMMODE", "AEC" if t is not None and t.tech_mode == TechMode.AEC else "MANUAL"),
        "EXPMODE": p(PUBLIC, "EXPMODE", "Single"),
        "POSTKV": p(PUBLIC, "POSTKV", _f6(post.kv if post else 0)),
        "POSTMA": p(PUBLIC, "POSTMA", _f6(post.ma if post else 0)),
        "POSTMAS": p(PUBLIC, "POSTMAS", _f6(post.mas if post else 0)),
        "POSTMS": p(PUBLIC, "POSTMS", _f6(post.ms if post else 0)),
    }
    # Fluoroscopy: a radiography-only generator; the keys stay for clients that read them.
    for key in ("FLUKV", "FLUMA", "FLUMS"):
        props[key] = p(PUBLIC, key, _f6(0.0))
    props["FLUMode"] = p(PUBLIC, "FLUMode", "0")
    props["FLUPPS"] = p(PUBLIC, "FLUPPS", "0")
    props["FLUAccTime"] = p(PUBLIC, "FLUAccTime", _f6(2.0))
    props["FLUIntTime"] = p(PUBLIC, "FLUIntTime", _f6(2.0))
    for key in ("FLUpulseWidth", "FLUABSStatus", "FLUDoseLevel", "FLUCurve", "FLUCineKV", "FLUCineMA", "FLUCineMS"):
        props[key] = p(PUBLIC, key, _f2(0.0))
    props.update(
        {
            "connections": p(PUBLIC, "connections", _connections(url, dev.generator_baudrate)),
            "FocusSmall": p(ZSKK, "FocusSmall", "0.6"),
            "FocusLarge": p(ZSKK, "FocusLarge", "1.2"),
            "logEnable": p(PRIVATE, "logEnable", "1"),
            "loopEnable": p(PRIVATE, "loopEnable", "1"),
            "loopTime": p(PRIVATE, "loopTime", str(dev.loop_time_ms)),
            "ReConnect": p(PRIVATE, "ReConnect", "1" if dev.reconnect else "0"),
        }
    )
    for ws in ("Table", "Wall", "Free", "Tomo", "Conventional"):
        props[f"WS{ws}"] = p(ZSKK, f"WS{ws}", "1" if ws in ("Table", "Wall") else "0")
    for ws in ("Table", "Wall", "Free", "Tomo", "Conventional"):
        props[f"SYN{ws}"] = p(ZSKK, f"SYN{ws}", "1" if ws in ("Table", "Wall") else "0")
    props.update(
        {
            "DeviceNumber": p(PRIVATE, "DeviceNumber", "1"),
            "StateChangeInterval": p(PRIVATE, "StateChangeInterval", "50"),  # status poll while waiting (ms)
            "AutoExpActWaitTime": p(PRIVATE, "AutoExpActWaitTime", str(dev.reply_timeout_ms)),
            "Manufacturer": p(PUBLIC, "Manufacturer", identity[0] if len(identity) > 0 else ""),
            "Model": p(PUBLIC, "Model", identity[1] if len(identity) > 1 else ""),
            "Modality": p(PUBLIC, "Modality", "DX"),
        }
    )
    return props


def detector_properties(manager: DeviceManager, language: Locale) -> dict[str, dict[str, Any]]:
    det = manager.detector
    d: DetectorStatus = det.status if det is not None else DetectorStatus()
    c = d.calibration
    p = _prop
    return {
        "DETECTORSTATUS": p(PUBLIC, "DETECTORSTATUS", d.seed_status),
        "DetectorID": p(PUBLIC, "DetectorID", d.detector_id),
        "ErrorList": p(PUBLIC, "ErrorList", ";".join(d.errors)),
        "CalibrationOffset": p(PUBLIC, "CalibrationOffset", str(c.offset)),
        "CalibrationGain": p(PUBLIC, "CalibrationGain", str(c.gain)),
        "CalibrationDefect": p(PUBLIC, "CalibrationDefect", str(c.defect)),
        "Temperature": p(PUBLIC, "Temperature", _f2(d.temperature_c) if d.temperature_c is not None else ""),
        "BatteryLevel": p(PUBLIC, "BatteryLevel", _f2(d.battery_pct) if d.battery_pct is not None else ""),
        "DnPerUgy": p(PRIVATE, "DnPerUgy", _f2(c.dn_per_ugy)),
        "OffsetDn": p(PRIVATE, "OffsetDn", _f2(c.offset_dn)),
    }


def device_get(manager: DeviceManager, settings: Settings, req: DeviceRequest, role: str, language: Locale) -> str:
    """The JSON string `data` of device/get: every visible property, or the one `reqName` names."""
    manager.require_connected(req.deviceUri)
    if req.deviceUri == GENERATOR_URI:
        props = generator_properties(manager, settings, language)
    else:
        props = detector_properties(manager, language)
    levels = ROLE_LEVELS.get(role, frozenset({PUBLIC}))
    name = req.reqName.strip()
    _log(req, "get")
    if name in ("", "Get", "GetAll"):
        if req.reqParam.strip() not in ("", "{}"):
            raise invalid_param("reqParam", "must be empty or {} for Get/GetAll", "Get/GetAll 的 reqParam 须为空或 {}")
        chosen = {k: v for k, v in props.items() if v["Level"] in levels}
    elif name in props:
        if props[name]["Level"] not in levels:
            raise DrosError(
                ErrorCode.FORBIDDEN, field="reqName", en=f"property {name} is not visible to role '{role}'",
                zh=f"角色 '{role}' 无权查看属性 {name}",
            )  # fmt: skip
        chosen = {name: props[name]}
    else:
        raise invalid_param("reqName", f"unknown property {name!r}; use Get, GetAll or a property name",
                            f"未知属性 {name!r}；请使用 Get、GetAll 或属性名")  # fmt: skip
    return json.dumps(chosen, ensure_ascii=False, separators=(",", ":")) + "\n"


def _log(req: DeviceRequest, what: str) -> None:
    log.info(
        "device %s %s %s",
        what,
        req.deviceUri,
        req.reqName,
        extra={"transaction": req.reqTransaction, "client_id": req.reqClientID, "param": req.reqParam[:200]},
    )


# --- actions ------------------------------------------------------------------------------------------

STEPPED = ("KV", "MA", "MS", "MAS")
SETTABLE = ("KV", "MA", "MS", "MAS", "FOCUS", "TECHMODE", "WORKSTATION", "AECDENSITY", "AECFIELD")
ALIASES = {
    "SetFocus": "FOCUS",
    "SetTechMode": "TECHMODE",
    "SetWorkstation": "WORKSTATION",
    "SetAECField": "AECFIELD",
    "SetAECDensity": "AECDENSITY",
}
KV_STEP = 1.0  # kV per IncParam_KV step; mA, ms and mAs step along the R10 series


def _steps(req: DeviceRequest) -> int:
    raw = req.reqParam.strip()
    if raw == "":
        return 1
    try:
        n = int(raw)
    except ValueError:
        raise invalid_param("reqParam", "must be empty (one step) or a whole number of steps",
                            "须为空（一步）或步数（整数）") from None  # fmt: skip
    if not 1 <= n <= 100:
        raise invalid_param("reqParam", "steps must be 1 to 100", "步数须为 1 到 100")
    return n


def _number(req: DeviceRequest, name: str) -> float:
    raw = req.reqParam.strip()
    try:
        value = float(raw)
    except ValueError:
        raise invalid_param(
            name, f"needs a number in reqParam, got {raw!r}", f"reqParam 须为数字，收到 {raw!r}"
        ) from None
    if not math.isfinite(value):
        raise invalid_param(name, "must be a finite number", "须为有限数值")
    return value


def _checked(name: str, req: DeviceRequest) -> float:
    """reqParam of a Set* action as the generator's number, with the enumerated values checked here."""
    if name == "AECFIELD":
        raw = req.reqParam.strip()
        if len(raw) != 3 or any(c not in "01" for c in raw):
            raise invalid_param("AECFIELD", "three chambers as 0/1, left-centre-right, e.g. 010",
                                "三个电离室以 0/1 表示（左中右），如 010")  # fmt: skip
        return float(int(raw, 2))
    value = _number(req, name)
    allowed: dict[str, tuple[int, ...]] = {
        "FOCUS": (0, 1), "TECHMODE": (0, 1, 2), "WORKSTATION": (0, 1), "AECDENSITY": (-3, -2, -1, 0, 1, 2, 3),
    }  # fmt: skip
    if name in allowed and value not in allowed[name]:
        raise invalid_param(name, f"must be one of {list(allowed[name])}", f"须为 {list(allowed[name])} 之一")
    return value


def _step_fn(name: str, steps: int) -> Callable[[float], float]:
    if name == "KV":
        return lambda cur: round(cur + steps * KV_STEP, 1)
    return lambda cur: r10_step(cur, steps, 0.01, 1e6)


async def device_action(manager: DeviceManager, db: Database, product: str, req: DeviceRequest) -> None:
    name = req.reqName.strip()
    tx, cid = req.reqTransaction, req.reqClientID
    _log(req, "action")
    if req.deviceUri == DETECTOR_URI:
        manager.require_connected(DETECTOR_URI)
        if name in ("ClearError", "Reset"):
            await manager.clear_errors(transaction=tx, client_id=cid)
            return
        raise invalid_param("reqName", f"unknown detector action {name!r} (ClearError, Reset)",
                            f"未知探测器操作 {name!r}（ClearError、Reset）")  # fmt: skip
    manager.require_connected(req.deviceUri)
    if name in ("ClearError", "Reset"):
        await manager.clear_errors(transaction=tx, client_id=cid)
        return
    for prefix, sign in (("IncParam_", 1), ("DecParam_", -1)):
        if name.startswith(prefix) and name[len(prefix) :] in STEPPED:
            param = name[len(prefix) :]
            await manager.update_param(param, _step_fn(param, sign * _steps(req)), transaction=tx, client_id=cid)
            return
    param = name[len("SetParam_") :] if name.startswith("SetParam_") else ALIASES.get(name, "")
    if param in SETTABLE:
        await manager.set_param(param, _checked(param, req), transaction=tx, client_id=cid)
        return
    if name == "SetAPR":
        try:
            body = msgspec.json.decode(req.reqParam or "{}", type=AprParam)
        except msgspec.ValidationError as exc:
            raise decode_error(exc, AprParam, root_name="reqParam") from None
        except msgspec.DecodeError:
            raise invalid_param("reqParam", "must be a JSON object", "须为 JSON 对象") from None
        await load_apr(manager, db, product, body, transaction=tx, client_id=cid)
        return
    raise invalid_param(
        "reqName",
        f"unknown action {name!r}; see README 'Devices'",
        f"未知操作 {name!r}；见 README 'Devices'",
    )


async def load_apr(
    manager: DeviceManager, db: Database, product: str, body: AprParam, *, transaction: str = "", client_id: str = ""
) -> Technique:
    """Load the exposure row (patient size × work station) of an APR — or of a view's APR — into the
    generator. The work station defaults to the view's (or the APR's usual) station."""
    if body.patient_size not in PATIENT_SIZES:
        raise invalid_param("patient_size", f"must be one of {list(PATIENT_SIZES)}", f"须为 {list(PATIENT_SIZES)} 之一")
    if not body.apr_id and not body.view_id:
        raise invalid_param("apr_id", "give apr_id or view_id", "请提供 apr_id 或 view_id")

    def lookup(conn: Any) -> tuple[str, int, list[dict[str, Any]]]:
        apr_id, ws = body.apr_id, body.work_station_id
        if body.view_id:
            view = protocol_repo.view(conn, product, body.view_id, None, None, None, None)
            if view is None:
                raise not_found("view_id", body.view_id)
            apr_id = apr_id or str(view["apr_id"])
            ws = ws if ws is not None else int(view["work_station_id"])
        if protocol_repo.apr(conn, product, apr_id) is None:
            raise not_found("apr_id", apr_id)
        if ws is None:
            ws = protocol_repo.default_work_station(conn, product, apr_id)
        return apr_id, ws, protocol_repo.exposures(conn, product, apr_id)

    _apr_id, ws, rows = await db.read(lookup)
    row = next((r for r in rows if int(r["work_station_id"]) == ws and r["patient_size"] == body.patient_size), None)
    if row is None:
        raise not_found("work_station_id", ws)
    technique = Technique(
        kv=float(row["kv"]),
        ma=float(row["ma"]),
        ms=float(row["ms"]),
        mas=float(row["mas"]),
        focus=Focus(int(row["focus"])),
        tech_mode=TechMode.THREE_POINT,
        work_station=ws,
        aec_field=str(row["aec_field"] or "000").zfill(3),
        aec_density=0,
    )
    return await manager.load_technique(technique, transaction=transaction, client_id=client_id)
