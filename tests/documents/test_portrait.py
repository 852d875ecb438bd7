"""`POST auth/study/portrait`: a base64 PNG becomes a VL Photographic instance of the study."""

from __future__ import annotations

import base64

import numpy as np
import pydicom
import pytest

from tests.documents.tools import all_study_files, dciodvfy, photo, png16_grey, png_b64, png_bytes, study_files
from tests.studies import DOG, HUMAN, images_of, register

URL = "/dr/api/v1/auth/study/portrait"


@pytest.mark.parametrize(("base", "product"), [(HUMAN, "DROS"), (DOG, "VETDROS")])
def test_portrait_is_a_vl_photographic_instance_of_the_study(client, auth_headers, settings, base, product):
    h = auth_headers(product=product)
    study = register(client, h, base)
    pixels = photo()
    r = client.post(URL, headers=h, json={"instance_uid": study["study_id"], "data": png_b64(pixels)})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["@type"] == "type.googleapis.com/dr.task.DcmPath"
    path = settings.data_path / "studies" / study["study_id"] / data["path"]
    errors, report = dciodvfy(path)
    assert errors == 0, report
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.4" and ds.Modality == "XC"
    assert ds.StudyInstanceUID == study["study_instance_uid"] and ds.PatientID == study["patient_id"]
    assert data["path"] == f"{ds.SOPInstanceUID}.dcm"
    assert np.array_equal(ds.pixel_array, pixels)
    if product == "VETDROS":
        assert ds.PatientSpeciesDescription == "Dog" and ds.ResponsiblePerson == "主人孙某"
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert after["portrait_status"] == "Saved" and after["portrait_file"] == data["path"]
    rows = [i for i in images_of(after) if i["sop_instance_uid"] == ds.SOPInstanceUID]
    assert len(rows) == 1 and rows[0]["image_type"] == "portrait"
    assert {s["series_instance_uid"] for s in after["series"] if rows[0] in s["images"]} == {ds.SeriesInstanceUID}
    assert (path.parent / rows[0]["thumbnail_file"]).is_file()


def test_portrait_by_study_uid_or_image_uid_and_data_url_grey(client, auth_headers, settings):
    h = auth_headers()
    study = register(client, h)
    grey = np.arange(64 * 40, dtype=np.uint32).reshape(64, 40).astype(np.uint8)
    url_body = "data:image/png;base64," + png_b64(grey)
    first = client.post(URL, headers=h, json={"instance_uid": study["study_instance_uid"], "data": url_body})
    assert first.status_code == 200, first.text
    image_uid = images_of(study)[0]["sop_instance_uid"]
    second = client.post(URL, headers=h, json={"instance_uid": image_uid, "data": png_b64(photo(seed=2))})
    assert second.status_code == 200, second.text
    folder = settings.data_path / "studies" / study["study_id"]
    a, b = (pydicom.dcmread(folder / r.json()["data"]["path"]) for r in (first, second))
    assert a.PhotometricInterpretation == "MONOCHROME2" and np.array_equal(a.pixel_array, grey)
    # a later portrait replaces the study's portrait_file; the earlier stays in the same series
    assert a.SeriesInstanceUID == b.SeriesInstanceUID and (a.InstanceNumber, b.InstanceNumber) == (1, 2)
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert after["portrait_file"] == second.json()["data"]["path"]
    for ds in (a, b):
        errors, report = dciodvfy(folder / f"{ds.SOPInstanceUID}.dcm")
        assert errors == 0, report


def test_opaque_rgba_is_accepted_as_rgb(client, auth_headers, settings):
    h = auth_headers()
    study = register(client, h)
    rgb = photo(seed=3)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    r = client.post(URL, headers=h, json={"instance_uid": study["study_id"], "data": png_b64(rgba)})
    assert r.status_code == 200, r.text
    ds = pydicom.dcmread(settings.data_path / "studies" / study["study_id"] / r.json()["data"]["path"])
    assert ds.PhotometricInterpretation == "RGB" and np.array_equal(ds.pixel_array, rgb)


def _truncated() -> str:
    return base64.b64encode(png_bytes(photo(200, 200))[:-400]).decode()


def _translucent() -> str:
    rgba = np.dstack([photo(), np.full((48, 32), 255, np.uint8)])
    rgba[0, 0, 3] = 10
    return png_b64(rgba)


BAD = {
    "jpeg_not_png": (lambda: base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)).decode(), "data", 400),
    "truncated_png": (_truncated, "data", 400),
    "not_base64": (lambda: "iVBORw0KGgo!!!not*base64", "data", 400),
    "base64_bad_padding": (lambda: png_b64(photo())[:-3], "data", 400),
    "empty": (lambda: "", "data", 400),
    "too_large_bytes": (lambda: "A" * (45 * 1024 * 1024), "data", 400),
    "too_many_pixels": (lambda: png_b64(np.zeros((1, 8193), np.uint8)), "data", 400),
    "sixteen_bit": (lambda: base64.b64encode(png16_grey(np.full((8, 8), 40000, np.uint16))).decode(), "data", 400),
    "translucent": (_translucent, "data", 400),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_portrait_data_is_refused_and_leaves_nothing(client, auth_headers, settings, case):
    h = auth_headers()
    study = register(client, h)
    make, field, status = BAD[case]
    before = all_study_files(settings.data_path)
    r = client.post(URL, headers=h, json={"instance_uid": study["study_id"], "data": make()})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == "0x010001" and body["data"]["field"] == field
    assert all_study_files(settings.data_path) == before
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert after["portrait_status"] == "NotSaved" and len(images_of(after)) == len(images_of(study))


def test_unknown_and_locked_studies(client, auth_headers, settings):
    h = auth_headers()
    r = client.post(URL, headers=h, json={"instance_uid": "999999999999999", "data": png_b64(photo())})
    assert r.status_code == 404 and r.json()["data"]["field"] == "instance_uid"
    study = register(client, h)
    assert (
        client.put(f"/dr/api/v1/auth/study/{study['study_id']}/lock", headers=h, json={"lock": "Locked"}).status_code
        == 200
    )
    before = all_study_files(settings.data_path)
    r = client.post(URL, headers=h, json={"instance_uid": study["study_id"], "data": png_b64(photo())})
    assert r.status_code == 409 and r.json()["code"] == "0x030003" and r.json()["data"]["field"] == "instance_uid"
    assert all_study_files(settings.data_path) == before and study_files(settings.data_path, study["study_id"]) == set()


def test_body_shape_errors_name_the_field(client, auth_headers):
    h = auth_headers()
    r = client.post(URL, headers=h, json={"data": png_b64(photo())})
    assert r.status_code == 400 and r.json()["data"]["field"] == "instance_uid"
    r = client.post(URL, headers=h, json={"instance_uid": 5, "data": png_b64(photo())})
    assert r.status_code == 400 and r.json()["data"]["field"] == "instance_uid"
    r = client.post(URL, headers=h, json={"instance_uid": "x" * 65, "data": png_b64(photo())})
    assert r.status_code == 400 and r.json()["data"]["field"] == "instance_uid"


def test_portrait_route_lives_beside_the_study_routes(client, auth_headers):
    """`study/portrait` (POST) and `study/{id}` (GET/PUT) share a prefix; each reaches its own handler."""
    h = auth_headers()
    study = register(client, h)
    got = client.get(f"/api/v1/auth/study/{study['study_id']}", headers=h)
    assert got.status_code == 200 and got.json()["data"]["study_id"] == study["study_id"]
    r = client.post(
        "/api/v1/auth/study/portrait", headers=h, json={"instance_uid": study["study_id"], "data": png_b64(photo())}
    )
    assert r.status_code == 200 and r.json()["data"]["@type"] == "type.googleapis.com/dr.task.DcmPath"
    stat = client.get(f"/dr/api/v1/auth/study/{study['study_id']}/stat", headers=h)
    assert stat.status_code == 200
