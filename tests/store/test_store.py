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
    db = Database(tmp_path / "t.duckdb")
    writer_threads: set[str] = set()
    try:
        db.write_sync(lambda c: c.execute("CREATE TABLE n (v INTEGER)"))

        def add(c, i):
            writer_threads.add(threading.current_thread().name)
            c.execute("INSERT INTO n VALUES (?)", [i])

        async def main():
            await asyncio.gather(*(db.write(lambda c, i=i: add(c, i)) for i in range(200)))
            return await asyncio.gather(
                *(db.read(lambda c: c.execute("SELECT count(*), sum(v) FROM n").fetchone()) for _ in range(20))
            )

        results = asyncio.run(main())
        assert all(r == (200, sum(range(200))) for r in results)
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
