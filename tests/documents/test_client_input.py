"""Black-box findings on the document endpoints, each a client input that was answered badly."""

from __future__ import annotations

import base64
import zlib

import pytest

from tests.documents.tools import all_study_files
from tests.studies import expose, images_of, register

AUTH = "/dr/api/v1/auth"


def png_header_only(cols: int, rows: int) -> bytes:
    """A PNG whose IHDR claims `cols`×`rows` (8-bit grey) with a token IDAT: what a decompression bomb
    or a careless export looks like before any pixel is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = cols.to_bytes(4, "big") + rows.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# 60000² is past Pillow's own bomb limit (it refused it in `open`, with its English text)
@pytest.mark.parametrize(("cols", "rows"), [(60000, 60000), (9000, 16), (7000, 7000)])
def test_an_oversized_png_is_refused_with_the_documented_limit_in_both_languages(
    client, auth_headers, app, settings, cols, rows
):
    study = register(client, auth_headers())
    image = images_of(study)[0]
    expose(app, study, image)
    before = all_study_files(settings.data_path)
    png = png_header_only(cols, rows)
    for lang in ("en_US", "zh_CN"):
        h = auth_headers(language=lang)
        portrait = client.post(
            f"{AUTH}/study/portrait",
            headers=h,
            json={"instance_uid": study["study_id"], "data": base64.b64encode(png).decode()},
        )
        post_proc = client.post(
            f"{AUTH}/image/post_proc",
            headers=h,
            data={"instance_uid": image["sop_instance_uid"], "window_center": "128", "window_wdith": "256"},
            files={"data": ("big.png", png, "image/png")},
        )
        for r in (portrait, post_proc):
            assert r.status_code == 400, r.text
            reply = r.json()
            assert reply["code"] == "0x010001" and reply["data"]["field"] == "data"
            assert f"{cols}×{rows}" in reply["description"] and "8192" in reply["description"]
            if lang == "zh_CN":
                assert "尺寸" in reply["description"] and "Image size" not in reply["description"]
    assert all_study_files(settings.data_path) == before


@pytest.mark.parametrize(
    "path",
    ["/report/preview", "/study/portrait", "/scp/echo", "/scp/store", "/manage/pacs"],
)
def test_a_body_that_is_not_utf8_is_a_malformed_body_not_a_500(client, auth_headers, path):
    """msgspec refuses non-UTF-8 bytes with UnicodeDecodeError (not a DecodeError): it reached the
    handler of internal errors and answered 500."""
    for lang, text in (("en_US", "not UTF-8"), ("zh_CN", "UTF-8 编码")):
        headers = {**auth_headers(language=lang), "Content-Type": "application/json"}
        r = client.post(AUTH + path, headers=headers, content=b'{"findings": "\xff\xfe", "data": "\xc3"}')
        assert r.status_code == 400, r.text
        reply = r.json()
        assert reply["code"] == "0x010002" and text in reply["description"], reply


@pytest.mark.parametrize(
    ("parts", "got"),
    [
        ([("data", ("a.png", b"1", "image/png")), ("data", ("b.png", b"2", "image/png"))], ("array", "数组")),
        ([("other", ("a", b"", "text/plain"))], ("string", "字符串")),  # `data` sent as a text field below
    ],
)
def test_post_proc_data_that_is_not_one_file_is_named_in_both_languages(client, auth_headers, parts, got):
    """Litestar's own text for this was `Unsupported type: <class 'list'>` (zh: a bare 取值无效)."""
    form = {"instance_uid": "1.2.3", "window_center": "1", "window_wdith": "2"}
    if got[0] == "string":
        form["data"] = "not a file"
    for lang, expected, text in (("en_US", "an uploaded file", got[0]), ("zh_CN", "上传的文件", got[1])):
        r = client.post(f"{AUTH}/image/post_proc", headers=auth_headers(language=lang), data=form, files=parts)
        assert r.status_code == 400, r.text
        reply = r.json()
        assert reply["data"]["field"] == "data" and expected in reply["description"] and text in reply["description"]
