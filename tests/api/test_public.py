"""pub/*: software_info, trans, language, users, login, quota."""

from __future__ import annotations

import re
import time

import jwt
import pytest

from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error


def test_software_info(client):
    data = client.get("/dr/api/v1/pub/software_info").json()["data"]
    assert set(data) == {
        "FPD",
        "GEN",
        "current_locale",
        "default_locale",
        "guest",
        "language",
        "product",
        "server",
        "sn",
    }
    assert data["language"] == ["en", "zh"]
    assert data["product"] == "DROS"
    assert data["current_locale"] == data["default_locale"] == "en_US"
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{8}){3}", data["sn"])
    assert set(data["server"]) == {"auth", "dcmtk", "imgProc", "protocol", "resource", "study", "task"}
    for entry in data["server"].values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", entry["build"])
        assert entry["desc"] and entry["version"]
        assert all(re.fullmatch(r"[0-9a-f]{8}\[[a-z_]+\]", s) for s in entry["submodule"])
    from dros import _core

    assert _core.__version__ == data["server"]["imgProc"]["version"]
    assert "release" in data["server"]["imgProc"]["desc"]
    header = jwt.get_unverified_header(data["guest"])
    claims = jwt.decode(data["guest"], options={"verify_signature": False})
    assert header["alg"] == "HS256" and set(claims) == {"exp", "id", "name"}
    assert claims["name"] == "guest" and claims["id"] == 2 and claims["exp"] > time.time()


def test_guest_token_reaches_only_guest_things(client):
    guest = client.get("/dr/api/v1/pub/software_info").json()["data"]["guest"]
    h = {"Authorization": f"Bearer {guest}"}
    assert client.get("/dr/api/v1/auth/resource/options", headers=h).status_code == 200
    r = client.post(
        "/dr/api/v1/auth/settings/password",
        headers=h,
        json={"old_password": "x", "new_password": "yyyyyy", "confirm_new_password": "yyyyyy"},
    )
    assert_error(r, 403, ErrorCode.FORBIDDEN)
    assert_error(
        client.post("/dr/api/v1/auth/manage/language", headers=h, json={"lang": "zh_CN"}), 403, ErrorCode.FORBIDDEN
    )


@pytest.mark.parametrize("locale, filename, marker", [("zh_CN", "zh.js", "患者管理"), ("en_US", "en.js", "Patient")])
def test_translation_files(client, locale, filename, marker):
    r = client.get(f"/dr/api/v1/pub/trans/{locale}/{filename}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert r.text.lstrip().startswith("export default {") and marker in r.text


@pytest.mark.parametrize("path", ["zh_CN/en.js", "fr_FR/fr.js", "en_US/..%2F..%2Fapp.py", "zh_CN/%2E%2E"])
def test_translation_unknown_or_traversal(client, path):
    r = client.get(f"/dr/api/v1/pub/trans/{path}")
    assert r.status_code == 404 and r.json()["code"] in (
        ErrorCode.NOT_FOUND.info.code,
        ErrorCode.ROUTE_NOT_FOUND.info.code,
    )


def test_language_list(client):
    assert client.get("/api/v1/pub/language").json()["data"] == [
        {"language": "en_US", "display": "English"},
        {"language": "zh_CN", "display": "简体中文"},
    ]


def test_users_list_matches_seed(client):
    assert client.get("/dr/api/v1/pub/users").json()["data"] == ["service", "admin", "mgr", "tech"]


@pytest.mark.parametrize("user, uid", [("admin", 1), ("service", 3), ("mgr", 4), ("tech", 5)])
def test_login(client, user, uid):
    r = client.post("/dr/api/v1/pub/login", json={"username": user, "password": "123456"})
    data = r.json()["data"]
    assert set(data) == {"token", "expire", "uid", "name", "avatar"}
    claims = jwt.decode(data["token"], options={"verify_signature": False})
    assert claims == {"exp": data["expire"], "id": uid, "name": user}
    assert data["uid"] == uid and data["name"] == user and data["avatar"] == ""
    assert abs(data["expire"] - time.time() - 12 * 3600) < 60


@pytest.mark.parametrize("user, password", [("admin", "wrong"), ("nobody", "123456"), ("guest", "123456")])
def test_login_refused(client, user, password):
    assert_error(
        client.post("/dr/api/v1/pub/login", json={"username": user, "password": password}), 401, ErrorCode.LOGIN_FAILED
    )


def test_failed_logins_are_throttled_per_user_and_address(client):
    for _ in range(5):
        assert client.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "bad"}).status_code == 401
    r = client.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"})
    body = assert_error(r, 429, ErrorCode.LOGIN_THROTTLED, "username")
    assert int(r.headers["retry-after"]) > 0 and body["data"]["retry_after"] > 0
    # another user from the same address is not locked out
    assert client.post("/dr/api/v1/pub/login", json={"username": "mgr", "password": "123456"}).status_code == 200


def test_quota_reports_no_cloud(client):
    assert client.get("/dr/api/v1/pub/quota").json()["data"] == {
        "total": 0,
        "available": 0,
        "online": False,
        "overdue": False,
    }
