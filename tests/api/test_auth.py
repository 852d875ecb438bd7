"""Token checks on /auth/ endpoints: alg none, wrong signature, unknown user, expiry, scheme."""

from __future__ import annotations

import base64
import json
import os
import stat
import time

import jwt
import pytest

from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error

URL = "/dr/api/v1/auth/resource/options"


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _secret(settings) -> bytes:
    return (settings.data_path / "secrets" / "jwt.key").read_bytes()


def test_valid_token_passes(client, auth_headers):
    assert client.get(URL, headers=auth_headers("tech")).status_code == 200


def test_missing_token(client):
    assert_error(client.get(URL), 401, ErrorCode.UNAUTHENTICATED)


@pytest.mark.parametrize("value", ["Basic YWRtaW46MTIzNDU2", "Bearer", "Bearer    ", "token-without-scheme"])
def test_malformed_authorization_header(client, value):
    assert_error(client.get(URL, headers={"Authorization": value}), 401, ErrorCode.TOKEN_INVALID)


def test_alg_none_is_refused(client):
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'exp': int(time.time()) + 600, 'id': 1, 'name': 'admin'})}."
    assert_error(client.get(URL, headers={"Authorization": f"Bearer {forged}"}), 401, ErrorCode.TOKEN_INVALID)


def test_wrong_signature_is_refused(client):
    forged = jwt.encode({"exp": int(time.time()) + 600, "id": 1, "name": "admin"}, b"x" * 32, algorithm="HS256")
    assert_error(client.get(URL, headers={"Authorization": f"Bearer {forged}"}), 401, ErrorCode.TOKEN_INVALID)


def test_tampered_payload_is_refused(client, token):
    header, _, sig = token("tech").split(".")
    payload = _b64({"exp": int(time.time()) + 600, "id": 1, "name": "admin"})
    assert_error(
        client.get(URL, headers={"Authorization": f"Bearer {header}.{payload}.{sig}"}), 401, ErrorCode.TOKEN_INVALID
    )


@pytest.mark.parametrize(
    "claims",
    [
        {"id": 999, "name": "ghost"},  # unknown user
        {"id": 1, "name": "tech"},  # id and name of different users
        {"id": "1", "name": "admin"},  # wrong claim type
        {"name": "admin"},  # missing id
    ],
)
def test_unknown_user_or_bad_claims(client, settings, claims):
    forged = jwt.encode({"exp": int(time.time()) + 600, **claims}, _secret(settings), algorithm="HS256")
    assert_error(client.get(URL, headers={"Authorization": f"Bearer {forged}"}), 401, ErrorCode.TOKEN_INVALID)


def test_expired_token(client, settings):
    old = jwt.encode({"exp": int(time.time()) - 5, "id": 1, "name": "admin"}, _secret(settings), algorithm="HS256")
    assert_error(client.get(URL, headers={"Authorization": f"Bearer {old}"}), 401, ErrorCode.TOKEN_EXPIRED)


def test_token_without_exp_is_refused(client, settings):
    forever = jwt.encode({"id": 1, "name": "admin"}, _secret(settings), algorithm="HS256")
    assert_error(client.get(URL, headers={"Authorization": f"Bearer {forever}"}), 401, ErrorCode.TOKEN_INVALID)


def test_secret_is_owner_only(client, settings):
    key = settings.data_path / "secrets" / "jwt.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key.parent).st_mode) == 0o700
    assert len(key.read_bytes()) == 32


def test_tokens_of_another_installation_are_refused(tmp_path, make_app, settings, client, token):
    from litestar.testing import TestClient

    from dros.settings import Settings

    other = Settings.load(environ={}, overrides={"data_dir": str(tmp_path / "other"), "log_level": "WARNING"})
    with TestClient(make_app(other)) as c2:
        r = c2.get(URL, headers={"Authorization": f"Bearer {token('admin')}"})
    assert_error(r, 401, ErrorCode.TOKEN_INVALID)


def test_roles_matrix_is_enforced(client, auth_headers):
    from dros.auth.roles import ROLE_PERMISSIONS, Permission, Role

    assert Permission.CATALOG_EDIT not in ROLE_PERMISSIONS[Role.TECH]
    assert ROLE_PERMISSIONS[Role.GUEST] == {Permission.RESOURCE_READ, Permission.CATALOG_READ}
    assert set(ROLE_PERMISSIONS[Role.SERVICE]) == set(Permission)
    r = client.post("/dr/api/v1/auth/manage/language", headers=auth_headers("guest"), json={"lang": "zh_CN"})
    assert_error(r, 403, ErrorCode.FORBIDDEN)
