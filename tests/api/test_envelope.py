"""The envelope, both prefixes, headers and the refusal of everything malformed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.app import PREFIXES, create_app
from dros.errors import ErrorCode
from dros.settings import Settings
from tests.conftest import login

ENVELOPE_KEYS = {"code", "description", "solution", "data"}


def assert_error(r, status: int, code: ErrorCode, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["code"] == code.info.code
    assert body["description"] and body["solution"]
    if field is not None:
        assert body["data"]["field"] == field
        assert field in body["description"]
    return body


@pytest.mark.parametrize("prefix", PREFIXES)
def test_success_envelope_on_both_prefixes(client, prefix):
    r = client.get(f"{prefix}/pub/language")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["code"] == "0x000000" and body["description"] == "Success" and body["solution"] == ""


def test_success_description_follows_language_header(client):
    assert client.get("/dr/api/v1/pub/users", headers={"Language": "zh_CN"}).json()["description"] == "成功"
    assert client.get("/dr/api/v1/pub/users", headers={"Language": "en"}).json()["description"] == "Success"


def test_unknown_route_and_wrong_method(client):
    assert_error(client.get("/dr/api/v1/pub/nothing"), 404, ErrorCode.ROUTE_NOT_FOUND)
    assert_error(client.get("/totally/else"), 404, ErrorCode.ROUTE_NOT_FOUND)
    assert_error(client.delete("/dr/api/v1/pub/login"), 405, ErrorCode.METHOD_NOT_ALLOWED)


def test_malformed_json_body(client):
    r = client.post("/dr/api/v1/pub/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, ErrorCode.MALFORMED_BODY)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": 5, "password": "x"}, "username"),
        ({"username": "admin", "password": ["x"]}, "password"),
        ({"password": "x"}, "username"),
        ({"username": "admin"}, "password"),
        ({"username": "", "password": "x"}, "username"),
        ({"username": "a" * 65, "password": "x"}, "username"),
    ],
)
def test_wrong_types_missing_and_out_of_range_fields_name_the_field(client, body, field):
    assert_error(client.post("/dr/api/v1/pub/login", json=body), 400, ErrorCode.INVALID_PARAMETER, field)


def test_body_that_is_not_an_object(client):
    assert_error(client.post("/dr/api/v1/pub/login", json=["admin"]), 400, ErrorCode.INVALID_PARAMETER)


def test_errors_are_localized(client):
    r = client.post("/dr/api/v1/pub/login", json={"password": "x"}, headers={"Language": "zh_CN"})
    body = assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "username")
    assert body["description"] == "参数无效：username：缺少必填字段"
    assert body["solution"] == "请修正指出的字段后重新提交。"


STUDY = "/dr/api/v1/auth/study"
HUMAN_STUDY = {
    "patient_id": "P-1",
    "patient_name": "Li^Si",
    "patient_type": "Human",
    "study_type": "Normal",
    "patient_sex": "M",
    "views": [{"view_id": "View_DX_T_A_CH_PA_00", "procedure_id": ""}],
}

# (method, path, body or None, field, en detail, zh detail): one request per kind of refusal, over HTTP
KINDS = [
    ("POST", "/dr/api/v1/pub/login", {"username": "admin"}, "password", "is required", "缺少必填字段"),
    (
        "POST",
        "/dr/api/v1/pub/login",
        {"username": 5, "password": "x"},
        "username",
        "expected string, got integer",
        "应为字符串，实际为整数",
    ),
    (
        "POST",
        "/dr/api/v1/pub/login",
        {"username": "a" * 65, "password": "x"},
        "username",
        "must have at most 64 characters",
        "不能超过 64 个字符",
    ),
    (
        "POST",
        "/dr/api/v1/pub/login",
        {"username": "", "password": "x"},
        "username",
        "must have at least 1 character",
        "不能少于 1 个字符",
    ),
    ("GET", f"{STUDY}?page=0", None, "page", "must be at least 1", "不能小于 1"),
    ("GET", f"{STUDY}?page_size=10001", None, "page_size", "must be at most 10000", "不能大于 10000"),
    ("GET", f"{STUDY}?page=abc", None, "page", "expected integer, got string", "应为整数，实际为字符串"),
    ("GET", f"{STUDY}?name={'x' * 65}", None, "name", "must have at most 64 characters", "不能超过 64 个字符"),
    ("POST", STUDY, {**HUMAN_STUDY, "weight": -1}, "weight", "must be at least 0", "不能小于 0"),
    (
        "POST",
        STUDY,
        {**HUMAN_STUDY, "study_type": "Weird"},
        "study_type",
        "'Weird' is not an allowed value (allowed: Emergency, Normal)",
        "'Weird' 不是允许的取值（可选：Emergency、Normal）",
    ),
    ("POST", STUDY, {**HUMAN_STUDY, "views": []}, "views", "must have at least 1 item", "不能少于 1 项"),
    (
        "POST",
        STUDY,
        {**HUMAN_STUDY, "views": [{"procedure_id": ""}]},
        "views[0].view_id",
        "is required",
        "缺少必填字段",
    ),
    (
        "POST",
        STUDY,
        {**HUMAN_STUDY, "views": [{"view_id": 3}]},
        "views[0].view_id",
        "expected string, got integer",
        "应为字符串，实际为整数",
    ),
    ("POST", STUDY, ["not", "an", "object"], "body", "expected object, got array", "应为对象，实际为数组"),
    (
        "POST",
        "/dr/api/v1/auth/protocol/apr/View_DX_T_A_HD_OBL_01",
        {"kV": 57, "volts": 1},
        "volts",
        "is not an accepted field",
        "不是可接受的字段",
    ),
    (
        "POST",
        "/dr/api/v1/auth/protocol/apr/View_DX_T_A_HD_OBL_01",
        {"kV": "57"},
        "kV",
        "expected float or null, got string",
        "应为浮点数或空值，实际为字符串",
    ),
]


@pytest.fixture(scope="module")
def refusing_client(
    template_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient[Litestar]]:
    """One app for all the refusals below: none of them gets as far as writing anything."""
    data = tmp_path_factory.mktemp("refusals") / "data"
    shutil.copytree(template_data_dir, data)
    settings = Settings.load(environ={}, overrides={"data_dir": str(data), "host": "127.0.0.1", "log_level": "WARNING"})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        c.headers["Authorization"] = f"Bearer {login(c, 'admin')}"
        yield c


@pytest.mark.parametrize("method, path, body, field, en, zh", KINDS, ids=[f"{k[3]}:{k[4][:24]}" for k in KINDS])
def test_validation_messages_in_both_languages(refusing_client, method, path, body, field, en, zh):
    for language, expected in (("en_US", f"Invalid parameter: '{field}' {en}"), ("zh_CN", f"参数无效：{field}：{zh}")):
        r = refusing_client.request(method, path, json=body, headers={"Language": language})
        reply = assert_error(r, 400, ErrorCode.INVALID_PARAMETER, field)
        assert reply["description"] == expected


@pytest.mark.parametrize(
    "raw, en, zh",
    [
        (
            b"{not json",
            "Malformed request body: not valid JSON (object keys must be strings at byte 1)",
            "请求体格式错误：不是有效的 JSON（第 1 字节处出错）",
        ),
        (b'{"username": "a"', "Malformed request body: the JSON ends too early", "请求体格式错误：JSON 数据不完整"),
    ],
)
def test_undecodable_body_is_explained_in_both_languages(client, raw, en, zh):
    for language, expected in (("en_US", en), ("zh_CN", zh)):
        headers = {"Content-Type": "application/json", "Language": language}
        r = client.post("/dr/api/v1/pub/login", content=raw, headers=headers)
        assert assert_error(r, 400, ErrorCode.MALFORMED_BODY)["description"] == expected


@pytest.mark.parametrize(
    "header, value", [("Language", "fr_FR"), ("Language", "english"), ("Product", "DROC"), ("Product", "cat")]
)
def test_bad_language_and_product_headers(client, auth_headers, header, value):
    headers = auth_headers("admin") | {header: value}
    r = client.get("/dr/api/v1/auth/resource/options", headers=headers)
    assert_error(r, 400, ErrorCode.INVALID_HEADER, header)


def test_request_id_is_echoed(client):
    r = client.get("/dr/api/v1/pub/language", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert len(client.get("/dr/api/v1/pub/language").headers["x-request-id"]) == 32


def test_openapi_schema_is_served(client):
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/dr/api/v1/pub/login" in paths and "/api/v1/pub/login" in paths


def test_every_auth_route_has_a_permission_guard(app):
    """Security audit: no /auth/ handler can be reached without token and role checks."""
    checked = 0
    for route in app.routes:
        if "/auth/" not in route.path:
            continue
        for handler in route.route_handlers:  # type: ignore[attr-defined]
            if handler.http_methods == {"OPTIONS"}:  # Litestar's automatic CORS preflight answer
                continue
            guards = handler.resolve_guards()
            assert any(hasattr(getattr(g, "func", g), "permission") for g in guards), (
                f"{route.path} has no requires() guard"
            )
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize("raw", [b"{", b"[1,2", b"", b"\xff\xfe", b"nul"])
def test_undecodable_or_absent_body(client, raw):
    r = client.post("/dr/api/v1/pub/login", content=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, ErrorCode.MALFORMED_BODY)
