"""`POST auth/image/post_proc` (multipart): a processed PNG + window becomes a derived DX instance
in the original's series; the original stays untouched."""

from __future__ import annotations

import hashlib

import numpy as np
import pydicom
import pytest

from tests.documents.tools import all_study_files, dciodvfy, photo, png16_grey, png_bytes
from tests.studies import DOG, HUMAN, expose, images_of, register

URL = "/dr/api/v1/auth/image/post_proc"


def exposed_study(client, h, app, base=HUMAN):
    study = register(client, h, base)
    image = images_of(study)[0]
    original = expose(app, study, image, size=256)
    return study, image, original


def send(client, h, uid, png, center="128", width="256", width_field="window_wdith"):
    form = {"instance_uid": uid, "window_center": center}
    if width is not None:
        form[width_field] = width
    files = {"data": ("processed.png", png, "image/png")} if png is not None else {"data": ("x.txt", b"", "text/plain")}
    return client.post(URL, headers=h, data=form, files=files)


@pytest.mark.parametrize(("base", "product"), [(HUMAN, "DROS"), (DOG, "VETDROS")])
def test_sixteen_bit_png_becomes_a_derived_instance_in_the_same_series(
    client, auth_headers, app, settings, base, product
):
    h = auth_headers(product=product)
    study, image, original = exposed_study(client, h, app, base)
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    y, x = np.mgrid[0:256, 0:256]
    processed = ((x * 200 + y * 50) % 60000).astype(np.uint16)
    r = send(client, h, image["sop_instance_uid"], png16_grey(processed), center="30000", width="60000")
    assert r.status_code == 200, r.text
    path = original.parent / r.json()["data"]["path"]
    errors, report = dciodvfy(path)
    assert errors == 0, report
    ds = pydicom.dcmread(path)
    src = pydicom.dcmread(original)
    assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"] and "DerivationDescription" in ds
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == image["sop_instance_uid"]
    assert ds.SourceImageSequence[0].ReferencedSOPClassUID == src.SOPClassUID
    assert ds.SOPInstanceUID != src.SOPInstanceUID
    assert (ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.PatientID) == (
        src.SeriesInstanceUID,
        src.StudyInstanceUID,
        src.PatientID,
    )
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (30000.0, 60000.0) and ds.BitsStored == 16
    assert np.array_equal(ds.pixel_array, processed)
    assert hashlib.sha256(original.read_bytes()).hexdigest() == digest  # the original is not touched
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    series = next(s for s in after["series"] if s["series_instance_uid"] == image["series_instance_uid"])
    uids = [i["sop_instance_uid"] for i in series["images"]]
    assert uids.index(ds.SOPInstanceUID) == uids.index(image["sop_instance_uid"]) + 1  # right after the original
    row = next(i for i in series["images"] if i["sop_instance_uid"] == ds.SOPInstanceUID)
    assert row["image_type"] == "post_proc" and row["expose_status"] == "Exposed" and row["view_id"] == image["view_id"]
    assert (original.parent / row["thumbnail_file"]).is_file()


def test_eight_bit_rendering_keeps_the_look_the_client_saw(client, auth_headers, app):
    """An 8-bit PNG with the original's 12-bit window: the pixels already carry the window, so the
    file gets the PNG's full range and the window sent is recorded in DerivationDescription."""
    h = auth_headers()
    _, image, original = exposed_study(client, h, app)
    rendered = np.tile(np.arange(256, dtype=np.uint8), (128, 1))
    r = send(client, h, image["sop_instance_uid"], png_bytes(rendered), center="2048", width="4096")
    assert r.status_code == 200, r.text
    ds = pydicom.dcmread(original.parent / r.json()["data"]["path"])
    assert (float(ds.WindowCenter), float(ds.WindowWidth), ds.BitsStored) == (128.0, 256.0, 8)
    assert "2048" in ds.DerivationDescription and "4096" in ds.DerivationDescription
    assert "resampled from 256x256 to 256x128" in ds.DerivationDescription
    src = pydicom.dcmread(original)
    assert float(ds.ImagerPixelSpacing[0]) == pytest.approx(float(src.ImagerPixelSpacing[0]) * 2)
    assert np.array_equal(ds.pixel_array, rendered)
    errors, report = dciodvfy(original.parent / r.json()["data"]["path"])
    assert errors == 0, report


def test_window_width_spelling_and_grey_rgb(client, auth_headers, app):
    h = auth_headers()
    _, image, original = exposed_study(client, h, app)
    grey = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
    rgb = np.dstack([grey, grey, grey])
    r = send(client, h, image["sop_instance_uid"], png_bytes(rgb), center="100", width="50", width_field="window_width")
    assert r.status_code == 200, r.text
    ds = pydicom.dcmread(original.parent / r.json()["data"]["path"])
    assert float(ds.WindowWidth) == 50.0 and ds.PhotometricInterpretation == "MONOCHROME2"
    assert np.array_equal(ds.pixel_array, grey)


def _translucent() -> bytes:
    rgba = np.full((16, 16, 4), 200, np.uint8)
    rgba[..., 3] = 128
    return png_bytes(rgba)


BAD = {
    "not_png": (b"GIF89a" + bytes(100), {}, "data", 400, "0x010001"),
    "truncated": (png_bytes(photo(300, 300))[:-500], {}, "data", 400, "0x010001"),
    "colour": (png_bytes(photo()), {}, "data", 400, "0x010001"),
    "translucent": (_translucent(), {}, "data", 400, "0x010001"),
    "too_many_pixels": (png_bytes(np.zeros((2, 8193), np.uint8)), {}, "data", 400, "0x010001"),
    "width_missing": (png_bytes(np.zeros((8, 8), np.uint8)), {"width": None}, "window_wdith", 400, "0x010001"),
    "width_zero": (png_bytes(np.zeros((8, 8), np.uint8)), {"width": "0"}, "window_wdith", 400, "0x010001"),
    "center_not_int": (png_bytes(np.zeros((8, 8), np.uint8)), {"center": "wide"}, "window_center", 400, "0x010001"),
    "center_over_int32": (
        png_bytes(np.zeros((8, 8), np.uint8)),
        {"center": str(2**31)},
        "window_center",
        400,
        "0x010001",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_post_proc_input_is_refused_and_leaves_nothing(client, auth_headers, app, settings, case):
    h = auth_headers()
    study, image, _ = exposed_study(client, h, app)
    png, extra, field, status, code = BAD[case]
    before = all_study_files(settings.data_path)
    r = send(client, h, image["sop_instance_uid"], png, **extra)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["data"]["field"] == field
    assert all_study_files(settings.data_path) == before
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    assert len(images_of(after)) == len(images_of(study))


def test_too_large_upload_is_refused(client, auth_headers, app, settings):
    h = auth_headers()
    _, image, _ = exposed_study(client, h, app)
    before = all_study_files(settings.data_path)
    big = png_bytes(np.zeros((8, 8), np.uint8)) + bytes(33 * 1024 * 1024)
    r = send(client, h, image["sop_instance_uid"], big)
    assert r.status_code == 400 and r.json()["data"]["field"] == "data", r.text
    assert all_study_files(settings.data_path) == before


def test_unknown_unexposed_and_locked_images(client, auth_headers, app, settings):
    h = auth_headers()
    png = png_bytes(np.zeros((8, 8), np.uint8))
    r = send(client, h, "1.2.3.4.5", png)
    assert r.status_code == 404 and r.json()["data"]["field"] == "instance_uid"
    study, image, _ = exposed_study(client, h, app)
    for study_ref in (study["study_id"], study["study_instance_uid"]):  # a study does not name the image
        r = send(client, h, study_ref, png)
        assert r.status_code == 400 and r.json()["data"]["field"] == "instance_uid", r.text
        assert "SOP Instance UID" in r.json()["description"]
    unexposed = images_of(study)[1]["sop_instance_uid"]
    r = send(client, h, unexposed, png)
    assert r.status_code == 422 and r.json()["data"]["field"] == "instance_uid"
    assert (
        client.put(f"/dr/api/v1/auth/study/{study['study_id']}/lock", headers=h, json={"lock": "Locked"}).status_code
        == 200
    )
    before = all_study_files(settings.data_path)
    r = send(client, h, image["sop_instance_uid"], png)
    assert r.status_code == 409 and r.json()["code"] == "0x030003" and r.json()["data"]["field"] == "instance_uid"
    assert all_study_files(settings.data_path) == before


def test_post_proc_route_lives_beside_the_image_routes(client, auth_headers, app):
    h = auth_headers()
    _, image, _ = exposed_study(client, h, app)
    r = client.post(
        "/api/v1/auth/image/post_proc",
        headers=h,
        data={"instance_uid": image["sop_instance_uid"], "window_center": "10", "window_wdith": "20"},
        files={"data": ("p.png", png_bytes(np.zeros((8, 8), np.uint8)), "image/png")},
    )
    assert r.status_code == 200 and r.json()["data"]["path"].endswith(".dcm")
    copy = client.post("/api/v1/auth/image/copy", headers=h, json={"instance_uid": image["sop_instance_uid"]})
    assert copy.status_code == 200
