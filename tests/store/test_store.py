"""Migrations from an empty data dir, restarts that keep state, atomic writes, thread rule."""

from __future__ import annotations

import asyncio
import threading

import duckdb
import pytest
from litestar.testing import TestClient

from dros.settings import Settings
from dros.store.db import Database
from dros.store.migrate import available, migrate
from tests.conftest import login


def _settings(path) -> Settings:
    return Settings.load(environ={}, overrides={"data_dir": str(path), "log_level": "WARNING"})


def test_first_start_from_empty_data_dir(empty_data_dir, make_app):
    assert not empty_data_dir.exists()
    with TestClient(make_app(_settings(empty_data_dir))) as c:
        assert c.get("/dr/api/v1/pub/users").json()["data"] == ["service", "admin", "mgr", "tech"]
    db = Database(empty_data_dir / "dros.duckdb")
    try:
        versions = db.read_sync(
            lambda c: [r[0] for r in c.execute("SELECT version FROM schema_migration ORDER BY 1").fetchall()]
        )
        assert versions == [v for v, _, _ in available()]
        assert migrate(db) == []  # idempotent
    finally:
        db.close()


def test_restart_keeps_users_passwords_language_and_serial(data_dir, make_app):
    s = _settings(data_dir)
    with TestClient(make_app(s)) as c:
        tok = login(c, "tech")
        h = {"Authorization": f"Bearer {tok}"}
        assert (
            c.post(
                "/dr/api/v1/auth/settings/password",
                headers=h,
                json={
                    "old_password": "123456",
                    "new_password": "after-restart",
                    "confirm_new_password": "after-restart",
                },
            ).status_code
            == 200
        )
        # the change ends the sessions issued before it: continue with a token of the new password
        tok = login(c, "tech", "after-restart")
        h = {"Authorization": f"Bearer {tok}"}
        assert c.post("/dr/api/v1/auth/manage/language", headers=h, json={"lang": "zh_CN"}).status_code == 200
        sn = c.get("/dr/api/v1/pub/software_info").json()["data"]["sn"]
    with TestClient(make_app(s)) as c:
        info = c.get("/dr/api/v1/pub/software_info").json()
        assert info["data"]["sn"] == sn and info["data"]["current_locale"] == "zh_CN"
        assert login(c, "tech", "after-restart")
        assert c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"}).status_code == 401
        # a token issued before the restart is still valid: the secret persisted
        assert c.get("/dr/api/v1/auth/resource/options", headers={"Authorization": f"Bearer {tok}"}).status_code == 200


def test_write_is_atomic(tmp_path):
    db = Database(tmp_path / "t.duckdb")
    try:
        db.write_sync(lambda c: c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)"))

        def half(c):
            c.execute("INSERT INTO t VALUES (1)")
            c.execute("INSERT INTO t VALUES (1)")  # violates the key: the whole write rolls back

        with pytest.raises(duckdb.ConstraintException):
            db.write_sync(half)
        assert db.read_sync(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 0
    finally:
        db.close()


def test_writes_serialize_on_one_thread_and_reads_run_concurrently(tmp_path):
    db = Database(tmp_path / "t.duckdb", readers=4)
    writer_threads: set[str] = set()
    try:
        db.write_sync(lambda c: c.execute("CREATE TABLE n (v INTEGER)"))

        def add(c, i):
            writer_threads.add(threading.current_thread().name)
            c.execute("INSERT INTO n VALUES (?)", [i])

        # four reads that can only finish when all four are inside their read at the same time
        inside = threading.Barrier(4, timeout=10)
        reader_threads: set[str] = set()

        def meet_then_count(c):
            reader_threads.add(threading.current_thread().name)
            inside.wait()  # BrokenBarrierError if reads ran one after another
            return c.execute("SELECT count(*), sum(v) FROM n").fetchone()

        # a write held open: reads go on meanwhile and see the last committed state
        writing, release = threading.Event(), threading.Event()

        def slow_write(c):
            c.execute("INSERT INTO n VALUES (1000)")
            writing.set()
            assert release.wait(10)

        async def main():
            await asyncio.gather(*(db.write(lambda c, i=i: add(c, i)) for i in range(200)))
            together = await asyncio.gather(*(db.read(meet_then_count) for _ in range(4)))
            held = asyncio.ensure_future(db.write(slow_write))
            await asyncio.to_thread(writing.wait, 10)
            during = await asyncio.wait_for(db.read(lambda c: c.execute("SELECT count(*) FROM n").fetchone()), 5)
            release.set()
            await held
            after = await db.read(lambda c: c.execute("SELECT count(*) FROM n").fetchone())
            return together, during, after

        together, during, after = asyncio.run(main())
        assert together == [(200, sum(range(200)))] * 4
        assert len(reader_threads) == 4  # four reader threads, all inside a read at once
        assert during == (200,) and after == (201,)  # not blocked by the open write, nor seeing it
        assert len(writer_threads) == 1
    finally:
        db.close()


def test_broken_migration_leaves_previous_version(tmp_path, monkeypatch):
    import dros.store.migrate as m

    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "0001_create_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (mig / "0002_create_b.sql").write_text("CREATE TABLE b (x INTEGER); CREATE TABLE b (y INTEGER);")
    monkeypatch.setattr(m, "MIGRATIONS_DIR", mig)
    db = Database(tmp_path / "m.duckdb")
    try:
        with pytest.raises(duckdb.CatalogException):
            migrate(db)
        assert db.read_sync(m.applied) == {1}
        tables = {
            r[0]
            for r in db.read_sync(lambda c: c.execute("SELECT table_name FROM information_schema.tables").fetchall())
        }
        assert "a" in tables and "b" not in tables
    finally:
        db.close()
