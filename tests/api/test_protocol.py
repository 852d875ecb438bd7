"""auth/protocol/* and pub/Image/*: every endpoint with its filters and paging, exact reply shapes, product
separation, APR edit round trip / refusals / persistence across restart and catalog upgrade, and the icons."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.app import create_app
from dros.catalog_data import ROOT as CATALOG_ROOT
from dros.catalog_data import load
from dros.domain.protocol import repo
from dros.domain.protocol.install import install_catalog
from dros.settings import Settings
from tests.conftest import login

P = "/dr/api/v1/auth/protocol"
T = "type.googleapis.com/dr.protocol."
SIZES = ["Large", "Medium", "Paediatric", "Small"]

PATIENT_TYPE_KEYS = [
    "id",
    "patient_type_id",
    "patient_type_name",
    "patient_type_local",
    "patient_type_description",
    "sort",
    "is_enabled",
    "product",
    "is_pre_install",
]
BODY_PART_KEYS = [
    "id",
    "body_part_id",
    "body_part_name",
    "body_part_local",
    "body_part_description",
    "patient_type",
    "category",
    "sort",
    "is_enabled",
    "product",
    "is_pre_install",
]
PROCEDURE_KEYS = [
    "id",
    "procedure_id",
    "procedure_code",
    "procedure_name",
    "procedure_name_local",
    "procedure_other_name",
    "procedure_description",
    "procedure_description_local",
    "patient_type",
    "body_part_id",
    "procedure_type",
    "fast_search",
    "protocol_laterality",
    "procedure_category",
    "modality",
    "sort",
    "is_enabled",
    "product",
    "is_pre_install",
]
VIEW_KEYS = [
    "internal_id",
    "view_id",
    "view_name",
    "view_name_local",
    "view_other_name",
    "view_description",
    "view_position",
    "application",
    "anatomic_region",
    "patient_type",
    "body_part_id",
    "view_icon_name",
    "view_big_icon_name",
    "view_coach_name",
    "modality",
    "work_station_id",
    "apr_id",
    "img_proc_id",
    "config_object",
    "sort",
    "is_enabled",
    "product",
    "is_pre_install",
]
DX_KEYS = [
    "CollimatorCenter",
    "CollimatorFilter",
    "CollimatorNoChange",
    "CollimatorSize",
    "CollimatorSizeLength",
    "CollimatorSizeWidth",
    "ImageHorizontalFlip",
    "ImageLaterality",
    "ImageRotate",
    "LabelPosition",
    "LabelStyle",
    "PatientOrientationColumn",
    "PatientOrientationRow",
    "RatioFactorLength",
    "RatioFactorSize",
    "RatioFactorThickness",
    "RatioFactorWeight",
    "StandPos",
    "TargetEXI",
    "ViewID",
]
APR_KEYS = [
    "@type",
    "apr_id",
    "apr_name",
    "apr_description",
    "patient_type",
    "body_part_id",
    "view_position",
    "category",
    "modality",
    "exposures",
    "sort",
    "is_enabled",
    "product",
    "is_pre_install",
]
COMMON_KEYS = [
    "AECDensity",
    "AECField",
    "AECFilm",
    "Dose",
    "ExposureMode",
    "Focus",
    "TOD",
    "TubeLoad",
    "kV",
    "mA",
    "mAs",
    "ms",
]
DEVICE_KEYS = [
    "APRNumber",
    "DetectorAngle",
    "FpdAcquisitionMode",
    "FrameRate",
    "GridSpeed",
    "GridType",
    "PositionNumber",
    "SID",
    "Thickness",
    "TubeAngle",
]
DP_KEYS = [
    "SID",
    "GridType",
    "GridSpeed",
    "DetectorAngle",
    "TubeAngle",
    "TubeHeight",
    "APRNumber",
    "PositionNumber",
    "Thickness",
    "FrameRate",
    "LongTimeExp",
]
EP_KEYS = [
    "kV",
    "mA",
    "ms",
    "mAs",
    "ExposureMode",
    "Focus",
    "AECFilm",
    "AECField",
    "AECDensity",
    "Dose",
    "TubeLoad",
    "TOD",
    "CompressionThickness",
]


# ---- a shared read-only app for the catalog reads (building an app seeds users: ~1 s) ----
class Api:
    def __init__(self, client: TestClient[Litestar]) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def headers(self, user: str = "admin", product: str = "DROS", language: str = "en_US") -> dict[str, str]:
        if user not in self.tokens:
            if user == "guest":
                self.tokens[user] = self.client.get("/dr/api/v1/pub/software_info").json()["data"]["guest"]
            else:
                self.tokens[user] = login(self.client, user)
        return {"Authorization": f"Bearer {self.tokens[user]}", "Product": product, "Language": language}

    def get(self, path: str, status: int = 200, **hdr: str) -> Any:
        r = self.client.get(path if path.startswith("/") else f"{P}/{path}", headers=self.headers(**hdr))
        assert r.status_code == status, r.text
        body = r.json()
        if status == 200:
            assert body["code"] == "0x000000" and body["solution"] == ""
            return body["data"]
        assert body["code"] != "0x000000" and set(body) == {"code", "description", "solution", "data"}
        return body

    def post(self, path: str, json: Any, status: int = 200, **hdr: str) -> Any:
        r = self.client.post(f"{P}/{path}", json=json, headers=self.headers(**hdr))
        assert r.status_code == status, r.text
        return r.json()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("protocol-ro") / "data"
    settings = Settings.load(environ={}, overrides={"data_dir": str(data), "host": "127.0.0.1", "log_level": "WARNING"})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        yield Api(c)


@pytest.fixture
def rw(client: TestClient[Litestar]) -> Api:
    """An app of its own (function scope) for tests that edit."""
    return Api(client)


def field_of(err: dict[str, Any]) -> str:
    return err["data"]["field"]


def all_pages(api: Api, path: str, page_size: int, **hdr: str) -> tuple[list[dict], list[int]]:
    items, counts, page = [], [], 1
    key = "procedures" if path.startswith("procedure") else "views"
    sep = "&" if "?" in path else "?"
    while True:
        d = api.get(f"{path}{sep}page={page}&page_size={page_size}", **hdr)
        counts.append(d["count"])
        if not d[key]:
            break
        assert len(d[key]) <= page_size
        items += d[key]
        page += 1
    return items, counts


# ---- patient types and body parts ----
def test_patient_types_per_product(api: Api) -> None:
    human = api.get("patient_type")
    assert set(human) == {"patient_type_list"}  # plain object, no @type
    assert [t["patient_type_id"] for t in human["patient_type_list"]] == ["Human"]
    t = human["patient_type_list"][0]
    assert list(t) == PATIENT_TYPE_KEYS
    assert t["id"] == "1" and t["product"] == "DROS" and t["is_pre_install"] is True
    vet = api.get("patient_type", product="VETDROS")["patient_type_list"]
    ids = [t["patient_type_id"] for t in vet]
    assert ids[:2] == ["Dog", "Cat"] and len(ids) >= 5 and "Human" not in ids
    assert all(t["product"] == "VETDROS" for t in vet)
    assert [t["sort"] for t in vet] == sorted(t["sort"] for t in vet)
    zh = api.get("patient_type", product="VETDROS", language="zh_CN")["patient_type_list"]
    assert zh[0]["patient_type_local"] == "犬" and vet[0]["patient_type_local"] == "Dog"


def test_patient_type_is_enabled_filter(api: Api) -> None:
    assert len(api.get("patient_type?is_enabled=true")["patient_type_list"]) == 1
    assert api.get("patient_type?is_enabled=false")["patient_type_list"] == []
    err = api.get("patient_type?is_enabled=perhaps", status=400)
    assert field_of(err) == "is_enabled"


def test_body_parts_filters(api: Api) -> None:
    parts = api.get("body_part?patient_type=Human")["body_part_list"]
    assert len(parts) == 30 and list(parts[0]) == BODY_PART_KEYS
    assert parts[0]["body_part_id"] == "Human_SKULL" and parts[0]["body_part_name"] == "颅骨"
    assert parts[0]["body_part_description"] == "Skull" and parts[0]["category"] == "DX"
    assert [p["sort"] for p in parts] == sorted(p["sort"] for p in parts)
    disabled = api.get("body_part?patient_type=Human&is_enabled=false")["body_part_list"]
    assert {p["body_part_id"] for p in disabled} == {"Human_WHOLE SPINE", "Human_LONG LEG"}
    assert len(api.get("body_part?is_enabled=true")["body_part_list"]) == 28
    assert len(api.get("body_part?modality=DX")["body_part_list"]) == 30
    assert api.get("body_part?modality=CR")["body_part_list"] == []
    assert field_of(api.get("body_part?modality=dx!", status=400)) == "modality"
    # another product's patient type is not visible
    assert api.get("body_part?patient_type=Dog")["body_part_list"] == []
    dog = api.get("body_part?patient_type=Dog", product="VETDROS")["body_part_list"]
    assert dog and all(p["patient_type"] == "Dog" and p["body_part_id"].startswith("Dog_") for p in dog)
    assert {"Dog_THORAX", "Dog_ABDOMEN", "Dog_PELVIS", "Dog_DENTAL", "Dog_TAIL"} <= {p["body_part_id"] for p in dog}
    zh = api.get("body_part?patient_type=Human", language="zh_CN")["body_part_list"]
    assert zh[0]["body_part_local"] == "颅骨" and parts[0]["body_part_local"] == "Skull"


# ---- procedures ----
def test_procedure_list_shape_and_reference_entries(api: Api) -> None:
    d = api.get("procedure?page_size=4")
    assert list(d) == ["@type", "count", "procedures"] and d["@type"] == T + "ProcedureList"
    assert d["count"] > 100 and len(d["procedures"]) == 4
    first = d["procedures"]
    assert all(list(p) == PROCEDURE_KEYS for p in first)
    assert [p["procedure_id"] for p in first] == ["P0-0001", "P0-0002", "P0-0003", "P0-0004"]
    assert [p["procedure_other_name"] for p in first] == [
        "Skull Townes View",
        "Skull AP + LAT",
        "Skull PA + LAT",
        "Skull AP",
    ]
    assert first[1]["procedure_name"] == "颅骨前后位 + 侧位" and first[1]["procedure_code"] == "P0-0002"
    assert first[1]["body_part_id"] == "Human_SKULL" and first[1]["modality"] == "DX"


def test_procedure_paging_count_is_total(api: Api) -> None:
    total = api.get("procedure?page_size=10000")["count"]
    items, counts = all_pages(api, "procedure", 37)
    assert set(counts) == {total} and len(items) == total
    assert len({p["procedure_id"] for p in items}) == total
    default = api.get("procedure")
    assert len(default["procedures"]) == 10 and default["count"] == total
    beyond = api.get(f"procedure?page={total}&page_size=10")
    assert beyond["procedures"] == [] and beyond["count"] == total


def test_procedure_filters(api: Api) -> None:
    knee = api.get("procedure?body_part=Human_KNEE&page_size=10000")
    assert knee["count"] == len(knee["procedures"]) > 0
    assert all(p["body_part_id"] == "Human_KNEE" for p in knee["procedures"])
    assert [p["sort"] for p in knee["procedures"]] == sorted(p["sort"] for p in knee["procedures"])
    emergency = api.get("procedure?procedure_type=EMERGENCY&page_size=10000")
    assert emergency["count"] >= 10 and all(p["procedure_type"] == "EMERGENCY" for p in emergency["procedures"])
    normal = api.get("procedure?procedure_type=NORMAL&page_size=1")["count"]
    assert normal + emergency["count"] == api.get("procedure?page_size=1")["count"]
    off = api.get("procedure?is_enabled=false&page_size=10000")["procedures"]
    assert off and all(
        not p["is_enabled"] and p["body_part_id"] in ("Human_WHOLE SPINE", "Human_LONG LEG") for p in off
    )
    assert api.get("procedure?patient_type=Dog")["count"] == 0
    assert api.get("procedure?modality=DX&page_size=1")["count"] == api.get("procedure?page_size=1")["count"]
    assert api.get("procedure?modality=CR")["count"] == 0
    vet = api.get("procedure?patient_type=Cat&procedure_type=EMERGENCY&page_size=100", product="VETDROS")
    assert vet["count"] >= 1 and all(p["patient_type"] == "Cat" for p in vet["procedures"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=x", "page"),
        ("page_size=0", "page_size"),
        ("page_size=10001", "page_size"),
        ("procedure_type=URGENT", "procedure_type"),
        ("is_enabled=2x", "is_enabled"),
        ("modality=D", "modality"),
    ],
)
def test_procedure_bad_query(api: Api, query: str, field: str) -> None:
    err = api.get(f"procedure?{query}", status=400)
    assert err["code"] == "0x010001" and field_of(err) == field


# ---- views ----
def test_view_list_shape_paging_and_filters(api: Api) -> None:
    d = api.get("view")
    assert list(d) == ["@type", "count", "views"] and d["@type"] == T + "ViewList"
    assert len(d["views"]) == 10 and d["count"] >= 120
    v = d["views"][0]
    assert list(v) == VIEW_KEYS and "@type" not in v
    assert list(v["config_object"]) == ["DX"] and list(v["config_object"]["DX"]) == DX_KEYS
    assert v["config_object"]["DX"]["ViewID"] == v["view_id"] == v["internal_id"] == v["apr_id"]
    assert v["view_id"] == "View_DX_T_A_SK_AP_00" and v["view_name"] == "颅骨前后位"
    items, counts = all_pages(api, "view", 23)
    assert set(counts) == {d["count"]} and len({x["view_id"] for x in items}) == d["count"]
    skull = api.get("view?body_part=Human_SKULL&page_size=100")
    assert skull["count"] == len(skull["views"]) == 7
    assert [x["sort"] for x in skull["views"]] == sorted(x["sort"] for x in skull["views"])
    assert {x["view_position"] for x in skull["views"]} >= {"AP", "PA", "LAT", "Axial"}
    off = api.get("view?is_enabled=false&page_size=100")
    assert off["count"] == 5 and all(not x["is_enabled"] for x in off["views"])
    assert api.get("view?patient_type=Human&page_size=1")["count"] == d["count"]
    assert api.get("view?patient_type=Cat")["count"] == 0
    assert field_of(api.get("view?page_size=abc", status=400)) == "page_size"
    vet = api.get("view?patient_type=Dog&body_part=Dog_PELVIS", product="VETDROS")
    assert "View_DX_DOG_PV_VD_00" in {x["view_id"] for x in vet["views"]}
    assert all(x["product"] == "VETDROS" for x in vet["views"])


def test_procedure_views_by_procedure_id_and_record_id(api: Api) -> None:
    d = api.get("procedure/P0-0002/view")
    assert d["@type"] == T + "ViewList" and d["count"] == 2
    assert [v["view_id"] for v in d["views"]] == ["View_DX_T_A_SK_AP_00", "View_DX_T_A_SK_LAT_00"]
    assert d["views"][1]["view_other_name"] == "Skull LAT,left" and d["views"][1]["view_name"] == "颅骨左侧位"
    assert api.get("procedure/2/view") == d
    assert api.get("procedure/P0-0002/view?is_enabled=false")["count"] == 0
    assert field_of(api.get("procedure/P9-9999/view", status=404)) == "id"
    api.get("procedure/P0-0002/view", status=404, product="VETDROS")
    assert field_of(api.get("procedure/P0-0002/view?is_enabled=yes%3F", status=400)) == "is_enabled"


def test_every_procedure_resolves_to_existing_views(api: Api) -> None:
    for product in ("DROS", "VETDROS"):
        procs = api.get("procedure?page_size=10000", product=product)["procedures"]
        for p in procs[:: max(1, len(procs) // 25)]:
            views = api.get(f"procedure/{p['procedure_id']}/view", product=product)
            assert views["count"] >= 1
            for v in views["views"]:
                assert api.get(f"view/{v['view_id']}", product=product)["view_id"] == v["view_id"]


def test_view_detail_and_its_query_conditions(api: Api) -> None:
    v = api.get("view/View_DX_T_A_SK_AP_00")
    assert list(v) == ["@type", *VIEW_KEYS] and v["@type"] == T + "View"
    assert api.get("view/View_DX_T_A_SK_AP_00?body_part=Human_SKULL&patient_type=Human&is_enabled=true")["view_id"]
    assert api.get("view/View_DX_T_A_SK_AP_00?procedure_id=P0-0002")["view_id"] == "View_DX_T_A_SK_AP_00"
    for q in ("body_part=Human_CHEST", "patient_type=Dog", "is_enabled=false", "procedure_id=P0-0001"):
        assert field_of(api.get(f"view/View_DX_T_A_SK_AP_00?{q}", status=404)) == "id"
    assert field_of(api.get("view/No_Such_View", status=404)) == "id"
    # another product's view does not exist for this product
    api.get("view/View_DX_T_A_SK_AP_00", status=404, product="VETDROS")
    assert api.get("view/View_DX_DOG_TH_LAT_00", product="VETDROS")["patient_type"] == "Dog"
    zh = api.get("view/View_DX_T_A_HD_OBL_01", language="zh_CN")
    assert zh["view_name_local"] == "右手斜位" and zh["view_other_name"] == "Hand OBL,right"
    assert zh["config_object"]["DX"]["ImageLaterality"] == "R"


# ---- APR ----
def check_apr(d: dict[str, Any], apr_id: str) -> None:
    assert list(d) == APR_KEYS and d["@type"] == T + "AprReply" and d["apr_id"] == apr_id
    pairs = [(e["work_station_id"], e["patient_size"]) for e in d["exposures"]]
    assert pairs == [(ws, s) for ws in (0, 1) for s in SIZES]
    for e in d["exposures"]:
        assert list(e) == ["work_station_id", "patient_size", "config_object"]
        c = e["config_object"]["Common"]
        assert list(c) == COMMON_KEYS
        assert 40 <= c["kV"] <= 150
        assert abs(c["mAs"] - c["mA"] * c["ms"] / 1000) <= max(0.05, 0.02 * c["mAs"])


def test_apr_by_view_and_by_id(api: Api) -> None:
    by_view = api.get("view/View_DX_T_A_HD_OBL_01/apr")
    check_apr(by_view, "View_DX_T_A_HD_OBL_01")
    assert by_view["view_position"] == "OBL" and by_view["category"] == "EXTREMITIES_SMALL"
    assert api.get("apr/View_DX_T_A_HD_OBL_01") == by_view
    medium = {
        e["work_station_id"]: e["config_object"]["Common"]
        for e in by_view["exposures"]
        if e["patient_size"] == "Medium"
    }
    assert 48 <= medium[0]["kV"] <= 60 and 1 <= medium[0]["mAs"] <= 4  # hand OBL, table-top chart range
    assert field_of(api.get("apr/No_Such_Apr", status=404)) == "id"
    assert field_of(api.get("view/No_Such_View/apr", status=404)) == "id"
    api.get("apr/View_DX_T_A_HD_OBL_01?body_part=Human_CHEST", status=404)
    assert api.get("apr/View_DX_T_A_HD_OBL_01?procedure_id=P0-0001", status=404)
    assert api.get("view/View_DX_T_A_HD_OBL_01/apr?is_enabled=true")["apr_id"] == "View_DX_T_A_HD_OBL_01"
    api.get("apr/View_DX_T_A_HD_OBL_01", status=404, product="VETDROS")
    check_apr(api.get("apr/View_DX_DOG_PV_VD_00", product="VETDROS"), "View_DX_DOG_PV_VD_00")
    assert api.get("apr/View_DX_T_A_HD_OBL_01", language="zh_CN")["apr_description"] == "右手斜位"


def test_apr_device(api: Api) -> None:
    d = api.get("apr/View_DX_T_A_CH_PA_00/device")  # chest PA: a wall-stand view, so the default station is 1
    assert list(d) == ["@type", "work_station_id", "config_object"] and d["@type"] == T + "AprDevice"
    assert d["work_station_id"] == 1 and list(d["config_object"]["Common"]) == DEVICE_KEYS
    assert d["config_object"]["Common"]["SID"] == 180 and d["config_object"]["Common"]["GridType"] == 2
    table = api.get("apr/View_DX_T_A_CH_PA_00/device?work_station_id=0")
    assert table["work_station_id"] == 0 and table["config_object"]["Common"]["SID"] == 100
    towne = api.get("apr/View_DX_T_A_SK_Axial_00/device")["config_object"]["Common"]
    assert towne["TubeAngle"] == -30  # Towne: 30° caudal
    for q in ("work_station_id=2", "work_station_id=-1", "work_station_id=x"):
        assert field_of(api.get(f"apr/View_DX_T_A_CH_PA_00/device?{q}", status=400)) == "work_station_id"
    assert field_of(api.get("apr/nope/device", status=404)) == "id"


def test_apr_tech(api: Api) -> None:
    apr = api.get("apr/View_DX_T_A_LS_LAT_00")
    want = {(e["work_station_id"], e["patient_size"]): e["config_object"]["Common"] for e in apr["exposures"]}
    d = api.get("apr/View_DX_T_A_LS_LAT_00/tech")
    assert list(d) == ["@type", "dp", "ep"] and d["@type"] == T + "TechParam"
    assert list(d["dp"]) == DP_KEYS and list(d["ep"]) == EP_KEYS
    assert {k: d["ep"][k] for k in ("kV", "mA", "ms", "mAs")} == {
        k: want[(0, "Medium")][k] for k in ("kV", "mA", "ms", "mAs")
    }
    for ws in (0, 1):
        for size in SIZES:
            t = api.get(f"apr/View_DX_T_A_LS_LAT_00/tech?work_station_id={ws}&patient_size={size}")
            assert t["ep"]["kV"] == want[(ws, size)]["kV"] and t["ep"]["mAs"] == want[(ws, size)]["mAs"]
    small = api.get("apr/View_DX_T_A_LS_LAT_00/tech?patient_size=Small")["dp"]["Thickness"]
    large = api.get("apr/View_DX_T_A_LS_LAT_00/tech?patient_size=Large")["dp"]["Thickness"]
    assert small < large
    assert field_of(api.get("apr/View_DX_T_A_LS_LAT_00/tech?patient_size=Huge", status=400)) == "patient_size"
    assert field_of(api.get("apr/View_DX_T_A_LS_LAT_00/tech?work_station_id=5", status=400)) == "work_station_id"
    assert field_of(api.get("apr/nope/tech", status=404)) == "id"


def test_thickness_table(api: Api) -> None:
    prev = None
    for cm in range(1, 51):
        d = api.get(f"thickness/{cm}/apr")
        assert list(d) == ["@type", "thickness", "kV", "mA", "ms", "mAs"] and d["@type"] == T + "ThicknessApr"
        assert d["thickness"] == cm and 40 <= d["kV"] <= 150
        if prev:
            assert d["kV"] >= prev["kV"] and d["mAs"] >= prev["mAs"]
        prev = d
    assert (prev["kV"], prev["mAs"]) == (140, 20)
    for bad in ("0", "51", "-3", "abc", "2.5"):
        err = api.get(f"thickness/{bad}/apr", status=400)
        assert field_of(err) == "thickness", err


def test_both_prefixes_and_auth(api: Api) -> None:
    assert api.get("/api/v1/auth/protocol/patient_type") == api.get("patient_type")
    r = api.client.get(f"{P}/patient_type")
    assert r.status_code == 401 and r.json()["code"] == "0x020001"
    # every role may read, the guest included
    for user in ("guest", "tech", "mgr", "service"):
        assert api.get("view?page_size=1", user=user)["count"] > 0
    err = api.get("patient_type", status=400, product="CT")
    assert field_of(err) == "Product"


def test_walk_catalog_to_apr_for_both_products(api: Api) -> None:
    """Done means: patient type → body part → procedure → views → APR, from the pre-installed catalog alone."""
    for product in ("DROS", "VETDROS"):
        types = api.get("patient_type?is_enabled=true", product=product)["patient_type_list"]
        for t in types:
            parts = api.get(
                f"body_part?patient_type={t['patient_type_id']}&modality=DX&is_enabled=true", product=product
            )["body_part_list"]
            assert parts, t
            part = parts[0]["body_part_id"]
            procs = api.get(
                f"procedure?patient_type={t['patient_type_id']}&body_part={part}&is_enabled=true&page_size=100",
                product=product,
            )["procedures"]
            assert procs, part
            views = api.get(f"procedure/{procs[0]['procedure_id']}/view", product=product)["views"]
            assert views
            for v in views:
                check_apr(api.get(f"view/{v['view_id']}/apr", product=product), v["apr_id"])
                assert api.get(f"apr/{v['apr_id']}/tech", product=product)["ep"]["kV"] >= 40


# ---- icons ----
def test_every_icon_path_resolves_to_a_distinct_image(api: Api) -> None:
    digests: dict[str, str] = {}
    for product in ("DROS", "VETDROS"):
        views = api.get("view?page_size=10000", product=product)["views"]
        for v in views:
            for key in ("view_icon_name", "view_big_icon_name", "view_coach_name"):
                path = v[key]
                if path in digests:
                    continue
                r = api.client.get(f"/dr/api/v1/pub{path}")
                assert r.status_code == 200, path
                assert r.headers["content-type"].startswith("image/svg+xml")
                assert r.content.startswith(b"<svg") and v["view_other_name"].encode() in r.content.replace(
                    b"&amp;", b"&"
                )
                digests[path] = hashlib.sha256(r.content).hexdigest()
    assert len(digests) >= 2 * (120 + 80)
    assert len(set(digests.values())) == len(digests)  # no two icon paths serve the same picture


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("Position/Human/No_Such_View.svg", 404),
        ("Position/Nowhere/x.png", 404),
        ("..%2Fdros.duckdb", 400),
        ("%2e%2e/%2e%2e/etc/passwd.png", 400),
        ("Position/..%2F..%2Fdros.duckdb", 400),
        ("Position/Human/%2e%2e%2f%2e%2e%2fjwt.svg", 400),
        ("Position/Human/notes.txt", 400),
        ("Position/.generated-2-abc.svg", 400),
        ("Position%5C..%5Cx.svg", 400),
    ],
)
def test_image_refusals(api: Api, path: str, status: int) -> None:
    r = api.client.get(f"/dr/api/v1/pub/Image/{path}")
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == ("0x030001" if status == 404 else "0x010001") and body["data"]["field"] == "filepath"


# ---- APR edit ----
GOOD = {"work_station_id": 0, "patient_size": "Large", "kV": 57.0, "mA": 250.0, "ms": 20.0, "mAs": 5.0}
APR = "View_DX_T_A_HD_OBL_01"


def entry(api: Api, apr_id: str, ws: int, size: str, product: str = "DROS") -> dict[str, Any]:
    d = api.get(f"apr/{apr_id}", product=product)
    return next(
        e["config_object"]["Common"] for e in d["exposures"] if e["work_station_id"] == ws and e["patient_size"] == size
    )


def test_apr_edit_round_trip_and_reset(rw: Api) -> None:
    before = rw.get(f"apr/{APR}")
    body = rw.post(f"apr/{APR}", GOOD)
    assert body == {"code": "0x000000", "description": "Success", "solution": "", "data": {}}
    after = rw.get(f"apr/{APR}")
    changed = [(a, b) for a, b in zip(before["exposures"], after["exposures"], strict=True) if a != b]
    assert len(changed) == 1
    c = entry(rw, APR, 0, "Large")
    assert (c["kV"], c["mA"], c["ms"], c["mAs"]) == (57, 250, 20, 5)
    tech = rw.get(f"apr/{APR}/tech?work_station_id=0&patient_size=Large")["ep"]
    assert (tech["kV"], tech["mAs"]) == (57, 5)
    assert rw.get(f"view/{APR}/apr") == after
    # a second edit replaces the first; a different user (mgr) may edit too
    rw.post(f"apr/{APR}", {**GOOD, "kV": 60, "mA": 200, "ms": 16, "mAs": 3.2}, user="mgr")
    assert entry(rw, APR, 0, "Large")["kV"] == 60
    rw.post(f"apr/{APR}", {**GOOD, "work_station_id": 1, "patient_size": "Small"}, user="service")
    # reset one entry
    rw.post(f"apr/{APR}", {"work_station_id": 0, "patient_size": "Large", "reset": True})
    assert entry(rw, APR, 0, "Large") == entry_of(before, 0, "Large")
    assert entry(rw, APR, 1, "Small")["kV"] == 57
    # reset the whole APR
    rw.post(f"apr/{APR}", {"reset": True})
    assert rw.get(f"apr/{APR}") == before


def entry_of(apr: dict[str, Any], ws: int, size: str) -> dict[str, Any]:
    return next(
        e["config_object"]["Common"]
        for e in apr["exposures"]
        if e["work_station_id"] == ws and e["patient_size"] == size
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kV": 39}, "kV"),
        ({"kV": 151}, "kV"),
        ({"kV": "57"}, "kV"),
        ({"kV": True}, "kV"),
        ({"kV": None}, "kV"),
        ({"mA": 0, "mAs": 0.1}, "mA"),
        ({"mA": 1001}, "mA"),
        ({"ms": 0.5, "mAs": 0.125}, "ms"),
        ({"ms": 10001}, "ms"),
        ({"mAs": 0}, "mAs"),
        ({"mAs": 1001}, "mAs"),
        ({"mAs": 6.3}, "mAs"),
        ({"mAs": 4.8}, "mAs"),
        ({"work_station_id": 2}, "work_station_id"),
        ({"work_station_id": None}, "work_station_id"),
        ({"work_station_id": "0"}, "work_station_id"),
        ({"patient_size": "Huge"}, "patient_size"),
        ({"patient_size": None}, "patient_size"),
        ({"voltage": 57}, "voltage"),
    ],
)
def test_apr_edit_refusals(rw: Api, change: dict[str, Any], field: str) -> None:
    before = rw.get(f"apr/{APR}")
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    err = rw.post(f"apr/{APR}", body, status=400)
    assert err["code"] == "0x010001" and err["data"]["field"] == field, err
    assert rw.get(f"apr/{APR}") == before


def test_apr_edit_refusals_other(rw: Api) -> None:
    before = rw.get(f"apr/{APR}")
    err = rw.post("apr/No_Such_Apr", GOOD, status=404)
    assert err["data"]["field"] == "id"
    # the APR exists only for the human product
    rw.post(f"apr/{APR}", GOOD, status=404, product="VETDROS")
    for user in ("tech", "guest"):
        err = rw.post(f"apr/{APR}", GOOD, status=403, user=user)
        assert err["code"] == "0x020006"
    r = rw.client.post(f"{P}/apr/{APR}", json=GOOD)
    assert r.status_code == 401
    r = rw.client.post(
        f"{P}/apr/{APR}", content=b"{not json", headers={**rw.headers(), "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "0x010002"
    err = rw.post(f"apr/{APR}", {"reset": True, "work_station_id": 0}, status=400)
    assert err["data"]["field"] == "patient_size"
    assert rw.get(f"apr/{APR}") == before


def test_vet_apr_edit(rw: Api) -> None:
    apr = "View_DX_DOG_TH_LAT_00"
    rw.post(
        f"apr/{apr}",
        {"work_station_id": 0, "patient_size": "Medium", "kV": 80, "mA": 400, "ms": 12.5, "mAs": 5},
        product="VETDROS",
    )
    assert entry(rw, apr, 0, "Medium", product="VETDROS")["kV"] == 80


def settings_on(data: Path) -> Settings:
    return Settings.load(environ={}, overrides={"data_dir": str(data), "host": "127.0.0.1", "log_level": "WARNING"})


def test_apr_edit_persists_across_restart(settings: Settings, make_app: Callable[[Settings], Litestar]) -> None:
    with TestClient(make_app(settings), base_url="http://127.0.0.1") as c:
        a = Api(c)
        a.post(f"apr/{APR}", GOOD)
        factory_small = entry(a, APR, 0, "Small")
    with TestClient(make_app(settings), base_url="http://127.0.0.1") as c:
        a = Api(c)
        e = entry(a, APR, 0, "Large")
        assert (e["kV"], e["mA"], e["ms"], e["mAs"]) == (57, 250, 20, 5)
        assert entry(a, APR, 0, "Small") == factory_small


def test_edit_wins_over_catalog_upgrade_and_reset_restores_new_factory(
    tmp_path: Path, settings: Settings, make_app: Callable[[Settings], Litestar]
) -> None:
    shipped = load()
    other = "View_DX_T_A_HD_PA_00"
    with TestClient(make_app(settings), base_url="http://127.0.0.1") as c:
        a = Api(c)
        factory_edited = entry(a, APR, 0, "Large")
        a.post(f"apr/{APR}", GOOD)
        factory_other = entry(a, other, 0, "Large")
    # an older catalog release with different factory values is what the database held before the upgrade
    old_root = tmp_path / "old-catalog"
    shutil.copytree(CATALOG_ROOT, old_root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (old_root / "manifest.toml").write_text('catalog_version = "2024.1.0"\nproducts = ["DROS", "VETDROS"]\n')
    exp = old_root / "dros" / "exposures.csv"
    lines = exp.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith((f"{APR},0,Large,", f"{other},0,Large,")):
            cols = line.split(",")
            cols[3] = "66"
            lines[i] = ",".join(cols)
    exp.write_text("\n".join(lines) + "\n")
    old = load(old_root)
    conn = duckdb.connect(str(settings.database_path))
    try:
        conn.execute("BEGIN")
        assert install_catalog(conn, old) is True
        conn.execute("COMMIT")
        assert conn.execute("SELECT catalog_version FROM protocol_catalog_release").fetchone()[0] == "2024.1.0"
        by_size = {(e["work_station_id"], e["patient_size"]): e for e in repo.exposures(conn, "DROS", other)}
        assert by_size[(0, "Large")]["kv"] == 66
        # installing the same release again is a no-op
        conn.execute("BEGIN")
        assert install_catalog(conn, old) is False
        conn.execute("COMMIT")
    finally:
        conn.close()
    # the next start upgrades to the shipped release: factory rows replaced, the user's edit kept
    with TestClient(make_app(settings), base_url="http://127.0.0.1") as c:
        a = Api(c)
        e = entry(a, APR, 0, "Large")
        assert (e["kV"], e["mA"], e["ms"], e["mAs"]) == (57, 250, 20, 5)
        assert entry(a, other, 0, "Large") == factory_other
        a.post(f"apr/{APR}", {"work_station_id": 0, "patient_size": "Large", "reset": True})
        assert entry(a, APR, 0, "Large") == factory_edited
    conn = duckdb.connect(str(settings.database_path))
    try:
        version, digest = conn.execute("SELECT catalog_version, content_hash FROM protocol_catalog_release").fetchone()
    finally:
        conn.close()
    assert (version, digest) == (shipped.version, shipped.content_hash)


def test_live_server_serves_catalog_and_icons(live_server: Any) -> None:
    with live_server.client() as c:
        tok = login(c, "tech")
        h = {"Authorization": f"Bearer {tok}", "Product": "VETDROS"}
        r = c.get(f"{P}/view?patient_type=Cat&page_size=100", headers=h)
        assert r.status_code == 200
        views = r.json()["data"]["views"]
        assert views and all(v["patient_type"] == "Cat" for v in views)
        icon = c.get(f"/dr/api/v1/pub{views[0]['view_icon_name']}")
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
