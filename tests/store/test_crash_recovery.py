"""SIGKILL between moving files and committing rows: the next start repairs, nothing is lost and
nothing is orphaned on disk."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from litestar.testing import TestClient

from dros.domain.study import repo
from tests.studies import expose, images_of, register


def run_child(data_dir, operation, study_id):
    proc = subprocess.run(
        [sys.executable, "-m", "tests.store.crash_child", str(data_dir), operation, study_id],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _files(data_dir):
    return sorted(
        p.relative_to(data_dir).as_posix() for p in (data_dir / "studies").rglob("*") if p.is_file()
    ) + sorted(p.relative_to(data_dir).as_posix() for p in (data_dir / "recycle_bin").rglob("*") if p.is_file())


@pytest.fixture
def exposed_study(make_app, settings):
    with TestClient(make_app(settings)) as c:
        h = {
            "Authorization": f"Bearer {c.post('/dr/api/v1/pub/login', json={'username': 'admin', 'password': '123456'}).json()['data']['token']}"
        }
        s = register(c, h)
        for img in images_of(s)[:2]:
            expose(c.app, s, img)
        keep = register(c, h)
        # the study as it stands before any crash: what every repair must give back exactly
        s = c.get(f"/dr/api/v1/auth/study/{s['study_id']}", headers=h).json()["data"]
    return s, keep


def delete_to_bin(make_app, settings, study_id):
    c, h = reopen(make_app, settings)
    try:
        assert c.request("DELETE", "/dr/api/v1/auth/study", headers=h, json=[study_id]).status_code == 200
    finally:
        c.__exit__(None, None, None)


def reopen(make_app, settings):
    c = TestClient(make_app(settings))
    c.__enter__()
    h = {
        "Authorization": f"Bearer {c.post('/dr/api/v1/pub/login', json={'username': 'admin', 'password': '123456'}).json()['data']['token']}"
    }
    return c, h


def test_killed_after_moving_files_before_commit_of_delete(make_app, settings, exposed_study):
    s, _keep = exposed_study
    data = settings.data_path
    before = _files(data)
    run_child(data, "delete", s["study_id"])
    # the crash left the files in the bin while the row still says live
    assert any(f.startswith(f"recycle_bin/{s['study_id']}/") for f in _files(data))
    c, h = reopen(make_app, settings)
    try:
        assert _files(data) == before  # repaired: files back beside their live rows
        assert c.get(f"/dr/api/v1/auth/study/{s['study_id']}", headers=h).json()["data"] == s
        assert c.request("DELETE", "/dr/api/v1/auth/study", headers=h, json=[s["study_id"]]).status_code == 200
        assert all(f.startswith(f"recycle_bin/{s['study_id']}/") for f in _files(data))
    finally:
        c.__exit__(None, None, None)


def test_killed_after_moving_files_before_commit_of_restore(make_app, settings, exposed_study):
    s, _ = exposed_study
    data = settings.data_path
    delete_to_bin(make_app, settings, s["study_id"])
    in_bin = _files(data)
    run_child(data, "restore", s["study_id"])
    c, h = reopen(make_app, settings)
    try:
        assert _files(data) == in_bin  # still in the bin, as the rows say
        ids = [x["study_id"] for x in c.get("/dr/api/v1/auth/recycle_bin/study/", headers=h).json()["data"]["studies"]]
        assert ids == [s["study_id"]]
        assert c.get(f"/dr/api/v1/auth/recycle_bin/study/{s['study_id']}", headers=h).json()["data"] == s
    finally:
        c.__exit__(None, None, None)


def test_killed_after_commit_of_purge_before_removing_files(make_app, settings, exposed_study):
    s, keep = exposed_study
    data = settings.data_path
    delete_to_bin(make_app, settings, s["study_id"])
    run_child(data, "purge", s["study_id"])
    assert (data / "recycle_bin" / s["study_id"]).exists()  # rows gone, files left behind
    c, h = reopen(make_app, settings)
    try:
        # the journaled removal is finished: the user asked for it, so nothing goes to quarantine
        assert not (data / "recycle_bin" / s["study_id"]).exists()
        assert _files(data) == []
        db = c.app.state.db
        assert db.read_sync(repo.list_quarantine) == [] and db.read_sync(repo.pending_purges) == []
        assert not (data / "quarantine").exists()
        assert c.get(f"/dr/api/v1/auth/study/{keep['study_id']}", headers=h).status_code == 200
        assert c.get("/dr/api/v1/auth/recycle_bin/disk_info", headers=h).json()["data"]["recycle_bin"] == 0
    finally:
        c.__exit__(None, None, None)


def test_killed_while_save_as_writes_its_copy(make_app, settings, exposed_study):
    """save_as writes `<new>.dcm.part` and renames it; killed before the rename, the next start
    removes the partial file and the study is as it was (no row was committed)."""
    s, _ = exposed_study
    data = settings.data_path
    before = _files(data)
    exposed = next(i for i in images_of(s) if i["expose_status"] == "Exposed")
    run_child(data, "save_as", exposed["sop_instance_uid"])
    partial = [f for f in _files(data) if f.endswith(".dcm.part")]
    assert len(partial) == 1 and partial[0].startswith(f"studies/{s['study_id']}/")
    c, h = reopen(make_app, settings)
    try:
        assert _files(data) == before
        assert c.get(f"/dr/api/v1/auth/study/{s['study_id']}", headers=h).json()["data"] == s
        assert c.app.state.db.read_sync(repo.list_quarantine) == []
    finally:
        c.__exit__(None, None, None)
