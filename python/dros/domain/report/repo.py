"""SQL of saved report versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dros.store.db import Conn


@dataclass(frozen=True)
class ReportVersion:
    study_id: str
    version: int
    sop_instance_uid: str
    series_instance_uid: str
    pdf_file: str


# A version is shown while its DICOM instance is in the study: deleting that instance (DELETE
# image/{sop}, the recycle bin for views) withdraws the version; the numbers never repeat.
_VISIBLE = (
    "SELECT r.study_id, r.version, r.sop_instance_uid, r.series_instance_uid, r.pdf_file FROM report_version r "
    "JOIN image i ON i.sop_instance_uid = r.sop_instance_uid AND NOT i.is_deleted WHERE r.study_id = ?"
)


def latest_version(conn: Conn, study_id: str) -> ReportVersion | None:
    row = conn.execute(f"{_VISIBLE} ORDER BY r.version DESC LIMIT 1", [study_id]).fetchone()
    return ReportVersion(*row) if row else None


def version(conn: Conn, study_id: str, number: int) -> ReportVersion | None:
    row = conn.execute(f"{_VISIBLE} AND r.version = ?", [study_id, number]).fetchone()
    return ReportVersion(*row) if row else None


def last_number(conn: Conn, study_id: str) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM report_version WHERE study_id = ?", [study_id]).fetchone()
    assert row is not None  # an aggregate always answers one row
    return int(row[0])


def insert_version(
    conn: Conn, v: ReportVersion, *, product: str, language: str, content: str, author: str, now: datetime
) -> None:
    conn.execute(
        "INSERT INTO report_version (study_id, version, sop_instance_uid, series_instance_uid, product, language, "
        "content, pdf_file, author, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            v.study_id,
            v.version,
            v.sop_instance_uid,
            v.series_instance_uid,
            product,
            language,
            content,
            v.pdf_file,
            author,
            now,
        ],
    )
