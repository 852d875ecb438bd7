"""Errors that come from below our own code — the Rust core, DuckDB, the file system — answer with their
table entry: the client's bad image → 0x010001 naming the field, a full disk → 0x060001 (507), a write
conflict → 0x030002 (409), anything else → 0x0F0001 (500) with the request id, logged with its traceback.

The full-disk cases run on a real, tiny tmpfs mounted as the data directory (the suite runs as root);
the core's ENOSPC also comes from a real write, to /dev/full."""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from litestar import Litestar, Request, post
from litestar.params import FromQuery
from litestar.testing import TestClient

from dros import _core, imaging
from dros.app import create_app
from dros.envelope import Envelope, ok
from dros.errors import ErrorCode, client_input
from dros.exception_handlers import classify, is_storage_full
from dros.settings import Settings
from tests.api.test_envelope import assert_error
from tests.studies import expose, images_of, register

# --- routes that call the layers below the way a handler does ------------------------------------


@post("/probe/frame", status_code=200)
async def probe_frame(request: Request[Any, Any, Any], rows: FromQuery[int], cols: FromQuery[int]) -> Envelope[Any]:
    """What an upload endpoint does with a client's raw frame."""
    raw = np.frombuffer(await request.body(), dtype=np.uint16).reshape(rows, cols)
    with client_input("frame"):
        await asyncio.to_thread(imaging.process, raw)
    return ok()


@post("/probe/own_frame", status_code=200)
async def probe_own_frame() -> Envelope[Any]:
    """The service hands the core a frame it built itself: a refusal is our bug, not the client's."""
    await asyncio.to_thread(imaging.process, np.zeros((4, 4), np.uint16))
    return ok()


@post("/probe/panic", status_code=200)
async def probe_panic() -> Envelope[Any]:
    await asyncio.to_thread(_core._force_panic)
    return ok()


@post("/probe/thumbnail_on_full_device", status_code=200)
async def probe_full_device() -> Envelope[Any]:
    pixels = np.zeros((64, 64), np.uint16)
    await asyncio.to_thread(_core.write_thumbnail, "/dev/full", pixels, 2048.0, 4096.0, 64)
    return ok()


@post("/probe/duplicate_setting", status_code=200)
async def probe_duplicate(request: Request[Any, Any, Any]) -> Envelope[Any]:
    def write(c: duckdb.DuckDBPyConnection) -> None:
        c.execute("INSERT INTO system_setting (key, value) VALUES ('probe', '1')")
        c.execute("INSERT INTO system_setting (key, value) VALUES ('probe', '2')")

    await request.app.state.db.write(write)
    return ok()


PROBES = [probe_frame, probe_own_frame, probe_panic, probe_full_device, probe_duplicate]


@pytest.fixture
def probe_client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    for handler in PROBES:
        app.register(handler)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def _internal_logged(caplog: pytest.LogCaptureFixture, request_id: str, exc_type: type[BaseException]) -> None:
    records = [r for r in caplog.records if r.name == "dros.errors" and request_id in r.getMessage()]
    assert records, "the internal error was not logged with its request id"
    assert records[-1].exc_info and isinstance(records[-1].exc_info[1], exc_type), "no traceback in the log"


# --- the core --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, description",
    [
        (
            "en_US",
            "Invalid parameter: 'frame' the image data was refused: raw frame 4x4 is too small: each side must be at least 64 pixels",
        ),
        ("zh_CN", "参数无效：frame：图像数据无效"),
    ],
)
def test_bad_image_from_the_client_is_a_400_naming_the_field(probe_client, language, description):
    r = probe_client.post("/probe/frame?rows=4&cols=4", content=bytes(32), headers={"Language": language})
    body = assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "frame")
    assert body["description"] == description
    assert "too small" in body["data"]["detail"]  # the core's own words, for the bug report


def test_shape_checks_before_the_core_are_the_clients_fault_too(probe_client):
    # an empty upload: refused by imaging's Python-side check (a plain ValueError) before Rust runs
    r = probe_client.post("/probe/frame?rows=0&cols=0", content=b"")
    body = assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "frame")
    assert body["data"]["detail"].startswith("raw frame is empty")


def test_core_refusing_the_services_own_data_is_internal(probe_client, caplog):
    with caplog.at_level(logging.ERROR, logger="dros.errors"):
        r = probe_client.post("/probe/own_frame")
    body = assert_error(r, 500, ErrorCode.INTERNAL)
    assert body["data"]["request_id"] == r.headers["x-request-id"]
    _internal_logged(caplog, body["data"]["request_id"], _core.CoreValueError)


def test_core_panic_is_a_500_with_request_id_and_traceback(probe_client, caplog):
    with caplog.at_level(logging.ERROR, logger="dros.errors"):
        r = probe_client.post("/probe/panic", headers={"X-Request-ID": "panic-1"})
    body = assert_error(r, 500, ErrorCode.INTERNAL)
    assert body["data"] == {"request_id": "panic-1"}
    _internal_logged(caplog, "panic-1", _core.CorePanicError)


def test_core_io_error_carries_errno_and_a_full_device_is_507(probe_client):
    with pytest.raises(_core.CoreIOError) as info:
        _core.write_thumbnail("/dev/full", np.zeros((64, 64), np.uint16), 2048.0, 4096.0, 64)
    assert info.value.errno == errno.ENOSPC
    r = probe_client.post("/probe/thumbnail_on_full_device", headers={"Language": "zh_CN"})
    body = assert_error(r, 507, ErrorCode.STORAGE_FULL)
    assert body["description"] == "磁盘空间不足：数据盘已满"
    assert body["solution"] == "请清空回收站或归档检查。"


# --- DuckDB ----------------------------------------------------------------------------------------


def test_duckdb_constraint_violation_is_a_conflict(probe_client, caplog):
    with caplog.at_level(logging.WARNING, logger="dros.errors"):
        r = probe_client.post("/probe/duplicate_setting")
    body = assert_error(r, 409, ErrorCode.CONFLICT)
    _internal_logged(caplog, body["data"]["request_id"], duckdb.ConstraintException)
    # the write was rolled back as a whole
    assert probe_client.app.state.db.read_sync(
        lambda c: c.execute("SELECT count(*) FROM system_setting WHERE key = 'probe'").fetchone()
    ) == (0,)


# --- a real full disk ------------------------------------------------------------------------------


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); ENOSPC is covered via /dev/full above")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MiB file system (the data dir template takes ≈ 10 MiB)."""
    with tmpfs(tmp_path / "disk", "48m") as disk:
        yield disk


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte; the file is returned so it can be removed again."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    fh.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


@pytest.fixture
def full_disk_client(small_disk: Path, template_data_dir: Path) -> Iterator[tuple[TestClient[Litestar], Path]]:
    data = small_disk / "data"
    shutil.copytree(template_data_dir, data)
    settings = Settings.load(environ={}, overrides={"data_dir": str(data), "host": "127.0.0.1", "log_level": "WARNING"})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        yield c, small_disk


def _login(c: TestClient[Litestar]) -> dict[str, str]:
    token = c.post("/dr/api/v1/pub/login", json={"username": "admin", "password": "123456"}).json()["data"]["token"]
    return {"Authorization": f"Bearer {token}", "Language": "en_US"}


def test_database_write_on_a_full_disk_is_507_and_the_service_recovers(full_disk_client):
    c, disk = full_disk_client
    h = _login(c)
    register(c, h)  # the database works before
    filler = fill(disk)
    from tests.studies import HUMAN

    r = c.post("/dr/api/v1/auth/study", headers=h, json=HUMAN)
    body = assert_error(r, 507, ErrorCode.STORAGE_FULL)
    assert body["description"] == "Not enough disk space: no space left on the data disk"
    filler.unlink()
    register(c, h)  # space freed: writes work again without a restart


def test_file_copy_on_a_full_disk_is_507(full_disk_client):
    c, disk = full_disk_client
    h = _login(c)
    s = register(c, h)
    img = images_of(s)[0]
    expose(c.app, s, img, size=512)
    fill(disk)
    r = c.post("/dr/api/v1/auth/image/save_as", headers=h, json={"instance_uid": img["sop_instance_uid"]})
    assert_error(r, 507, ErrorCode.STORAGE_FULL)


def test_duckdb_checkpoint_failure_on_a_full_disk_counts_as_storage_full(tmp_path):
    """DuckDB's worst case: the commit is durable but the checkpoint after it finds no space, and the
    database instance is invalidated (FatalException) — still reported as a full disk, not as 500."""
    with tmpfs(tmp_path / "tiny", "4m") as disk:
        caught = _fill_duckdb(disk / "x.duckdb")
    assert caught is not None, "the 4 MiB disk never filled"
    assert isinstance(caught, duckdb.FatalException), repr(caught)
    assert is_storage_full(caught), repr(caught)
    mapped = classify(caught)
    assert mapped is not None and mapped.code is ErrorCode.STORAGE_FULL
    assert mapped.describe("en_US").endswith("free space, then restart the service")
    assert mapped.describe("zh_CN") == "磁盘空间不足：数据盘已满，数据库已停止：请释放空间后重启服务"


def _fill_duckdb(path: Path) -> duckdb.Error | None:
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE t (a VARCHAR)")
    # every commit checkpoints, so the WAL stays small and it is the checkpoint that finds the disk full
    conn.execute("SET checkpoint_threshold = '100KB'")
    caught: duckdb.Error | None = None
    for _ in range(200):
        try:
            conn.execute("INSERT INTO t SELECT md5(random()::VARCHAR) || md5(random()::VARCHAR) FROM range(5000)")
        except duckdb.Error as exc:
            caught = exc
            break
    try:
        conn.close()
    except duckdb.Error:
        pass  # an invalidated instance may refuse even this
    return caught


# --- the rules themselves, for errors a test machine cannot produce for real -------------------------


def _raised_from(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "exc, full",
    [
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),  # a quota counts as a full disk
        (_raised_from(OSError(errno.ENOSPC, "No space left on device")), True),  # through a wrapper
        (ExceptionGroup("task group", [ValueError("x"), OSError(errno.ENOSPC, "full")]), True),
        (duckdb.IOException('Could not write file "x.tmp": No space left on device'), True),  # a spill
        (OSError(errno.EACCES, "Permission denied"), False),
        (duckdb.IOException("Cannot open file: Permission denied"), False),
    ],
)
def test_storage_full_rule(exc: BaseException, full: bool) -> None:
    assert is_storage_full(exc) is full
