"""SQL of the acquisition task: the selected image and its view, the exposure record, the image row's
acquisition results, judge and leave. Each writer runs inside the caller's transaction together with
the outbox rows of the progress messages it reports (`dros.mqtt.outbox`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from dros.mqtt import outbox
from dros.mqtt.topics import PROGRESS_TOPIC
from dros.store.db import Conn

_SLOT_COLUMNS = (
    "i.sop_instance_uid, i.series_instance_uid, i.study_id, i.view_id, i.view_description, i.body_part_id, "
    "i.anatomic_region, i.expose_status, i.judged_status, i.is_deleted AS image_deleted, i.sort, i.product, "
    "s.study_instance_uid, s.study_lock, s.is_deleted AS study_deleted, s.patient_size, s.patient_id, s.patient_name, "
    "s.patient_sex, s.patient_age, strftime(s.patient_dob, '%Y%m%d') AS patient_dob, s.weight, s.length, "
    "s.accession_number, s.ref_physician, s.study_description, s.operator_name, s.patient_type, s.owner_name, "
    "s.variety, s.sex_neutered, s.specific_character_set, "
    "strftime(s.study_start_datetime, '%Y%m%d') AS study_date, strftime(s.study_start_datetime, '%H%M%S') AS study_time, "
    "e.sort AS series_sort, e.performed_protocol_code_meaning, "
    "v.view_position, v.image_laterality, v.target_exi, v.work_station_id, v.apr_id, "
    "w.entry_json AS worklist_entry"  # the worklist order of a study registered from the worklist
)


def slot(conn: Conn, sop_uid: str) -> dict[str, Any] | None:
    """The image `sop_uid` with its study, series and view (view columns NULL if the view is gone)."""
    cur = conn.execute(
        f"SELECT {_SLOT_COLUMNS} FROM image i JOIN study s USING (study_id) "
        "JOIN series e ON e.series_instance_uid = i.series_instance_uid "
        "LEFT JOIN protocol_view v ON v.product = i.product AND v.view_id = i.view_id "
        "LEFT JOIN worklist_study w ON w.study_id = i.study_id "
        "WHERE i.sop_instance_uid = ?",
        [sop_uid],
    )
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def instance_number(conn: Conn, sop_uid: str) -> int:
    """1-based position of the image among the exposed-or-not images of its series."""
    row = conn.execute(
        "SELECT n FROM (SELECT sop_instance_uid, row_number() OVER (ORDER BY sort, create_time) AS n "
        "FROM image WHERE series_instance_uid = (SELECT series_instance_uid FROM image WHERE sop_instance_uid = ?)) "
        "WHERE sop_instance_uid = ?",
        [sop_uid, sop_uid],
    ).fetchone()
    return int(row[0]) if row else 1


class ExposureRecord(msgspec.Struct, kw_only=True):
    exposure_id: str
    sop_instance_uid: str
    study_id: str
    raw_file: str
    raw_sha256: str
    rows: int
    cols: int
    kv: float | None
    ma: float | None
    ms: float | None
    mas: float | None
    detector_id: str
    preset: str
    target_ei: float
    acquired_at: datetime


Rows = list[outbox.OutboxRow]


def _progress(conn: Conn, payloads: Sequence[bytes]) -> Rows:
    """The progress messages as outbox rows (handed to the publisher once the transaction committed)."""
    return [(outbox.enqueue(conn, PROGRESS_TOPIC, p), PROGRESS_TOPIC, p, False) for p in payloads]


def begin_exposure(conn: Conn, exposure_id: str, sop_uid: str, study_id: str, preset: str, target_ei: float,
                   now: datetime) -> None:  # fmt: skip
    """Before the first X-ray: a crash from here on is never silent (recovery fails what has no raw frame)."""
    conn.execute(
        "INSERT INTO exposure (exposure_id, sop_instance_uid, study_id, state, preset, target_ei, acquired_at) "
        "VALUES (?, ?, ?, 'exposing', ?, ?, ?)",
        [exposure_id, sop_uid, study_id, preset, target_ei, now],
    )


def discard_exposure(conn: Conn, exposure_id: str) -> None:
    """The device layer refused before any dose: there is nothing to record."""
    conn.execute("DELETE FROM exposure WHERE exposure_id = ? AND state = 'exposing'", [exposure_id])


def record_raw(conn: Conn, ex: ExposureRecord, payloads: Sequence[bytes]) -> Rows:
    """Durability point: the raw frame is on disk (fsynced); this row says so, before any progress."""
    conn.execute(
        "UPDATE exposure SET state = 'raw_kept', raw_file = ?, raw_sha256 = ?, rows = ?, cols = ?, kv = ?, ma = ?, "
        "ms = ?, mas = ?, detector_id = ?, acquired_at = ? WHERE exposure_id = ?",
        [
            ex.raw_file, ex.raw_sha256, ex.rows, ex.cols, ex.kv, ex.ma, ex.ms, ex.mas, ex.detector_id,
            ex.acquired_at, ex.exposure_id,
        ],
    )  # fmt: skip
    conn.execute("UPDATE image SET raw_file = ? WHERE sop_instance_uid = ?", [ex.raw_file, ex.sop_instance_uid])
    return _progress(conn, payloads)


def record_dose_only(conn: Conn, exposure_id: str, post: tuple[float, float, float, float] | None, detector_id: str,
                     failure: str, now: datetime, payloads: Sequence[bytes]) -> Rows:  # fmt: skip
    """An exposure that ended without a usable frame: failed with its reason, the delivered dose recorded."""
    kv, ma, ms, mas = post if post is not None else (None, None, None, None)
    conn.execute(
        "UPDATE exposure SET state = 'failed', failure = ?, kv = ?, ma = ?, ms = ?, mas = ?, detector_id = ?, "
        "finished_at = ? WHERE exposure_id = ?",
        [failure[:1000], kv, ma, ms, mas, detector_id, now, exposure_id],
    )
    return _progress(conn, payloads)


def interrupted(conn: Conn) -> list[tuple[str, str]]:
    """(exposure_id, sop) of exposures a crash interrupted before their raw frame was kept."""
    rows = conn.execute(
        "SELECT exposure_id, sop_instance_uid FROM exposure WHERE state = 'exposing' ORDER BY acquired_at"
    ).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def add_progress(conn: Conn, payloads: Sequence[bytes]) -> Rows:
    return _progress(conn, payloads)


class ImageResult(msgspec.Struct, kw_only=True):
    image_file: str
    thumbnail_file: str
    window_center: float
    window_width: float
    exposure_index: float
    target_exposure_index: float
    deviation_index: float | None


def image_gone(conn: Conn, sop_uid: str) -> bool:
    """The image was deleted (or never existed): checked inside the commit that would mark it Exposed."""
    row = conn.execute("SELECT is_deleted FROM image WHERE sop_instance_uid = ?", [sop_uid]).fetchone()
    return row is None or bool(row[0])


def commit_image(conn: Conn, ex: ExposureRecord, res: ImageResult, now: datetime, payloads: Sequence[bytes]) -> Rows:
    """Durability point: the DX and thumbnail are in place; the image row says Exposed and carries
    everything the exposure produced. The study becomes InProgress on its first exposure."""
    conn.execute(
        "UPDATE image SET expose_status = 'Exposed', storage_status = 'Saved', judged_status = 'NotJudged', "
        "reject_reason = '', image_file = ?, thumbnail_file = ?, raw_file = ?, expose_time = ?, acquisition_time = ?, "
        "window_center = ?, window_width = ?, exposure_index = ?, target_exposure_index = ?, deviation_index = ?, "
        "delivered_kv = ?, delivered_ma = ?, delivered_ms = ?, delivered_mas = ?, detector_id = ? "
        "WHERE sop_instance_uid = ?",
        [
            res.image_file, res.thumbnail_file, ex.raw_file, now, ex.acquired_at, res.window_center, res.window_width,
            res.exposure_index, res.target_exposure_index, res.deviation_index, ex.kv, ex.ma, ex.ms, ex.mas,
            ex.detector_id, ex.sop_instance_uid,
        ],
    )  # fmt: skip
    conn.execute("UPDATE exposure SET state = 'done', finished_at = ? WHERE exposure_id = ?", [now, ex.exposure_id])
    conn.execute(
        "UPDATE series SET performed_datetime = coalesce(performed_datetime, ?) "
        "WHERE series_instance_uid = (SELECT series_instance_uid FROM image WHERE sop_instance_uid = ?)",
        [ex.acquired_at, ex.sop_instance_uid],
    )
    conn.execute(
        "UPDATE study SET study_status = 'InProgress', list_row = NULL WHERE study_id = ? AND study_status = 'Arrived'",
        [ex.study_id],
    )
    return _progress(conn, payloads)


def fail_exposure(conn: Conn, exposure_id: str, reason: str, now: datetime, payloads: Sequence[bytes]) -> Rows:
    """The raw frame stays (reprocessing is possible); the image stays unexposed (a retake is possible)."""
    conn.execute(
        "UPDATE exposure SET state = 'failed', failure = ?, finished_at = ? WHERE exposure_id = ?",
        [reason[:1000], now, exposure_id],
    )
    return _progress(conn, payloads)


def unfinished(conn: Conn) -> list[ExposureRecord]:
    """Exposures whose raw frame was kept but whose image was never committed (a crash in between)."""
    cur = conn.execute(
        "SELECT exposure_id, sop_instance_uid, study_id, raw_file, raw_sha256, rows, cols, kv, ma, ms, mas, "
        "detector_id, preset, target_ei, epoch_us(acquired_at) AS acquired_at FROM exposure "
        "WHERE state = 'raw_kept' ORDER BY acquired_at"
    )
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        row["acquired_at"] = datetime.fromtimestamp(row["acquired_at"] / 1e6, UTC)
        out.append(msgspec.convert(row, ExposureRecord))
    return out


def exposure_state(conn: Conn, exposure_id: str) -> tuple[str, str] | None:
    row = conn.execute("SELECT state, failure FROM exposure WHERE exposure_id = ?", [exposure_id]).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def judge(conn: Conn, sop_uid: str, accept: bool, reason: str) -> None:
    conn.execute(
        "UPDATE image SET judged_status = ?, reject_reason = ? WHERE sop_instance_uid = ?",
        ["Accept" if accept else "Reject", "" if accept else reason, sop_uid],
    )


def study_state(conn: Conn, study_id: str) -> tuple[bool, str] | None:
    row = conn.execute("SELECT is_deleted, study_status FROM study WHERE study_id = ?", [study_id]).fetchone()
    return None if row is None else (bool(row[0]), str(row[1]))


def set_study_status(conn: Conn, study_id: str, status: str, now: datetime) -> None:
    if status == "Completed":
        conn.execute(
            "UPDATE study SET study_status = 'Completed', study_end_datetime = ?, list_row = NULL WHERE study_id = ?",
            [now, study_id],
        )
    else:
        conn.execute(
            "UPDATE study SET study_status = 'InProgress', study_end_datetime = NULL, list_row = NULL WHERE study_id = ?",
            [study_id],
        )
