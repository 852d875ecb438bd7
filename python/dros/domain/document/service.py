"""`study/portrait` and `image/post_proc`: client PNGs become DICOM instances of the study."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pydicom

from dros.domain.document import repo
from dros.domain.document.dicom_common import StudyIdentity
from dros.domain.document.dicom_derived import DerivedInstance, derived_dx
from dros.domain.document.dicom_portrait import PortraitInstance, vl_photographic
from dros.domain.document.files import dataset_bytes
from dros.domain.document.png_input import DecodedPng, decode_base64, decode_png
from dros.domain.document.store import (
    DocumentStore,
    grey_thumbnail_writer,
    live_identity,
    locked_error,
    photo_thumbnail_writer,
)
from dros.errors import DrosError, ErrorCode, invalid_param, not_found
from dros.settings import Locale
from dros.store.db import Conn

PORTRAIT_TEXT = {Locale.en_US: "Patient portrait", Locale.zh_CN: "患者照片"}


def resolve_study_id(conn: Conn, ref: str) -> str | None:
    """A study_id, a Study Instance UID, or the SOP Instance UID of one of the study's images."""
    row = conn.execute(
        "SELECT study_id FROM study WHERE (study_id = ? OR study_instance_uid = ?) AND NOT is_deleted "
        "UNION ALL SELECT i.study_id FROM image i JOIN study s ON s.study_id = i.study_id "
        "WHERE i.sop_instance_uid = ? AND NOT i.is_deleted AND NOT s.is_deleted LIMIT 1",
        [ref, ref, ref],
    ).fetchone()
    return str(row[0]) if row else None


def grey_pixels(field: str, png: DecodedPng) -> npt.NDArray[np.uint16]:
    """DX is monochrome: an RGB PNG is accepted when it is grey (R = G = B — what a canvas export of
    a grey image gives); colour content is refused rather than guessed at."""
    px = png.pixels
    if png.colour:
        if not (np.array_equal(px[..., 0], px[..., 1]) and np.array_equal(px[..., 0], px[..., 2])):
            raise invalid_param(
                field,
                "has colour content; a post-processed X-ray image must be greyscale",
                "含彩色内容；后处理的 X 线图像必须为灰度",
            )
        px = px[..., 0]
    return np.ascontiguousarray(px, dtype=np.uint16)


class DocumentService:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    # ---- study/portrait -------------------------------------------------------------------------
    async def save_portrait(self, ref: str, data: str, language: Locale) -> str:
        png = await asyncio.to_thread(lambda: decode_png("data", decode_base64("data", data), allow_16bit=False))
        pixels = png.pixels.astype(np.uint8, copy=False)
        store = self.store
        study_id = await store.db.read(lambda conn: resolve_study_id(conn, ref))
        if study_id is None:
            raise not_found("instance_uid", ref)
        async with store.locks.hold([study_id]):

            def read(conn: Conn) -> tuple[StudyIdentity, tuple[str, int, int] | None, tuple[int, int]]:
                study = live_identity(conn, study_id, "instance_uid", writable=True)
                return study, repo.document_series(conn, study_id, repo.PORTRAIT), repo.next_sorts(conn, study_id)

            study, series, (series_sort, image_sort) = await store.db.read(read)
            series_uid, series_number, count = series if series else (store.new_uid(), series_sort, 0)
            sop = store.new_uid()
            now = datetime.now().astimezone()
            description = PORTRAIT_TEXT[language]
            inst = PortraitInstance(sop, series_uid, series_number, count + 1, description)
            body = await asyncio.to_thread(
                lambda: dataset_bytes(vl_photographic(pixels, study, store.equipment, inst, now))
            )
            folder = store.study_dir(study.study_id)
            thumb = f"{sop}.webp"

            def commit(conn: Conn) -> None:
                live_identity(conn, study.study_id, "instance_uid", writable=True)  # not locked or deleted meanwhile
                if series is None:
                    repo.insert_series(
                        conn,
                        series_uid=series_uid,
                        study=study,
                        sort=series_sort,
                        meaning=description,
                        now=now.astimezone(UTC),
                    )
                repo.insert_document_image(
                    conn,
                    sop_uid=sop,
                    series_uid=series_uid,
                    study=study,
                    image_type=repo.PORTRAIT,
                    description=description,
                    sort=image_sort,
                    thumbnail=thumb,
                    comment="portrait",
                    now=now.astimezone(UTC),
                )
                repo.set_portrait(conn, study.study_id, f"{sop}.dcm")

            await store.store([(folder / f"{sop}.dcm", body), (folder / thumb, photo_thumbnail_writer(pixels))], commit)
        return f"{sop}.dcm"

    # ---- image/post_proc ------------------------------------------------------------------------
    async def save_post_proc(self, sop_uid: str, png_bytes: bytes, window_center: int, window_width: int) -> str:
        if not sop_uid or len(sop_uid) > 64:
            raise invalid_param(
                "instance_uid",
                "must be an image's SOP Instance UID (1 to 64 characters)",
                "必须为图像的 SOP Instance UID（1 到 64 个字符）",
            )
        if window_width < 1:
            raise invalid_param("window_wdith", "must be at least 1", "必须不小于 1")
        store = self.store
        src, _ = await store.db.read(lambda conn: self._source(conn, sop_uid))
        png = await asyncio.to_thread(decode_png, "data", png_bytes, allow_16bit=True)
        pixels = await asyncio.to_thread(grey_pixels, "data", png)  # full-frame compares and copy: off the loop
        maximum = (1 << png.bit_depth) - 1
        if 0 <= window_center <= maximum:
            stored_center, stored_width, note = window_center, window_width, ""
        else:
            # The window belongs to the original's values while the PNG already shows it applied
            # (an 8-bit rendering of a 14-bit image): the file gets the full range of the PNG, so it
            # displays as the client saw it; the window sent is recorded in DerivationDescription.
            stored_center, stored_width = (maximum + 1) // 2, maximum + 1
            note = "; pixels already windowed by the client"
        async with store.locks.hold([src.study_id]):
            # checked again under the study's lock: the image or its study may have gone meanwhile
            src, _ = await store.db.read(lambda conn: self._source(conn, sop_uid))
            folder = store.study_dir(src.study_id)
            original = await asyncio.to_thread(pydicom.dcmread, folder / src.image_file, stop_before_pixels=True)
            sop = store.new_uid()
            now = datetime.now().astimezone()
            count = await store.db.read(lambda conn: repo.instances_in_series(conn, src.series_instance_uid))
            inst = DerivedInstance(sop, count + 1, window_center, window_width)

            def encode() -> bytes:
                ds = derived_dx(original, pixels, png.bit_depth, inst, now)
                ds.WindowCenter, ds.WindowWidth = str(stored_center), str(stored_width)
                ds.DerivationDescription = (str(ds.DerivationDescription) + note)[:1024]
                return dataset_bytes(ds)

            body = await asyncio.to_thread(encode)
            thumb = f"{sop}.webp"

            def commit(conn: Conn) -> None:
                self._source(conn, sop_uid)  # still there, study not locked or deleted meanwhile
                repo.insert_derived_image(
                    conn,
                    sop_uid=sop,
                    src=src,
                    thumbnail=thumb,
                    comment=f"post-processed from {sop_uid}",
                    now=now.astimezone(UTC),
                )

            await store.store(
                [
                    (folder / f"{sop}.dcm", body),
                    (folder / thumb, grey_thumbnail_writer(pixels, float(stored_center), float(stored_width))),
                ],
                commit,
            )
        return f"{sop}.dcm"

    def _source(self, conn: Conn, sop_uid: str) -> tuple[repo.SourceImage, StudyIdentity]:
        src = repo.source_image(conn, sop_uid)
        if src is None:
            if resolve_study_id(conn, sop_uid) == sop_uid or repo.is_study_uid(conn, sop_uid):
                # the source describes the field as the study id; a study does not say which image
                # was processed, and the derived instance must point at exactly one
                raise invalid_param(
                    "instance_uid",
                    "names a study; send the SOP Instance UID of the image that was post-processed",
                    "为检查标识；请发送被后处理图像的 SOP Instance UID",
                )
            raise not_found("instance_uid", sop_uid)
        study = live_identity(conn, src.study_id, "instance_uid", writable=False)
        if study.study_lock == "Locked":
            raise locked_error(src.study_id, "instance_uid")
        if src.image_type in repo.DOCUMENT_TYPES or src.expose_status != "Exposed" or not src.image_file:
            raise DrosError(
                ErrorCode.UNPROCESSABLE,
                field="instance_uid",
                en="the image is not an exposed X-ray image with pixel data",
                zh="该图像不是已曝光且有像素数据的 X 线图像",
            )
        if not (self.store.study_dir(src.study_id) / src.image_file).is_file():
            raise DrosError(
                ErrorCode.UNPROCESSABLE,
                field="instance_uid",
                en="the image's DICOM file is missing",
                zh="该图像的 DICOM 文件缺失",
            )
        return src, study
