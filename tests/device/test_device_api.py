"""§14 device/open, device/get, device/action through the app, with the in-process simulators (instant
profile) the lifespan starts: role-filtered properties, the action catalogue, refusals, concurrency."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient

from dros.app import create_app
from dros.device.manager import DeviceManager
from dros.settings import Settings
from tests.conftest import PASSWORD

GEN = "DIOS/DEVICE/Generator"
DET = "DIOS/DEVICE/Detector"
SEED_KEYS = [
    "SupportSyncMode", "IsDemo", "GENERATORSTATUS", "GENERATORSYNCSTATE", "ErrorList", "TUBEHEAT", "TubeAngle",
    "FOCUSSIZE", "TubeTargetMaterial", "BatteryChargeState", "BatteryPowerState", "MaxPower", "MaxHeatContent",
    "KV", "MA", "MS", "MAS", "FOCUS", "WORKSTATION", "AECDENSITY", "AECFIELD", "AECFILM", "TECHMODE", "FrameRate",
    "EXAMMODE", "EXPMODE", "POSTKV", "POSTMA", "POSTMAS", "POSTMS", "FLUKV", "FLUMA", "FLUMS", "FLUMode", "FLUPPS",
    "FLUAccTime", "FLUIntTime", "FLUpulseWidth", "FLUABSStatus", "FLUDoseLevel", "FLUCurve", "FLUCineKV",
    "FLUCineMA", "FLUCineMS", "connections", "FocusSmall", "FocusLarge", "logEnable", "loopEnable", "loopTime",
    "ReConnect", "WSTable", "WSWall", "WSFree", "WSTomo", "WSConventional", "SYNTable", "SYNWall", "SYNFree",
    "SYNTomo", "SYNConventional", "DeviceNumber", "StateChangeInterval", "AutoExpActWaitTime", "Manufacturer",
    "Model", "Modality",
]  # fmt: skip
PRIVATE = {"MaxPower", "MaxHeatContent", "logEnable", "loopEnable", "loopTime", "ReConnect", "DeviceNumber",
           "StateChangeInterval", "AutoExpActWaitTime"}  # fmt: skip
ZSKK = {"FOCUSSIZE", "TubeTargetMaterial", "FocusSmall", "FocusLarge", "WSTable", "WSWall", "WSFree", "WSTomo",
        "WSConventional", "SYNTable", "SYNWall", "SYNFree", "SYNTomo", "SYNConventional"}  # fmt: skip


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings.load(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "host": "127.0.0.1",
            "log_level": "WARNING",
            "device": {"simulator_profile": "instant", "loop_time_ms": 300, "reply_timeout_ms": 100},
        },
    )


Headers = Callable[..., dict[str, str]]


def _open(client: TestClient[Litestar], headers: dict[str, str], uri: str = GEN) -> None:
    r = client.post("/dr/api/v1/auth/device/open", json={"deviceUri": uri}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}}


def _get(client: TestClient[Litestar], headers: dict[str, str], name: str = "", uri: str = GEN) -> Any:
    r = client.post("/api/v1/auth/device/get", json={"deviceUri": uri, "reqName": name, "reqParam": ""},
                    headers=headers)  # fmt: skip
    return r


def _action(client: TestClient[Litestar], headers: dict[str, str], name: str, param: str = "") -> Any:
    return client.post(
        "/dr/api/v1/auth/device/action",
        json={"deviceUri": GEN, "reqName": name, "reqParam": param, "reqTransaction": "t1", "reqClientID": "c1"},
        headers=headers,
    )


def _props(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert isinstance(data, str)  # the seed: data is a JSON *string*
    return json.loads(data)  # type: ignore[no-any-return]


def test_get_for_every_role_filters_levels(client: TestClient[Litestar], auth_headers: Headers) -> None:
    _open(client, auth_headers("tech"))
    service = _props(_get(client, auth_headers("service"), "GetAll"))
    assert list(service) == SEED_KEYS  # every key of the seed's example, in its order
    for prop in service.values():
        assert prop["Level"] in ("Public", "Private", "ZSKK")
        assert set(prop) >= {"Level", "DescKey", "Value"}
    assert service["MaxPower"]["DescKey"] == "kV*mA" and service["MaxHeatContent"]["DescKey"] == "kV*mAs"
    assert service["KV"]["min"] == "40.00" and service["KV"]["max"] == "150.00"
    assert service["GENERATORSTATUS"]["Value"] == "2"  # Standby
    assert service["connections"]["Value"]["type"] == "COM"
    admin = _props(_get(client, auth_headers("admin"), "Get"))
    assert set(admin) == set(SEED_KEYS) - ZSKK
    for role in ("mgr", "tech"):
        public = _props(_get(client, auth_headers(role)))
        assert set(public) == set(SEED_KEYS) - ZSKK - PRIVATE
    r = _get(client, auth_headers("guest"))
    assert r.status_code == 403 and r.json()["code"] == "0x020006"
    r = _get(client, auth_headers("tech"), "loopTime")
    assert r.status_code == 403 and r.json()["data"]["field"] == "reqName"
    assert _props(_get(client, auth_headers("admin"), "loopTime")) == {
        "loopTime": {"Level": "Private", "DescKey": "loopTime", "Value": "300"}
    }


def test_one_property_unknown_property_and_uris(client: TestClient[Litestar], auth_headers: Headers) -> None:
    h = auth_headers("tech")
    _open(client, h)
    assert list(_props(_get(client, h, "KV"))) == ["KV"]
    r = _get(client, h, "NOPE")
    assert r.status_code == 400 and r.json()["data"]["field"] == "reqName"
    r = client.post("/dr/api/v1/auth/device/get", json={"deviceUri": "DIOS/DEVICE/Nope"}, headers=h)
    assert r.status_code == 400 and r.json()["data"]["field"] == "deviceUri"
    r = client.post("/dr/api/v1/auth/device/get", json={"reqName": "Get"}, headers=h)
    assert r.status_code == 400
    det = _props(_get(client, h, "", DET))
    assert det["DETECTORSTATUS"]["Value"].startswith("DETECTOR_STATUS_")


def test_raise_kv_and_read_it_back(client: TestClient[Litestar], auth_headers: Headers) -> None:
    h = auth_headers("tech")
    _open(client, h)
    kv0 = float(_props(_get(client, h, "KV"))["KV"]["Value"])
    assert _action(client, h, "IncParam_KV").status_code == 200
    assert float(_props(_get(client, h, "KV"))["KV"]["Value"]) == kv0 + 1
    assert _action(client, h, "IncParam_KV", "5").status_code == 200
    assert _action(client, h, "DecParam_KV", "2").status_code == 200
    assert float(_props(_get(client, h, "KV"))["KV"]["Value"]) == kv0 + 4
    # times step along R10: 50 ms → 63 → 80 → 100; mAs follows mA × ms
    assert _action(client, h, "SetParam_MS", "50").status_code == 200
    assert _action(client, h, "IncParam_MS", "3").status_code == 200
    props = _props(_get(client, h))
    assert float(props["MS"]["Value"]) == 100.0
    assert float(props["MAS"]["Value"]) == pytest.approx(float(props["MA"]["Value"]) * 0.1)
    assert _action(client, h, "DecParam_MS").status_code == 200
    assert float(_props(_get(client, h, "MS"))["MS"]["Value"]) == 80.0
    for name, param, key, value in (
        ("SetFocus", "0", "FOCUS", "0"),
        ("SetTechMode", "0", "TECHMODE", "0"),
        ("SetWorkstation", "0", "WORKSTATION", "0"),
        ("SetAECField", "101", "AECFIELD", "101"),
        ("SetAECDensity", "-2", "AECDENSITY", "-2"),
    ):
        assert _action(client, h, name, param).status_code == 200, name
        assert _props(_get(client, h, key))[key]["Value"] == value


def test_refusals_name_the_field(client: TestClient[Litestar], auth_headers: Headers) -> None:
    h = auth_headers("tech")
    _open(client, h)
    for name, param, field in (
        ("SetParam_KV", "151", "KV"),
        ("SetParam_KV", "abc", "KV"),
        ("SetParam_MA", "5", "MA"),
        ("SetFocus", "3", "FOCUS"),
        ("SetAECField", "0101", "AECFIELD"),
        ("IncParam_KV", "x", "reqParam"),
        ("IncParam_KV", "0", "reqParam"),
        ("Explode", "", "reqName"),
        ("SetAPR", "{", "reqParam"),
        ("SetAPR", '{"apr_id": "View_DX_T_A_SK_AP_00", "patient_size": "Huge"}', "patient_size"),
    ):
        r = _action(client, h, name, param)
        assert r.status_code == 400, (name, param, r.text)
        assert r.json()["code"] == "0x010001" and r.json()["data"]["field"] == field, (name, r.json())
    _action(client, h, "SetParam_KV", "150")
    r = _action(client, h, "IncParam_KV")
    assert r.status_code == 400 and r.json()["data"]["field"] == "KV"
    r = _action(client, h, "SetAPR", '{"apr_id": "NoSuchApr"}')
    assert r.status_code == 404 and r.json()["data"]["field"] == "apr_id"


def test_set_apr_loads_the_row_for_size_and_work_station(client: TestClient[Litestar], auth_headers: Headers) -> None:
    h = auth_headers("tech")
    _open(client, h)
    # aprs.csv: Skull AP, table (0), Large = 80 kV 500 mA 80 ms 40 mAs focus 1
    r = _action(
        client, h, "SetAPR", '{"apr_id": "View_DX_T_A_SK_AP_00", "patient_size": "Large", "work_station_id": 0}'
    )
    assert r.status_code == 200, r.text
    p = _props(_get(client, h))
    got = {k: float(p[k]["Value"]) for k in ("KV", "MA", "MS", "MAS")}
    assert got == {"KV": 80.0, "MA": 500.0, "MS": 80.0, "MAS": 40.0}
    assert p["WORKSTATION"]["Value"] == "0" and p["TECHMODE"]["Value"] == "1"
    r = _action(
        client, h, "SetAPR", '{"apr_id": "View_DX_T_A_SK_AP_00", "patient_size": "Medium", "work_station_id": 0}'
    )
    assert r.status_code == 200
    assert float(_props(_get(client, h, "KV"))["KV"]["Value"]) == 75.0


def test_generator_refusal_is_0x040003_in_the_users_language(
    client: TestClient[Litestar], app: Litestar, auth_headers: Headers
) -> None:
    _open(client, auth_headers("tech"))
    gen_sim = _generator_simulator(app)
    gen_sim.inject("nak", 50)  # a NAK storm: the driver's bounded retries give up with the generator's reason
    r = _action(client, auth_headers("tech", language="zh_CN"), "IncParam_KV")
    assert r.status_code == 503 and r.json()["code"] == "0x040003"
    assert "发生器忙" in r.json()["description"]
    gen_sim.inject("clear")


def test_values_are_live_from_the_generator(client: TestClient[Litestar], app: Litestar, auth_headers: Headers) -> None:
    h = auth_headers("tech")
    _open(client, h)
    _generator_simulator(app).inject("heat", 42)  # the generator's own report, not a stored value
    for _ in range(50):
        if _props(_get(client, h, "TUBEHEAT"))["TUBEHEAT"]["Value"] == "42":
            break
        time.sleep(0.05)
    assert _props(_get(client, h, "TUBEHEAT"))["TUBEHEAT"]["Value"] == "42"
    _generator_simulator(app).inject("door", 0)
    r = _get(client, auth_headers("tech", language="zh_CN"), "ErrorList")
    assert _props(r)["ErrorList"]["Value"] == ""  # an open door is an interlock, not a fault, until prep
    _generator_simulator(app).inject("arc")
    for _ in range(50):
        if _props(_get(client, h, "GENERATORSTATUS"))["GENERATORSTATUS"]["Value"] == "9":
            break
        time.sleep(0.05)
    assert _props(_get(client, h, "ErrorList"))["ErrorList"]["Value"] == "2:high-voltage arc"
    zh = _props(_get(client, auth_headers("tech", language="zh_CN"), "ErrorList"))
    assert zh["ErrorList"]["Value"] == "2:高压打火"


def test_not_connected_is_0x040001_and_recovers(
    client: TestClient[Litestar], app: Litestar, auth_headers: Headers
) -> None:
    h = auth_headers("tech")
    _open(client, h)
    gen_sim = _generator_simulator(app)
    devices: DeviceManager = app.state.devices
    gen_sim.inject("silence", 1.5)
    seen_lost = False
    for _ in range(60):
        r = _get(client, h, "KV")
        if r.status_code == 503:
            assert r.json()["code"] == "0x040001"
            seen_lost = True
            break
        time.sleep(0.05)
    assert seen_lost, "the link was never reported lost"
    assert devices.status.generator.link in ("lost", "connecting")
    r = client.post("/dr/api/v1/auth/device/open", json={"deviceUri": GEN}, headers=h)
    assert r.status_code == 200, r.text  # open waits for the link to come back
    assert _get(client, h, "KV").status_code == 200


def _generator_simulator(app: Litestar) -> Any:
    devices: DeviceManager = app.state.devices
    for close in devices._simulators:
        owner = getattr(close, "__self__", None)
        if type(owner).__name__ == "GeneratorSimulator":
            return owner
    raise AssertionError("no in-process generator simulator")


def test_50_concurrent_actions_end_consistent(settings: Settings) -> None:
    async def main() -> None:
        app = create_app(settings)
        async with AsyncTestClient(app, base_url="http://127.0.0.1") as c:
            r = await c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": PASSWORD})
            h = {"Authorization": f"Bearer {r.json()['data']['token']}"}
            await c.post("/dr/api/v1/auth/device/open", json={"deviceUri": GEN}, headers=h)
            body = {"deviceUri": GEN, "reqName": "SetParam_KV", "reqParam": "60"}
            assert (await c.post("/dr/api/v1/auth/device/action", json=body, headers=h)).status_code == 200

            async def act(i: int) -> int:
                name = "IncParam_KV" if i % 5 else "DecParam_KV"  # 40 up, 10 down
                body = {"deviceUri": GEN, "reqName": name, "reqParam": "", "reqTransaction": str(i)}
                return (await c.post("/dr/api/v1/auth/device/action", json=body, headers=h)).status_code

            codes = await asyncio.gather(*(act(i) for i in range(50)))
            assert codes == [200] * 50
            r = await c.post("/dr/api/v1/auth/device/get", json={"deviceUri": GEN, "reqName": "KV"}, headers=h)
            assert float(json.loads(r.json()["data"])["KV"]["Value"]) == 60 + 40 - 10
            devices: DeviceManager = app.state.devices
            assert devices.generator is not None and devices.generator.status.technique is not None
            assert devices.generator.status.technique.kv == 90.0  # the generator's own value agrees

    asyncio.run(main())
