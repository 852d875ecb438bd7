"""A password change ends the sessions issued before it; service/admin see the process health
(loop lag, users on the default password); the default password is warned about at start."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from dros.errors import ErrorCode
from tests.conftest import login
from tests.runtime.test_priority import MAY_RUN_REALTIME

PW = "/dr/api/v1/auth/settings/password"

HEALTH = "/dr/api/v1/auth/service/health"
OPTIONS = "/dr/api/v1/auth/resource/options"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _next_second() -> None:
    # tokens carry whole seconds: make "issued before the change" unambiguous
    time.sleep(1.05 - (time.time() % 1.0))


def test_password_change_ends_earlier_sessions_but_not_the_new_one(client):
    console_a = login(client, "tech")
    console_b = login(client, "tech")
    other_user = login(client, "mgr")
    guest = client.get("/dr/api/v1/pub/software_info").json()["data"]["guest"]
    _next_second()
    r = client.post(
        PW,
        headers=_bearer(console_a),
        json={"old_password": "123456", "new_password": "n3w-secret", "confirm_new_password": "n3w-secret"},
    )
    assert r.status_code == 200, r.text
    fresh = login(client, "tech", "n3w-secret")  # right after the change, usually within the same second
    for stale in (console_a, console_b):
        r = client.get(OPTIONS, headers=_bearer(stale))
        assert r.status_code == 401 and r.json()["code"] == ErrorCode.TOKEN_INVALID.info.code
        assert "password change" in r.json()["description"]
    assert client.get(OPTIONS, headers=_bearer(fresh)).status_code == 200
    # other users' and the guest's sessions are untouched
    assert client.get(OPTIONS, headers=_bearer(other_user)).status_code == 200
    assert client.get(OPTIONS, headers=_bearer(guest)).status_code == 200


def test_a_token_issued_in_the_second_of_the_change_stays_valid(client, app):
    token = login(client, "admin")
    r = client.post(
        PW,
        headers=_bearer(token),
        json={"old_password": "123456", "new_password": "same-second", "confirm_new_password": "same-second"},
    )
    assert r.status_code == 200
    changed = app.state.users.by_name("admin").password_changed_at
    lifetime = app.state.settings.auth.token_lifetime_s
    same_second, _ = app.state.tokens.issue(1, "admin", lifetime)
    issued = app.state.tokens.decode(same_second).issued_at(lifetime)
    assert issued >= changed
    assert client.get(OPTIONS, headers=_bearer(same_second)).status_code == 200
    # a token issued one second before the change is refused
    key = (app.state.settings.data_path / "secrets" / "jwt.key").read_bytes()
    before = jwt.encode({"exp": changed - 1 + lifetime, "id": 1, "name": "admin"}, key, algorithm="HS256")
    assert client.get(OPTIONS, headers=_bearer(before)).status_code == 401


@pytest.mark.parametrize(("user", "status"), [("service", 200), ("admin", 200), ("mgr", 403), ("tech", 403)])
def test_health_is_for_service_and_admin(client, auth_headers, user, status):
    assert client.get(HEALTH, headers=auth_headers(user)).status_code == status


def test_health_needs_a_token(client):
    assert client.get(HEALTH).status_code == 401


def test_health_reports_loop_lag_and_default_passwords(client, auth_headers):
    time.sleep(0.1)  # let the probe wake a few times
    data = client.get(HEALTH, headers=auth_headers("service")).json()["data"]
    lag = data["loop_lag"]
    assert lag["running"] and lag["samples"] > 0 and lag["interval_ms"] == 5.0
    assert {"worst_ms", "recent_p99_ms", "recent_worst_ms", "stalls_over_warn"} <= set(lag)
    assert data["default_password_users"] == ["service", "admin", "mgr", "tech"]
    assert data["pid"] > 0 and data["uptime_s"] >= 0
    assert data["loop_scheduling"] == ("fifo 1" if MAY_RUN_REALTIME else "normal")
    r = client.post(
        PW,
        headers=auth_headers("mgr"),
        json={"old_password": "123456", "new_password": "mgr-own-pw", "confirm_new_password": "mgr-own-pw"},
    )
    assert r.status_code == 200
    data = client.get(HEALTH, headers=auth_headers("service")).json()["data"]
    assert data["default_password_users"] == ["service", "admin", "tech"]


def test_loop_lag_reset_starts_the_figures_afresh(client, auth_headers):
    time.sleep(0.05)
    before = client.post("/dr/api/v1/auth/service/loop_lag/reset", headers=auth_headers("admin")).json()["data"]
    assert before["samples"] > 0
    after = client.get(HEALTH, headers=auth_headers("admin")).json()["data"]["loop_lag"]
    assert after["samples"] < before["samples"] + 100


def test_software_info_names_default_password_users_to_service_only(client, auth_headers):
    info = client.get("/dr/api/v1/pub/software_info", headers=auth_headers("service")).json()["data"]
    assert info["default_password_users"] == ["service", "admin", "mgr", "tech"]
    for headers in ({}, auth_headers("admin"), auth_headers("tech"), {"Authorization": "Bearer nonsense"}):
        r = client.get("/dr/api/v1/pub/software_info", headers=headers)
        assert r.status_code == 200 and "default_password_users" not in r.json()["data"]


def test_start_warns_while_users_have_the_default_password(settings, make_app):
    from litestar.testing import TestClient

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    # the app's logging set-up replaces root handlers, so listen on the service's own logger
    collect = Collect()
    logging.getLogger("dros").addHandler(collect)
    try:
        with TestClient(make_app(settings)):
            pass
    finally:
        logging.getLogger("dros").removeHandler(collect)
    warnings = [m for m in collect.messages if "default password" in m]
    assert warnings and "service, admin, mgr, tech" in warnings[0]


def test_the_login_throttle_is_built_with_the_configured_bound(data_dir, make_app):
    from litestar.testing import TestClient

    from dros.settings import Settings

    s = Settings.load(
        environ={"DROS_AUTH_LOGIN_THROTTLE_MAX_ENTRIES": "123"},
        overrides={"data_dir": str(data_dir), "log_level": "WARNING"},
    )
    app = make_app(s)
    with TestClient(app):
        assert app.state.throttle.max_entries == 123
