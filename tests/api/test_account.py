"""settings/password and manage/language."""

from __future__ import annotations

import pytest

from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error
from tests.conftest import login

PW = "/dr/api/v1/auth/settings/password"
LANG = "/api/v1/auth/manage/language"


def change(client, headers, old="123456", new="s3cret-pw", confirm=None):
    return client.post(
        PW, headers=headers, json={"old_password": old, "new_password": new, "confirm_new_password": confirm or new}
    )


def test_change_password(client, auth_headers):
    r = change(client, auth_headers("tech"))
    assert r.status_code == 200 and r.json()["data"] == {}
    assert client.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"}).status_code == 401
    assert login(client, "tech", "s3cret-pw")
    assert login(client, "admin")  # other users unaffected


@pytest.mark.parametrize(
    "kwargs, code, field",
    [
        ({"old": "nope"}, ErrorCode.WRONG_PASSWORD, "old_password"),
        ({"confirm": "different"}, ErrorCode.PASSWORD_MISMATCH, "confirm_new_password"),
        ({"new": "12345"}, ErrorCode.PASSWORD_POLICY, "new_password"),
        ({"new": "123456"}, ErrorCode.PASSWORD_POLICY, "new_password"),
        ({"new": " padded-pw "}, ErrorCode.PASSWORD_POLICY, "new_password"),
        ({"new": "tab\tinside"}, ErrorCode.PASSWORD_POLICY, "new_password"),
    ],
)
def test_password_change_refusals(client, auth_headers, kwargs, code, field):
    assert_error(change(client, auth_headers("mgr"), **kwargs), 400, code, field)
    assert login(client, "mgr")  # unchanged


@pytest.mark.parametrize(
    "body, field",
    [
        ({"new_password": "abcdefg", "confirm_new_password": "abcdefg"}, "old_password"),
        ({"old_password": {"x": 1}, "new_password": "abcdefg", "confirm_new_password": "abcdefg"}, "old_password"),
        ({"old_password": "123456", "new_password": 1234567, "confirm_new_password": "1234567"}, "new_password"),
        ({"old_password": "123456", "new_password": "abcdefg"}, "confirm_new_password"),
    ],
)
def test_password_bad_input(client, auth_headers, body, field):
    assert_error(client.post(PW, headers=auth_headers("tech"), json=body), 400, ErrorCode.INVALID_PARAMETER, field)


def test_password_needs_token(client):
    assert_error(client.post(PW, json={}), 401, ErrorCode.UNAUTHENTICATED)


def test_change_language(client, auth_headers):
    h = auth_headers("tech")
    del h["Language"]
    assert client.post(LANG, headers=h, json={"lang": "zh_CN"}).json()["description"] == "成功"
    info = client.get("/dr/api/v1/pub/software_info").json()
    assert info["data"]["current_locale"] == "zh_CN" and info["data"]["default_locale"] == "en_US"
    # the system language is the default for requests without a Language header
    assert info["description"] == "成功"
    assert client.get("/dr/api/v1/pub/users", headers={"Language": "en_US"}).json()["description"] == "Success"


@pytest.mark.parametrize("body, field", [({"lang": "fr_FR"}, "lang"), ({"lang": 1}, "lang"), ({}, "lang")])
def test_change_language_bad_input(client, auth_headers, body, field):
    assert_error(client.post(LANG, headers=auth_headers("admin"), json=body), 400, ErrorCode.INVALID_PARAMETER, field)
