"""Recycle bin (§10): list, detail, restore, permanent delete, clear, disk info."""

from __future__ import annotations

import re
import shutil

import pytest

from dros.domain.study.files import human_size
from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error
from tests.studies import DOG, expose, images_of, register

BIN = "/dr/api/v1/auth/recycle_bin"
STUDY = "/dr/api/v1/auth/study"
EMPTY = {"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}}


def bin_ids(client, h, **params) -> list[str]:
    r = client.get(f"{BIN}/study/", headers=h, params=params)
    assert r.status_code == 200, r.text
    return [s["study_id"] for s in r.json()["data"]["studies"]]


def deleted(client, h, app=None, n=2, **changes) -> list[dict]:
    made = [register(client, h, **changes) for _ in range(n)]
    if app is not None:
        for s in made:
            expose(app, s, images_of(s)[0])
    # as they stand right before the delete: what a restore must give back exactly
    made = [client.get(f"{STUDY}/{s['study_id']}", headers=h).json()["data"] for s in made]
    assert client.request("DELETE", STUDY, headers=h, json=[s["study_id"] for s in made]).status_code == 200
    return made


def test_bin_list_filters_and_detail(client, auth_headers):
    h = auth_headers()
    a, b = deleted(client, h)
    c = register(client, h, patient_name="Keep^Me")
    # deleted in one batch (one deletion time): the later study_id first
    assert bin_ids(client, h) == [b["study_id"], a["study_id"]]
    assert bin_ids(client, h, name="keep") == []
    assert len(bin_ids(client, h, name="ZHANG")) == 2 and bin_ids(client, h, page_size=1, page=2)
    assert c["study_id"] not in bin_ids(client, h)
    detail = client.get(f"{BIN}/study/{a['study_id']}", headers=h).json()["data"]
    assert detail["study_id"] == a["study_id"] and len(images_of(detail)) == 3
    assert_error(client.get(f"{BIN}/study/{c['study_id']}", headers=h), 404, ErrorCode.NOT_FOUND, "id")
    assert_error(
        client.get(f"{BIN}/study/", headers=h, params={"page_size": 0}), 400, ErrorCode.INVALID_PARAMETER, "page_size"
    )


def test_bin_list_honours_the_product(client, auth_headers):
    human = register(client, auth_headers(product="DROS"))
    pet = register(client, auth_headers(product="VETDROS"), DOG)
    both = [human["study_id"], pet["study_id"]]
    assert client.request("DELETE", STUDY, headers=auth_headers(), json=both).status_code == 200
    r = client.get(f"{BIN}/study/", headers=auth_headers(product="DROS"))
    assert bin_ids(client, auth_headers(product="DROS")) == [human["study_id"]] and r.json()["data"]["count"] == 1
    r = client.get(f"{BIN}/study/", headers=auth_headers(product="VETDROS"))
    assert bin_ids(client, auth_headers(product="VETDROS")) == [pet["study_id"]] and r.json()["data"]["count"] == 1


def test_restore_brings_rows_and_files_back(client, auth_headers, app):
    h = auth_headers()
    a, b = deleted(client, h, app)
    files = app.state.study_service.files
    assert client.post(f"{BIN}/study", headers=h, json=[a["study_id"]]).json()["data"] == EMPTY
    assert bin_ids(client, h) == [b["study_id"]]
    assert client.get(f"{STUDY}/{a['study_id']}", headers=h).json()["data"] == a
    assert (files.live_dir(a["study_id"]) / f"{images_of(a)[0]['sop_instance_uid']}.dcm").exists()
    assert not files.bin_dir(a["study_id"]).exists()


def test_restore_is_all_or_nothing(client, auth_headers):
    h = auth_headers()
    (a,) = deleted(client, h, n=1)
    live = register(client, h)
    r = client.post(f"{BIN}/study", headers=h, json=[a["study_id"], live["study_id"]])
    body = assert_error(r, 404, ErrorCode.NOT_FOUND)
    assert [f["study_id"] for f in body["data"]["failed"]] == [live["study_id"]]
    assert bin_ids(client, h) == [a["study_id"]]


def test_permanent_delete_frees_the_disk(client, auth_headers, app):
    h = auth_headers("mgr")
    a, b = deleted(client, h, app)
    files = app.state.study_service.files
    before = client.get(f"{BIN}/disk_info", headers=h).json()["data"]["recycle_bin"]
    assert before > 0
    assert client.request("DELETE", f"{BIN}/study", headers=h, json=[a["study_id"]]).json()["data"] == EMPTY
    assert not files.bin_dir(a["study_id"]).exists() and files.bin_dir(b["study_id"]).exists()
    after = client.get(f"{BIN}/disk_info", headers=h).json()["data"]["recycle_bin"]
    assert 0 < after < before
    assert bin_ids(client, h) == [b["study_id"]]
    rows = app.state.db.read_sync(
        lambda c: c.execute("SELECT count(*) FROM image WHERE study_id = ?", [a["study_id"]]).fetchone()[0]
    )
    assert rows == 0
    assert_error(client.post(f"{BIN}/study", headers=h, json=[a["study_id"]]), 404, ErrorCode.NOT_FOUND)


def test_clear_empties_everything(client, auth_headers, app):
    h = auth_headers("admin")
    deleted(client, h, app, n=3)
    keep = register(client, h)
    assert client.delete(f"{BIN}/clear", headers=h).json()["data"] == EMPTY
    assert bin_ids(client, h) == []
    assert client.get(f"{BIN}/disk_info", headers=h).json()["data"]["recycle_bin"] == 0
    assert [s["study_id"] for s in client.get(STUDY + "/", headers=h).json()["data"]["studies"]] == [keep["study_id"]]
    counts = app.state.db.read_sync(
        lambda c: c.execute(
            "SELECT (SELECT count(*) FROM study), (SELECT count(*) FROM series), (SELECT count(*) FROM image)"
        ).fetchone()
    )
    assert counts == (1, 2, 3)


def test_purge_needs_bin_purge_role(client, auth_headers):
    h = auth_headers("tech")
    (a,) = deleted(client, h, n=1)
    assert_error(client.request("DELETE", f"{BIN}/study", headers=h, json=[a["study_id"]]), 403, ErrorCode.FORBIDDEN)
    assert_error(client.delete(f"{BIN}/clear", headers=h), 403, ErrorCode.FORBIDDEN)
    assert client.post(f"{BIN}/study", headers=h, json=[a["study_id"]]).status_code == 200  # tech may restore


def test_disk_info_is_real(client, auth_headers, settings):
    data = client.get(f"{BIN}/disk_info", headers=auth_headers()).json()["data"]
    usage = shutil.disk_usage(settings.data_path)
    assert data["total"] == usage.total and abs(data["free"] - usage.free) < 512 * 1024 * 1024
    assert data["recycle_bin"] == 0 and data["recycle_bin_str"] == "0.00 KB"
    for key in ("total_str", "free_str"):
        assert re.fullmatch(r"\d+\.\d\d (KB|MB|GB|TB)", data[key])
    # the strings are the numbers in the reference's format (human_size is checked against it below)
    assert data["total_str"] == human_size(data["total"]) and data["free_str"] == human_size(data["free"])


@pytest.mark.parametrize(
    "n, text", [(0, "0.00 KB"), (1536, "1.50 KB"), (243047182336, "226.36 GB"), (5 * 1024**2, "5.00 MB")]
)
def test_human_sizes_match_the_reference(n, text):
    assert human_size(n) == text
