"""SQL of studies, series and images. Timestamps are formatted by DuckDB itself (UTC, `Z`,
microseconds) so rows map straight onto the reply Structs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from dros.domain.study.schemas import Image, Series, Study
from dros.store.db import Conn

_TIME_COLUMNS = {
    "patient_dob",
    "admitting_time",
    "study_start_datetime",
    "study_end_datetime",
    "scheduled_procedure_step_start_date",
    "create_time",
    "performed_datetime",
    "expose_time",
}


def _select(col: str) -> str:
    if col in _TIME_COLUMNS:
        return f"strftime({col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS {col}"
    return col


def _fields(struct: type[msgspec.Struct], skip: Iterable[str]) -> list[str]:
    skip = set(skip)
    return [f.name for f in msgspec.structs.fields(struct) if f.name not in skip]


STUDY_COLUMNS = _fields(Study, {"type_", "series"})
SERIES_COLUMNS = list(_fields(Series, {"images", "study_instance_uid"}))
IMAGE_COLUMNS = list(
    _fields(
        Image,
        {
            "study_instance_uid",
            "image_file_path",
            "acquisition_context",
            "img_proc_context",
            "raw_exists",
            "ticket",
            "image_status",
        },
    )
)
_STUDY_SELECT = ", ".join(_select(c) for c in STUDY_COLUMNS)
_SERIES_SELECT = ", ".join(_select(c) for c in SERIES_COLUMNS)
_IMAGE_SELECT = ", ".join(_select(c) for c in IMAGE_COLUMNS)


def study_from_row(row: tuple[Any, ...], series: list[Series] | None = None) -> Study:
    values = dict(zip(STUDY_COLUMNS, row, strict=False))
    return Study(**values, series=series or [])


# ---- writes -------------------------------------------------------------------------------


def insert_row(conn: Conn, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def insert_rows(conn: Conn, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    marks = "(" + ", ".join("?" for _ in cols) + ")"
    params: list[Any] = []
    for r in rows:
        params.extend(r[c] for c in cols)
    conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join(marks for _ in rows)}", params)


def update_study(conn: Conn, study_id: str, values: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE study SET {sets} WHERE study_id = ?", [*values.values(), study_id])


# ---- reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyState:
    study_id: str
    study_instance_uid: str
    product: str
    patient_type: str
    study_lock: str
    is_deleted: bool


def study_state(conn: Conn, study_id: str) -> StudyState | None:
    row = conn.execute(
        "SELECT study_id, study_instance_uid, product, patient_type, study_lock, is_deleted FROM study WHERE study_id = ?",
        [study_id],
    ).fetchone()
    return StudyState(*row) if row else None


def study_states(conn: Conn, study_ids: list[str]) -> dict[str, StudyState]:
    rows = conn.execute(
        "SELECT study_id, study_instance_uid, product, patient_type, study_lock, is_deleted FROM study "
        "WHERE study_id IN (SELECT unnest(?::VARCHAR[]))",
        [study_ids],
    ).fetchall()
    return {r[0]: StudyState(*r) for r in rows}


def load_study(conn: Conn, study_id: str, *, deleted: bool) -> Study | None:
    row = conn.execute(
        f"SELECT {_STUDY_SELECT} FROM study WHERE study_id = ? AND is_deleted = ?", [study_id, deleted]
    ).fetchone()
    if row is None:
        return None
    study = study_from_row(row)
    study.series = load_series(conn, study_id, study.study_instance_uid)
    return study


def load_series(
    conn: Conn, study_id: str, study_uid: str, only: set[str] | None = None, only_images: set[str] | None = None
) -> list[Series]:
    series_rows = conn.execute(
        f"SELECT {_SERIES_SELECT} FROM series WHERE study_id = ? ORDER BY sort, create_time", [study_id]
    ).fetchall()
    image_rows = conn.execute(
        f"SELECT {_IMAGE_SELECT} FROM image WHERE study_id = ? AND NOT is_deleted ORDER BY sort, create_time",
        [study_id],
    ).fetchall()
    by_series: dict[str, list[Image]] = {}
    for r in image_rows:
        values = dict(zip(IMAGE_COLUMNS, r, strict=False))
        if only_images is not None and values["sop_instance_uid"] not in only_images:
            continue
        img = Image(
            **values,
            study_instance_uid=study_uid,
            image_file_path="",
            acquisition_context=None,
            img_proc_context=None,
            raw_exists=False,
            ticket="",
        )
        by_series.setdefault(img.series_instance_uid, []).append(img)
    out = []
    for r in series_rows:
        values = dict(zip(SERIES_COLUMNS, r, strict=False))
        if only is not None and values["series_instance_uid"] not in only:
            continue
        images = by_series.get(values["series_instance_uid"], [])
        if not images and only is None:
            continue  # every view of it was deleted
        out.append(Series(**values, study_instance_uid=study_uid, images=images))
    return out


@dataclass(frozen=True)
class ListFilter:
    id: str | None = None
    name: str | None = None
    acc_no: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] | None = None
    product: str | None = None


def list_studies(conn: Conn, f: ListFilter, *, deleted: bool, page: int, page_size: int) -> tuple[int, list[Study]]:
    where = ["is_deleted = ?"]
    params: list[Any] = [deleted]
    if f.id:
        where.append("contains(search_id, ?)")
        params.append(f.id.lower())
    if f.name:
        where.append("contains(search_name, ?)")
        params.append(f.name.lower())
    if f.acc_no:
        where.append("contains(search_acc, ?)")
        params.append(f.acc_no.lower())
    if f.start is not None:
        where.append("study_start_datetime >= ?")
        params.append(f.start)
    if f.end is not None:
        where.append("study_start_datetime <= ?")
        params.append(f.end)
    if f.statuses:
        where.append("study_status IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.statuses))
    if f.product:
        where.append("product = ?")
        params.append(f.product)
    order = "deleted_at DESC, study_id DESC" if deleted else "study_start_datetime DESC, study_id DESC"
    where_sql = " AND ".join(where)
    # Two cheap queries beat one window query: the count is a filtered scan, the page a top-N on
    # two columns; only the page's rows are then formatted in full.
    total = conn.execute(f"SELECT count(*) FROM study WHERE {where_sql}", params).fetchone()[0]
    if total == 0 or (page - 1) * page_size >= total:
        return total, []
    page_ids = [
        r[0]
        for r in conn.execute(
            f"SELECT study_id FROM study WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, page_size, (page - 1) * page_size],
        ).fetchall()
    ]
    rows = conn.execute(
        f"SELECT {_STUDY_SELECT} FROM study WHERE study_id IN (SELECT unnest(?::VARCHAR[]))", [page_ids]
    ).fetchall()
    by_id = {r[STUDY_COLUMNS.index("study_id")]: r for r in rows}
    return total, [study_from_row(by_id[i]) for i in page_ids]


def stat(conn: Conn, study_ids: list[str]) -> tuple[int, int]:
    total, exposed = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE expose_status = 'Exposed') FROM image "
        "WHERE study_id IN (SELECT unnest(?::VARCHAR[])) AND NOT is_deleted",
        [study_ids],
    ).fetchone()
    return total, exposed


def max_study_id(conn: Conn) -> str | None:
    row = conn.execute("SELECT max(study_id) FROM study WHERE length(study_id) = 15").fetchone()
    return row[0] if row else None
