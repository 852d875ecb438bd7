"""§6 file endpoints: content types, ETag/304, Range/206/416, traversal and foreign names, who may read."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tests.studies import expose, images_of, register


@pytest.fixture
def exposed(client, app, auth_headers):
    study = register(client, auth_headers("tech"))
    image = images_of(study)[0]
    path = expose(app, study, image, size=300)
    return study, image, path


def _urls(kind: str, name: str) -> list[str]:
    return [f"/dr/api/v1/auth/f/{kind}/{name}", f"/dr/api/v1/pub/{kind}/{name}", f"/api/v1/pub/{kind}/{name}"]


def test_dicom_thumbnail_and_capture_with_their_content_types(client, auth_headers, exposed):
    _study, image, path = exposed
    sop = image["sop_instance_uid"]
    h = auth_headers("tech")
    for url in _urls("dcm", f"{sop}.dcm"):
        r = client.get(url, headers=h)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/dicom"
        assert r.content == path.read_bytes()
        assert r.headers["accept-ranges"] == "bytes" and r.headers["etag"].startswith('"')
    for url in _urls("thumbnail", f"{sop}.webp"):
        r = client.get(url, headers=h)
        assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(r.content)).format == "WEBP"
    r = client.get(f"/dr/api/v1/auth/f/capture/{sop}.png", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    png = np.asarray(Image.open(io.BytesIO(r.content)))
    ds = pydicom.dcmread(path)
    assert png.shape == ds.pixel_array.shape and png.dtype == np.uint8
    # window 2048/4096 over 0..4095: the linear VOI function maps stored value v to about v/16
    expected = np.clip(((ds.pixel_array - 2047.5) / 4095 + 0.5) * 255, 0, 255).astype(np.uint8)
    assert np.abs(png.astype(int) - expected.astype(int)).max() <= 1
    again = client.get(f"/dr/api/v1/pub/capture/{sop}.png", headers=h)
    assert again.content == r.content and again.headers["etag"] == r.headers["etag"], "rendered once, then cached"


def test_etag_revalidation_answers_304(client, auth_headers, exposed):
    sop = exposed[1]["sop_instance_uid"]
    h = auth_headers("tech")
    first = client.get(f"/dr/api/v1/auth/f/dcm/{sop}.dcm", headers=h)
    r = client.get(f"/dr/api/v1/auth/f/dcm/{sop}.dcm", headers={**h, "If-None-Match": first.headers["etag"]})
    assert r.status_code == 304 and r.content == b""
    r = client.get(f"/dr/api/v1/auth/f/dcm/{sop}.dcm", headers={**h, "If-None-Match": '"other"'})
    assert r.status_code == 200 and len(r.content) == len(first.content)


def test_byte_ranges(client, auth_headers, exposed):
    _study, image, path = exposed
    data = path.read_bytes()
    size = len(data)
    url = f"/dr/api/v1/auth/f/dcm/{image['sop_instance_uid']}.dcm"
    h = auth_headers("tech")
    r = client.get(url, headers={**h, "Range": "bytes=0-131"})
    assert r.status_code == 206 and r.content == data[:132] and r.content[128:132] == b"DICM"
    assert r.headers["content-range"] == f"bytes 0-131/{size}"
    r = client.get(url, headers={**h, "Range": "bytes=1000-"})
    assert r.status_code == 206 and r.content == data[1000:]
    r = client.get(url, headers={**h, "Range": "bytes=-16"})
    assert r.status_code == 206 and r.content == data[-16:]
    r = client.get(url, headers={**h, "Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    assert r.json()["code"] == "0x010001" and r.json()["data"]["field"] == "Range"
    r = client.get(url, headers={**h, "Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.content == data, "If-Range with another ETag sends the whole file"
    r = client.get(url, headers={**h, "Range": "bytes=0-1,5-6"})
    assert r.status_code == 200 and r.content == data, "several ranges: the whole file"


@pytest.mark.parametrize(
    "path",
    [
        "/dr/api/v1/auth/f/dcm/..%2F..%2Fdros.duckdb",
        "/dr/api/v1/auth/f/dcm/%2E%2E",
        "/dr/api/v1/auth/f/dcm/..",
        "/dr/api/v1/auth/f/dcm/dros.duckdb",
        "/dr/api/v1/auth/f/thumbnail/..%2Fsecrets%2Fjwt.key",
        "/dr/api/v1/auth/f/dcm/1.2.3.dcm",
        "/dr/api/v1/pub/capture/1.2.3.png",
        "/dr/api/v1/auth/f/dcm/.hidden.dcm",
    ],
)
def test_traversal_and_unknown_names_are_404(client, auth_headers, exposed, path):
    r = client.get(path, headers=auth_headers("tech"))
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert r.json()["code"] in ("0x030001", "0x010004")


def test_foreign_names_of_existing_files_are_refused(client, auth_headers, exposed):
    _study, image, path = exposed
    sop = image["sop_instance_uid"]
    h = auth_headers("tech")
    raw = path.with_suffix(".raw")
    raw.write_bytes(b"x" * 64)  # a file in the study folder that no endpoint serves
    for url in (
        f"/dr/api/v1/auth/f/dcm/{sop}.raw",
        f"/dr/api/v1/auth/f/dcm/{sop}.webp",
        f"/dr/api/v1/auth/f/thumbnail/{sop}.dcm",
        f"/dr/api/v1/auth/f/capture/{sop}.dcm",
    ):
        r = client.get(url, headers=h)
        assert r.status_code == 404, url
        assert r.json()["data"]["field"] in ("filename", "dcmfilename")


def test_who_may_read(client, auth_headers, token, exposed):
    sop = exposed[1]["sop_instance_uid"]
    for kind, name in (("dcm", f"{sop}.dcm"), ("thumbnail", f"{sop}.webp"), ("capture", f"{sop}.png")):
        for url in _urls(kind, name):
            assert client.get(url).status_code == 401
            guest = client.get(url, headers={"Authorization": f"Bearer {token('guest')}"})
            assert guest.status_code == 403 and guest.json()["code"] == "0x020006", url
            assert client.get(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
        # pub/: the token may come as ?token= (an <img src> cannot send headers); auth/f/ needs the header
        assert client.get(f"/dr/api/v1/pub/{kind}/{name}", params={"token": token("tech")}).status_code == 200
        assert client.get(f"/dr/api/v1/pub/{kind}/{name}", params={"token": token("guest")}).status_code == 403
        assert client.get(f"/dr/api/v1/auth/f/{kind}/{name}", params={"token": token("tech")}).status_code == 401


def test_files_of_a_study_in_the_recycle_bin_are_served_until_purged(client, auth_headers, exposed):
    study, image, _ = exposed
    sop = image["sop_instance_uid"]
    h = auth_headers("admin")
    r = client.request("DELETE", "/dr/api/v1/auth/study", headers=h, json=[study["study_id"]])
    assert r.status_code == 200, r.text
    assert client.get(f"/dr/api/v1/auth/f/dcm/{sop}.dcm", headers=h).status_code == 200
    r = client.request("DELETE", "/dr/api/v1/auth/recycle_bin/study", headers=h, json=[study["study_id"]])
    assert r.status_code == 200, r.text
    assert client.get(f"/dr/api/v1/auth/f/dcm/{sop}.dcm", headers=h).status_code == 404


def test_symlink_out_of_the_study_folder_is_not_followed(client, auth_headers, exposed, tmp_path: Path):
    _study, image, path = exposed
    secret = tmp_path / "secret.webp"
    secret.write_bytes(b"secret")
    thumb = path.with_suffix(".webp")
    thumb.unlink()
    thumb.symlink_to(secret)
    r = client.get(f"/dr/api/v1/auth/f/thumbnail/{image['sop_instance_uid']}.webp", headers=auth_headers("tech"))
    assert r.status_code == 404
