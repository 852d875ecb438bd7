"""Fixtures shared by every test: settings on a tmp data dir, the app and its test client,
tokens and headers per user, and the real `dros serve` on a free port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.app import create_app
from dros.settings import Settings
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "123456"


@pytest.fixture(scope="session")
def template_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir after a first start (migrations, default users with argon2 hashes, secret, serial).
    Hashing the default passwords dominates start-up, so each test copies this instead."""
    from dros.auth.tokens import load_or_create_secret
    from dros.lifespan import open_store

    path = tmp_path_factory.mktemp("template") / "data"
    settings = Settings.load(environ={}, overrides={"data_dir": str(path)})
    open_store(settings).close()
    load_or_create_secret(settings.data_path)
    return path


@pytest.fixture
def data_dir(tmp_path: Path, template_data_dir: Path) -> Path:
    """A fresh, already-initialised data dir per test (see `empty_data_dir` for a first start)."""
    target = tmp_path / "data"
    shutil.copytree(template_data_dir, target)
    return target


@pytest.fixture
def empty_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "empty-data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    # dicom.scp_port 0: no DICOM listener on 0.0.0.0:11112 in tests that do not need one (tests/pacs sets its own)
    return Settings.load(
        environ={},
        overrides={"data_dir": str(data_dir), "host": "127.0.0.1", "log_level": "WARNING", "dicom": {"scp_port": 0}},
    )


@pytest.fixture
def make_app() -> Callable[[Settings], Litestar]:
    return create_app


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def login(client: TestClient[Litestar] | httpx.Client, user: str, password: str = PASSWORD) -> str:
    r = client.post("/dr/api/v1/pub/login", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["data"]["token"]


@pytest.fixture
def token(client: TestClient[Litestar]) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def get(user: str = "admin") -> str:
        if user not in cache:
            if user == "guest":
                cache[user] = client.get("/dr/api/v1/pub/software_info").json()["data"]["guest"]
            else:
                cache[user] = login(client, user)
        return cache[user]

    return get


@pytest.fixture
def auth_headers(token: Callable[[str], str]) -> Callable[..., dict[str, str]]:
    def headers(user: str = "admin", product: str = "DROS", language: str = "en_US") -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token(user)}",
            "Product": product,
            "Language": language,
            "Source": "Electron",
        }

    return headers


class LiveServer:
    def __init__(self, base_url: str, data_dir: Path, proc: subprocess.Popen[bytes], log: Path | None = None) -> None:
        self.base_url = base_url
        self.data_dir = data_dir
        self.proc = proc
        self.log = log  # stdout + stderr of dros serve (a file: an unread pipe would fill and block the server)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)


def start_server(data_dir: Path, port: int | None = None, extra_env: dict[str, str] | None = None) -> LiveServer:
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROS_")}
    env.update(extra_env or {})
    env["DROS_LOG_LEVEL"] = "WARNING"
    # each server gets its own embedded broker on free ports (never the machine's 1883/9001)
    env.setdefault("DROS_MQTT_URL", f"mqtt://127.0.0.1:{free_port()}")
    env.setdefault("DROS_MQTT_WS_PORT", str(free_port()))
    env.setdefault("DROS_DICOM_SCP_PORT", "0")  # no DICOM listener unless a test asks for one
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"dros-serve-{port}.log"
    with log.open("wb") as log_fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dros",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            env=env,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            # its own process group: stop_server ends the supervisor, its worker and anything they started
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dros serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/dr/api/v1/pub/language", timeout=1).status_code == 200:
                return LiveServer(base, data_dir, proc, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    _kill_group(proc.pid, signal.SIGKILL)
    proc.wait()
    raise RuntimeError("dros serve did not answer within 60 s")


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, found in /proc: a process orphaned by its
    parent keeps its group, so this finds leftovers that `Popen.wait` never sees."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _wait_group_gone(pgid: int, deadline: float) -> bool:
    while group_members(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def stop_server(server: LiveServer, timeout: float = 10.0) -> float:
    """SIGTERM to the server's whole process group, SIGKILL to what is left after `timeout`;
    returns when no process of the group is left, with the seconds the graceful stop took
    (`timeout` or more when it had to kill)."""
    pgid = server.proc.pid  # start_new_session: the supervisor leads its own group
    started = time.monotonic()
    _kill_group(pgid, signal.SIGTERM)
    deadline = started + timeout
    try:
        server.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    if server.proc.poll() is None or not _wait_group_gone(pgid, deadline):
        _kill_group(pgid, signal.SIGKILL)
        server.proc.wait()
        if not _wait_group_gone(pgid, time.monotonic() + 10):
            raise RuntimeError(f"processes of group {pgid} survive SIGKILL: {group_members(pgid)}")
        return max(timeout, time.monotonic() - started)
    return time.monotonic() - started


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "live-data")
    try:
        yield server
    finally:
        stop_server(server)
