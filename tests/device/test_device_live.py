"""The issue's "done means" on a real `dros serve`: with the embedded default the room works out of the box;
with an external generator (`device.generator = serial` on a `dros simulate generator` pty) a console raises
kV and reads it back, pulling the cable (killing the simulator) shows as `0x040001`, and it recovers when
the simulator is back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ..conftest import PASSWORD, start_server, stop_server

GEN = "DIOS/DEVICE/Generator"


@contextmanager
def generator_simulator(link: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dros", "simulate", "generator", "--profile", "instant", "--link", str(link)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None and json.loads(proc.stdout.readline())["url"] == str(link)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _headers(c: httpx.Client) -> dict[str, str]:
    r = c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['data']['token']}"}


def _kv(c: httpx.Client, h: dict[str, str]) -> httpx.Response:
    return c.post("/dr/api/v1/auth/device/get", json={"deviceUri": GEN, "reqName": "KV"}, headers=h)


def _until(fn: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not fn():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_embedded_simulators_out_of_the_box(data_dir: Path) -> None:
    server = start_server(data_dir, extra_env={"DROS_DEVICE_SIMULATOR_PROFILE": "instant"})
    try:
        with server.client() as c:
            h = _headers(c)
            for uri in (GEN, "DIOS/DEVICE/Detector"):
                r = c.post("/dr/api/v1/auth/device/open", json={"deviceUri": uri}, headers=h)
                assert r.status_code == 200, r.text
            assert json.loads(_kv(c, h).json()["data"])["KV"]["Value"] == "70.000000"
    finally:
        assert stop_server(server) < 10


def test_pulled_cable_is_reported_and_recovers(data_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "generator-tty"
    env = {
        "DROS_DEVICE_GENERATOR": "serial",
        "DROS_DEVICE_GENERATOR_URL": str(link),
        "DROS_DEVICE_LOOP_TIME_MS": "200",
        "DROS_DEVICE_REPLY_TIMEOUT_MS": "100",
        "DROS_DEVICE_DETECTOR": "none",
    }
    with generator_simulator(link) as sim:
        server = start_server(data_dir, extra_env=env)
        try:
            with server.client() as c:
                h = _headers(c)
                r = c.post("/dr/api/v1/auth/device/open", json={"deviceUri": GEN}, headers=h)
                assert r.status_code == 200, r.text
                body = {"deviceUri": GEN, "reqName": "IncParam_KV", "reqParam": ""}
                assert c.post("/dr/api/v1/auth/device/action", json=body, headers=h).status_code == 200
                assert json.loads(_kv(c, h).json()["data"])["KV"]["Value"] == "71.000000"
                os.killpg(sim.pid, signal.SIGKILL)  # pull the cable
                _until(lambda: _kv(c, h).status_code == 503)
                assert _kv(c, h).json()["code"] == "0x040001"
                with generator_simulator(link):
                    _until(lambda: _kv(c, h).status_code == 200)
                    # a fresh generator: its own power-on values, read live
                    assert json.loads(_kv(c, h).json()["data"])["KV"]["Value"] == "70.000000"
        finally:
            assert stop_server(server) < 10
