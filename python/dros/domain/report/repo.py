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


def latest_version(conn: Conn, study_id: str) -> ReportVersion | None:
    row = conn.execute(
        "SELECT study_id, version, sop_instance_uid, series_instance_uid, pdf_file FROM report_version "
        "WHERE study_id = ? ORDER BY version DESC LIMIT 1",
        [study_id],
    ).fetchone()
    return ReportVersion(*row) if row else None


def version(conn: Conn, study_id: str, number: int) -> ReportVersion | None:
    row = conn.execute(
        "SELECT study_id, version, sop_instance_uid, series_instance_uid, pdf_file FROM report_version "
        "WHERE study_id = ? AND version = ?",
        [study_id, number],
    ).fetchone()
    return ReportVersion(*row) if row else None


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
