"""Nothing half-written: a failure after some files are written removes them and commits no row;
concurrent saves of one study get distinct versions."""

from __future__ import annotations

import errno
from concurrent.futures import ThreadPoolExecutor

import pydicom

from dros.domain.report import repo as report_repo
from tests.documents.test_report import SEED_HUMAN
from tests.documents.tools import all_study_files, photo, png_b64
from tests.studies import images_of, register


def test_failed_report_commit_leaves_no_files_and_no_rows(client, auth_headers, settings, monkeypatch):
    h = auth_headers()
    study = register(client, h)
    before = all_study_files(settings.data_path)

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure inside the commit")

    monkeypatch.setattr(report_repo, "insert_version", broken)
    r = client.post(f"/dr/api/v1/auth/study/{study['study_id']}/report", headers=h, json=SEED_HUMAN)
    assert r.status_code == 500 and r.json()["code"] == "0x0F0001"
    monkeypatch.undo()
    assert all_study_files(settings.data_path) == before
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert [i["image_type"] for i in images_of(after)] == [i["image_type"] for i in images_of(study)]
    assert client.get(f"/dr/api/v1/auth/study/{study['study_id']}/report", headers=h).status_code == 404


def test_disk_full_on_the_second_file_removes_the_first(client, auth_headers, settings, monkeypatch):
    import dros.domain.document.service as service

    h = auth_headers()
    study = register(client, h)
    before = all_study_files(settings.data_path)

    def full_disk(pixels):
        def write(path):
            path.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")

        return write

    monkeypatch.setattr(service, "photo_thumbnail_writer", full_disk)
    r = client.post(
        "/dr/api/v1/auth/study/portrait", headers=h, json={"instance_uid": study["study_id"], "data": png_b64(photo())}
    )
    assert r.status_code in (500, 507) and r.json()["code"] in ("0x060001", "0x0F0001"), r.text
    monkeypatch.undo()
    assert all_study_files(settings.data_path) == before
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert after["portrait_status"] == "NotSaved" and len(images_of(after)) == len(images_of(study))


def test_concurrent_saves_get_distinct_versions(client, auth_headers, settings):
    h = auth_headers()
    study = register(client, h)
    url = f"/dr/api/v1/auth/study/{study['study_id']}/report"

    def save(n: int) -> dict:
        body = {**SEED_HUMAN, "impression": f"版本 {n}"}
        r = client.post(url, headers=h, json=body)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(save, range(4)))
    assert sorted(r["version"] for r in replies) == [1, 2, 3, 4]
    folder = settings.data_path / "studies" / study["study_id"]
    numbers = sorted(int(pydicom.dcmread(folder / r["path"], stop_before_pixels=True).InstanceNumber) for r in replies)
    assert numbers == [1, 2, 3, 4]
    series = {pydicom.dcmread(folder / r["path"], stop_before_pixels=True).SeriesInstanceUID for r in replies}
    assert len(series) == 1
