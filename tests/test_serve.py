"""The real `dros serve` (granian) on free loopback ports."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.conftest import start_server, stop_server
from tests.ports import free_port


def test_live_server_answers_the_envelope(live_server):
    with live_server.client() as c:
        r = c.get("/dr/api/v1/pub/software_info")
        assert r.status_code == 200 and r.json()["code"] == "0x000000"
        tok = c.post("/api/v1/pub/login", json={"username": "admin", "password": "123456"}).json()["data"]["token"]
        r = c.get("/dr/api/v1/auth/resource/options", headers={"Authorization": f"Bearer {tok}", "Product": "VETDROS"})
        assert [o["value"] for o in r.json()["data"]["option"]][-2:] == ["CM", "SF"]
        r = c.post("/dr/api/v1/pub/login", content=b"{", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "0x010002"
        assert c.get("/nowhere").json()["code"] == "0x010004"
    assert (live_server.data_dir / "dros.duckdb").exists()


def test_two_independent_instances(tmp_path):
    a = start_server(tmp_path / "a")
    b = start_server(tmp_path / "b", extra_env={"DROS_PRODUCT": "VETDROS"})
    try:
        sa = httpx.get(f"{a.base_url}/dr/api/v1/pub/software_info").json()["data"]
        sb = httpx.get(f"{b.base_url}/dr/api/v1/pub/software_info").json()["data"]
        assert sa["sn"] != sb["sn"]
        assert sa["product"] == "DROS" and sb["product"] == "VETDROS"
    finally:
        stop_server(a)
        stop_server(b)


def test_environment_equivalents(tmp_path):
    port = free_port()
    server = start_server(tmp_path / "env", port=port)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/pub/language").status_code == 200
    finally:
        stop_server(server)


def test_bad_setting_exits_with_a_message(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "dros", "serve", "--port", "70000", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "port" in r.stderr
