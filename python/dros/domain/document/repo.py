"""SQL of the study's document instances: the study identity they repeat, the source image of a
post-processed one, and the series/image rows that list them in the study (same tables and
conventions as the views: one `image` row per SOP instance, files named `<sop>.dcm`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dros.domain.document.dicom_common import StudyIdentity
from dros.store.db import Conn

# image_type of the rows this module adds (the views are 'expose'; save_as copies 'save_as')
REPORT, PORTRAIT, POST_PROC = "report", "portrait", "post_proc"
DOCUMENT_TYPES = (REPORT, PORTRAIT)

_IDENTITY = (
    "study_id, study_instance_uid, product, patient_id, patient_name, patient_sex, patient_age, epoch(patient_dob), "
    "accession_number, ref_physician, epoch(study_start_datetime), study_description, patient_type, owner_name, "
    "variety, sex_neutered, study_lock"
)


def study_identity(conn: Conn, study_id: str) -> StudyIdentity | None:
    """None for an unknown study and for one in the recycle bin."""
    row = conn.execute(f"SELECT {_IDENTITY} FROM study WHERE study_id = ? AND NOT is_deleted", [study_id]).fetchone()
    return StudyIdentity(*row) if row else None


@dataclass(frozen=True)
class SourceImage:
    sop_instance_uid: str
    series_instance_uid: str
    study_id: str
    view_id: str
    view_description: str
    patient_type: str
    body_part_id: str
    anatomic_region: str
    sort: int
    product: str
    is_pre_install: bool
    expose_status: str
    image_file: str
    image_type: str


def is_study_uid(conn: Conn, uid: str) -> bool:
    row = conn.execute("SELECT count(*) FROM study WHERE study_instance_uid = ? AND NOT is_deleted", [uid]).fetchone()
    return bool(row and row[0])


def source_image(conn: Conn, sop_uid: str) -> SourceImage | None:
    row = conn.execute(
        "SELECT sop_instance_uid, series_instance_uid, study_id, view_id, view_description, patient_type, body_part_id, "
        "anatomic_region, sort, product, is_pre_install, expose_status, image_file, image_type "
        "FROM image WHERE sop_instance_uid = ? AND NOT is_deleted",
        [sop_uid],
    ).fetchone()
    return SourceImage(*row) if row else None


@dataclass(frozen=True)
class ReportImageRow:
    sop_instance_uid: str
    thumbnail_file: str
    view_description: str
    image_file: str


def accepted_thumbnails(conn: Conn, study_id: str, limit: int) -> list[ReportImageRow]:
    """The study's accepted X-ray images with a thumbnail, in the study's order. Images not judged
    yet count too (a console that does not ask for judgement leaves them NotJudged); rejected do not."""
    rows = conn.execute(
        "SELECT sop_instance_uid, thumbnail_file, view_description, image_file FROM image "
        "WHERE study_id = ? AND NOT is_deleted AND expose_status = 'Exposed' AND judged_status IN ('Accept', 'NotJudged') "
        "AND thumbnail_file <> '' AND image_type NOT IN (SELECT unnest(?::VARCHAR[])) ORDER BY sort, create_time LIMIT ?",
        [study_id, list(DOCUMENT_TYPES), limit],
    ).fetchall()
    return [ReportImageRow(*r) for r in rows]


def document_series(conn: Conn, study_id: str, image_type: str) -> tuple[str, int, int] | None:
    """(series UID, series sort, instances so far) of the study's series holding `image_type` rows."""
    row = conn.execute(
        "SELECT s.series_instance_uid, s.sort, count(i.sop_instance_uid) FROM series s JOIN image i "
        "ON i.series_instance_uid = s.series_instance_uid WHERE s.study_id = ? AND i.image_type = ? "
        "GROUP BY s.series_instance_uid, s.sort ORDER BY s.sort LIMIT 1",
        [study_id, image_type],
    ).fetchone()
    return (row[0], int(row[1]), int(row[2])) if row else None


def next_sorts(conn: Conn, study_id: str) -> tuple[int, int]:
    row = conn.execute(
        "SELECT (SELECT coalesce(max(sort), 0) FROM series WHERE study_id = ?), "
        "(SELECT coalesce(max(sort), 0) FROM image WHERE study_id = ?)",
        [study_id, study_id],
    ).fetchone()
    assert row is not None  # an aggregate always answers one row
    return int(row[0]) + 1, int(row[1]) + 1


def _insert(conn: Conn, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def insert_series(conn: Conn, *, series_uid: str, study: StudyIdentity, sort: int, meaning: str, now: datetime) -> None:
    _insert(
        conn,
        "series",
        {
            "series_instance_uid": series_uid,
            "study_id": study.study_id,
            "procedure_id": "",
            "patient_type": study.patient_type,
            "body_part": "",
            "performed_protocol_code_meaning": meaning,
            "performed_protocol_code_value": "",
            "sort": sort,
            "product": study.product,
            "is_pre_install": False,
            "create_time": now,
        },
    )


def insert_document_image(
    conn: Conn,
    *,
    sop_uid: str,
    series_uid: str,
    study: StudyIdentity,
    image_type: str,
    description: str,
    sort: int,
    thumbnail: str,
    comment: str,
    now: datetime,
) -> None:
    """A document instance as an image row: Exposed and Saved (it has its file), no view."""
    _insert(
        conn,
        "image",
        {
            "sop_instance_uid": sop_uid,
            "series_instance_uid": series_uid,
            "study_id": study.study_id,
            "view_id": "",
            "view_description": description,
            "patient_type": study.patient_type,
            "body_part_id": "",
            "image_type": image_type,
            "image_file": f"{sop_uid}.dcm",
            "thumbnail_file": thumbnail,
            "acquisition_mode": "",
            "comment": comment,
            "expose_status": "Exposed",
            "expose_time": now,
            "judged_status": "Accept",
            "storage_status": "Saved",
            "sort": sort,
            "product": study.product,
            "is_pre_install": False,
            "create_time": now,
        },
    )


def insert_derived_image(
    conn: Conn, *, sop_uid: str, src: SourceImage, thumbnail: str, comment: str, now: datetime
) -> None:
    """The post-processed instance right after its original in the same series."""
    conn.execute("UPDATE image SET sort = sort + 1 WHERE study_id = ? AND sort > ?", [src.study_id, src.sort])
    _insert(
        conn,
        "image",
        {
            "sop_instance_uid": sop_uid,
            "series_instance_uid": src.series_instance_uid,
            "study_id": src.study_id,
            "view_id": src.view_id,
            "view_description": src.view_description,
            "patient_type": src.patient_type,
            "body_part_id": src.body_part_id,
            "anatomic_region": src.anatomic_region,
            "image_type": POST_PROC,
            "image_file": f"{sop_uid}.dcm",
            "thumbnail_file": thumbnail,
            "comment": comment,
            "expose_status": "Exposed",
            "expose_time": now,
            "judged_status": "NotJudged",
            "storage_status": "Saved",
            "sort": src.sort + 1,
            "product": src.product,
            "is_pre_install": src.is_pre_install,
            "create_time": now,
        },
    )


def set_portrait(conn: Conn, study_id: str, file_name: str) -> None:
    conn.execute(
        "UPDATE study SET portrait_status = 'Saved', portrait_file = ?, list_row = NULL WHERE study_id = ?",
        [file_name, study_id],
    )


def instances_in_series(conn: Conn, series_uid: str) -> int:
    row = conn.execute("SELECT count(*) FROM image WHERE series_instance_uid = ?", [series_uid]).fetchone()
    assert row is not None  # an aggregate always answers one row
    return int(row[0])
