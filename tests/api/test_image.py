"""Image (view slot) endpoints (§12): add, copy, sort, delete, save_as."""

from __future__ import annotations

import pydicom
import pytest

from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error
from tests.studies import DOG, HUMAN, expose, images_of, register

IMAGE = "/dr/api/v1/auth/image"
EMPTY = {"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}}


def study(client, h, sid):
    return client.get(f"/dr/api/v1/auth/study/{sid}", headers=h).json()["data"]


def test_add_views_each_in_a_new_series(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    r = client.post(
        IMAGE,
        headers=h,
        json={
            "study_id": s["study_id"],
            "views": [
                {"view_id": "View_DX_T_A_SK_AP_00", "procedure_id": "P0-0002"},
                {"view_id": "View_DX_T_A_CH_PA_00", "procedure_id": ""},
            ],
        },
    )
    data = r.json()["data"]
    assert data["@type"] == "type.googleapis.com/dr.study.CreateImageReply"
    assert [x["sort"] for x in data["series"]] == [3, 4]
    assert [[i["view_id"] for i in x["images"]] for x in data["series"]] == [
        ["View_DX_T_A_SK_AP_00"],
        ["View_DX_T_A_CH_PA_00"],
    ]
    new = images_of(data)
    assert [i["sort"] for i in new] == [4, 5] and all(i["image_status"] == "QUEUING" for i in new)
    after = study(client, h, s["study_id"])
    assert len(images_of(after)) == 5 and after["is_appended"] is True
    assert "image_status" not in images_of(after)[0]


@pytest.mark.parametrize(
    "payload, status, code, field",
    [
        ({"study_id": "404", "views": [HUMAN["views"][2]]}, 404, ErrorCode.NOT_FOUND, "study_id"),
        ({"views": [HUMAN["views"][2]]}, 400, ErrorCode.INVALID_PARAMETER, "study_id"),
        ({"study_id": "S", "views": []}, 400, ErrorCode.INVALID_PARAMETER, "views"),
    ],
)
def test_add_views_refusals(client, auth_headers, payload, status, code, field):
    assert_error(client.post(IMAGE, headers=auth_headers(), json=payload), status, code, field)


def test_add_view_of_another_patient_type(client, auth_headers):
    h = auth_headers(product="VETDROS")
    s = register(client, h, DOG)
    r = client.post(
        IMAGE,
        headers=h,
        json={"study_id": s["study_id"], "views": [{"view_id": "View_DX_T_A_SK_AP_00", "procedure_id": ""}]},
    )
    assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "views[0].view_id")


def test_copy_view_lands_right_after_the_original(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    first = images_of(s)[0]
    data = client.post(f"{IMAGE}/copy", headers=h, json={"instance_uid": first["sop_instance_uid"]}).json()["data"]
    (series,) = data["series"]
    (copy,) = series["images"]
    assert series["series_instance_uid"] == first["series_instance_uid"]
    assert copy["view_id"] == first["view_id"] and copy["sop_instance_uid"] != first["sop_instance_uid"]
    assert copy["expose_status"] == "Unexposed" and copy["sort"] == 2
    order = [i["sop_instance_uid"] for i in images_of(study(client, h, s["study_id"]))]
    assert order[:2] == [first["sop_instance_uid"], copy["sop_instance_uid"]] and len(order) == 4
    assert_error(
        client.post(f"{IMAGE}/copy", headers=h, json={"instance_uid": "1.2.3"}),
        404,
        ErrorCode.NOT_FOUND,
        "instance_uid",
    )


def test_sort_persists(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    uids = [i["sop_instance_uid"] for i in images_of(s)]
    wanted = [uids[2], uids[0], uids[1]]
    r = client.post(f"{IMAGE}/sort", headers=h, json={"study_id": s["study_id"], "sop_instance_uids": wanted})
    assert r.json()["data"] == EMPTY
    after = study(client, h, s["study_id"])
    assert [i["sop_instance_uid"] for i in images_of(after)] == wanted
    assert [x["procedure_id"] for x in after["series"]] == ["", "P0-0002"]


@pytest.mark.parametrize("mangle", ["missing", "unknown", "twice"])
def test_sort_must_be_a_permutation(client, auth_headers, mangle):
    h = auth_headers()
    s = register(client, h)
    uids = [i["sop_instance_uid"] for i in images_of(s)]
    given = {"missing": uids[:2], "unknown": [*uids, "1.2.3"], "twice": [*uids, uids[0]]}[mangle]
    r = client.post(f"{IMAGE}/sort", headers=h, json={"study_id": s["study_id"], "sop_instance_uids": given})
    assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "sop_instance_uids")


def test_delete_unexposed_view_and_empty_series(client, auth_headers):
    h = auth_headers("tech")
    s = register(client, h)
    direct = images_of(s)[2]
    assert client.delete(f"{IMAGE}/{direct['sop_instance_uid']}", headers=h).json()["data"] == EMPTY
    after = study(client, h, s["study_id"])
    assert len(after["series"]) == 1 and len(images_of(after)) == 2
    assert_error(client.delete(f"{IMAGE}/{direct['sop_instance_uid']}", headers=h), 404, ErrorCode.NOT_FOUND, "id")
    # the seed's bare-prefix spelling works too
    other = images_of(s)[1]["sop_instance_uid"]
    assert client.delete(f"/api/v1/auth/image/{other}", headers=h).status_code == 200


def test_delete_exposed_image_needs_bin_purge_and_moves_its_files(client, auth_headers, app):
    s = register(client, auth_headers())
    img = images_of(s)[0]
    dcm = expose(app, s, img)
    assert_error(
        client.delete(f"{IMAGE}/{img['sop_instance_uid']}", headers=auth_headers("tech")),
        403,
        ErrorCode.FORBIDDEN,
        "id",
    )
    assert dcm.exists()
    assert client.delete(f"{IMAGE}/{img['sop_instance_uid']}", headers=auth_headers("mgr")).status_code == 200
    files = app.state.study_service.files
    assert not dcm.exists() and (files.deleted_views / dcm.name).exists()
    info = client.get("/dr/api/v1/auth/recycle_bin/disk_info", headers=auth_headers()).json()["data"]
    assert info["recycle_bin"] >= dcm.stat().st_size if dcm.exists() else info["recycle_bin"] > 0
    assert client.delete("/dr/api/v1/auth/recycle_bin/clear", headers=auth_headers("mgr")).status_code == 200
    assert not (files.deleted_views / dcm.name).exists()


def test_save_as_copies_the_file_under_a_new_uid(client, auth_headers, app):
    h = auth_headers()
    s = register(client, h)
    img = images_of(s)[0]
    src = expose(app, s, img)
    assert (
        client.post(f"{IMAGE}/save_as", headers=h, json={"instance_uid": img["sop_instance_uid"]}).json()["data"]
        == EMPTY
    )
    after = images_of(study(client, h, s["study_id"]))
    new = after[1]
    assert new["view_id"] == img["view_id"] and new["expose_status"] == "Exposed" and new["sort"] == 2
    assert new["sop_instance_uid"] != img["sop_instance_uid"] and new["image_file"] == f"{new['sop_instance_uid']}.dcm"
    copy = pydicom.dcmread(src.parent / new["image_file"])
    orig = pydicom.dcmread(src)
    assert copy.SOPInstanceUID == new["sop_instance_uid"] == copy.file_meta.MediaStorageSOPInstanceUID
    assert copy.SeriesInstanceUID == orig.SeriesInstanceUID and copy.StudyInstanceUID == orig.StudyInstanceUID
    assert copy.PixelData == orig.PixelData
    assert (src.parent / new["thumbnail_file"]).exists()


def test_save_as_needs_pixel_data(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    r = client.post(f"{IMAGE}/save_as", headers=h, json={"instance_uid": images_of(s)[0]["sop_instance_uid"]})
    assert_error(r, 422, ErrorCode.UNPROCESSABLE, "instance_uid")


def test_image_endpoints_refuse_locked_studies(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    client.put(f"/dr/api/v1/auth/study/{s['study_id']}/lock", headers=h, json={"lock": "Locked"})
    uid = images_of(s)[0]["sop_instance_uid"]
    assert_error(client.post(f"{IMAGE}/copy", headers=h, json={"instance_uid": uid}), 409, ErrorCode.LOCKED)
    assert_error(client.delete(f"{IMAGE}/{uid}", headers=h), 409, ErrorCode.LOCKED)
    assert_error(
        client.post(f"{IMAGE}/sort", headers=h, json={"study_id": s["study_id"], "sop_instance_uids": [uid]}),
        409,
        ErrorCode.LOCKED,
    )
