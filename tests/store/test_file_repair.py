"""The start-up repair never deletes an image: folders and image files no row refers to go to
<data_dir>/quarantine/<time>/<original path> with a log line and a `file_quarantine` row;
temporary files of interrupted writers are removed; the images of live studies stay untouched."""

from __future__ import annotations

import hashlib
import logging

import pytest
from litestar.testing import TestClient

from dros.domain.study import repo
from dros.domain.study.files import StudyFiles
from tests.studies import expose, images_of, register


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def live_study(make_app, settings):
    """A registered study with one exposed image (a real DX file and thumbnail)."""
    with TestClient(make_app(settings)) as c:
        token = c.post("/dr/api/v1/pub/login", json={"username": "admin", "password": "123456"}).json()["data"]["token"]
        s = register(c, {"Authorization": f"Bearer {token}"})
        dcm = expose(c.app, s, images_of(s)[0])
    return s, dcm


def restart(make_app, settings):
    with TestClient(make_app(settings)) as c:
        return c.app.state.db.read_sync(repo.list_quarantine)


class Lines(logging.Handler):
    """Collects log lines of one logger (the app's logging set-up does not propagate to caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_unknown_folders_and_views_are_quarantined_never_deleted(make_app, settings, live_study):
    _, dcm = live_study
    data = settings.data_path
    # as after a restored backup: images on disk that the database does not know
    orphan_live = data / "studies" / "990101000000001"
    orphan_bin = data / "recycle_bin" / "990101000000002"
    for folder in (orphan_live, orphan_bin):
        folder.mkdir(parents=True)
        (folder / "1.2.3.dcm").write_bytes(dcm.read_bytes())
        (folder / "1.2.3.webp").write_bytes(b"thumb")
    orphan_view = data / "recycle_bin" / "views" / "9.9.9.dcm"
    orphan_view.write_bytes(dcm.read_bytes())
    original = digest(dcm)

    log = Lines()
    logging.getLogger("dros.files").addHandler(log)
    try:
        entries = restart(make_app, settings)
    finally:
        logging.getLogger("dros.files").removeHandler(log)

    assert not orphan_live.exists() and not orphan_bin.exists() and not orphan_view.exists()
    by_origin = {e.original_path: e for e in entries}
    assert set(by_origin) == {
        "studies/990101000000001",
        "recycle_bin/990101000000002",
        "recycle_bin/views/9.9.9.dcm",
    }
    for origin, e in by_origin.items():
        kept = data / e.quarantine_path
        assert e.quarantine_path.startswith("quarantine/") and e.quarantine_path.endswith(origin)
        if e.kind == "study_folder":
            assert sorted(p.name for p in kept.iterdir()) == ["1.2.3.dcm", "1.2.3.webp"]
            assert digest(kept / "1.2.3.dcm") == original and e.files == 2
            assert e.bytes == dcm.stat().st_size + len(b"thumb")
        else:
            assert e.kind == "image_file" and digest(kept) == original and e.files == 1
        assert e.reason and e.quarantined_at.endswith("Z")
        assert any(line.startswith(f"quarantined {origin} ") and e.quarantine_path in line for line in log.lines)
    # the live study's own image is where it was
    assert digest(dcm) == original
    # a second start finds nothing new and keeps the record
    assert restart(make_app, settings) == entries


def test_temporary_files_in_study_folders_are_removed(make_app, settings, live_study):
    _, dcm = live_study
    folder = dcm.parent
    leftovers = [folder / f"{dcm.name}.part", folder / f".{dcm.stem}.webp.4242.tmp", folder / ".x.dcm.0a1b.part"]
    for p in leftovers:
        p.write_bytes(b"half written")
    before = sorted(p.name for p in folder.iterdir() if p not in leftovers)

    assert restart(make_app, settings) == []  # not images: removed, not quarantined

    assert not any(p.exists() for p in leftovers)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_reconcile_reports_what_it_did(settings, live_study, tmp_path):
    """The repair's summary, straight from StudyFiles (what the start-up log line shows)."""
    from dros.lifespan import open_store

    _, dcm = live_study
    data = settings.data_path
    (data / "studies" / "990101000000003").mkdir()
    (dcm.parent / f"{dcm.name}.part").write_bytes(b"x")
    db = open_store(settings)  # runs the repair once
    try:
        again = db.write_sync(lambda conn: StudyFiles(data).reconcile(conn))
        listed = db.read_sync(repo.list_quarantine)
    finally:
        db.close()
    assert again == {"moved_to_bin": 0, "moved_back": 0, "purged": 0, "temp_removed": 0, "quarantined": 0}
    assert [e.original_path for e in listed] == ["studies/990101000000003"]
    assert listed[0].files == 0 and listed[0].bytes == 0


def test_service_users_see_the_quarantine_in_health(make_app, settings, live_study):
    _, dcm = live_study
    orphan = settings.data_path / "studies" / "990101000000004"
    orphan.mkdir()
    (orphan / "4.4.4.dcm").write_bytes(dcm.read_bytes())
    with TestClient(make_app(settings)) as c:
        token = c.post("/dr/api/v1/pub/login", json={"username": "service", "password": "123456"}).json()["data"][
            "token"
        ]
        r = c.get("/dr/api/v1/auth/service/health", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        (entry,) = r.json()["data"]["quarantine"]
        assert entry["original_path"] == "studies/990101000000004" and entry["kind"] == "study_folder"
        assert entry["files"] == 1 and entry["bytes"] == dcm.stat().st_size
        assert (settings.data_path / entry["quarantine_path"] / "4.4.4.dcm").read_bytes() == dcm.read_bytes()
        tech = c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"}).json()["data"]["token"]
        assert c.get("/dr/api/v1/auth/service/health", headers={"Authorization": f"Bearer {tech}"}).status_code == 403
