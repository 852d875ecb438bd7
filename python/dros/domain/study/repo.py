"""SQL of studies, series and images. Timestamps are formatted by DuckDB itself (UTC, `Z`,
microseconds) so rows map straight onto the reply Structs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from dros.domain.study.schemas import STUDY_STATUSES, Image, QuarantineEntry, Series, Study
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


def _expr(col: str) -> str:
    if col in _TIME_COLUMNS:
        return f"strftime({col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')"
    return col


def _select(col: str) -> str:
    expr = _expr(col)
    return col if expr == col else f"{expr} AS {col}"


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
_STUDY_ID = STUDY_COLUMNS.index("study_id")
_IMAGE_SELECT = ", ".join(_select(c) for c in IMAGE_COLUMNS)


def study_from_row(row: tuple[Any, ...], series: list[Series] | None = None) -> Study:
    values = dict(zip(STUDY_COLUMNS, row, strict=False))
    return Study(**values, series=series or [])


# The worklist row of each study: the JSON object of its `Study` columns, rendered by DuckDB whenever
# the study changes. A page is then two columns per study instead of 55: DuckDB's cost of fetching a
# handful of rows is per column (~60 µs each; a page of 10 took 3.8 ms with every column, 1.2 ms with
# one). Writers outside this module set it to NULL in the same statement (a test finds every UPDATE of
# `study`); a NULL row is read from its columns and rendered again by `refresh_stale_list_rows`.
_LIST_ROW = "to_json(struct_pack(" + ", ".join(f"{c} := {_expr(c)}" for c in STUDY_COLUMNS) + "))"
_decode_list_row = msgspec.json.Decoder(dict[str, Any]).decode


def study_from_list_row(list_row: str) -> Study:
    return Study(**_decode_list_row(list_row), series=[])


def refresh_list_rows(conn: Conn, study_ids: list[str]) -> None:
    # one `=` per study: DuckDB finds it through the key's index (4 ms against 6 ms for `IN (unnest(?))`)
    for study_id in study_ids:
        conn.execute(f"UPDATE study SET list_row = {_LIST_ROW} WHERE study_id = ?", [study_id])


def refresh_stale_list_rows(conn: Conn) -> None:
    """Renders the rows other writers marked stale (NULL); on start-up, also those of a migration."""
    conn.execute(f"UPDATE study SET list_row = {_LIST_ROW} WHERE list_row IS NULL")


def stale_list_rows(conn: Conn) -> int:
    row = conn.execute("SELECT count(*) FROM study WHERE list_row IS NULL").fetchone()
    return int(row[0]) if row else 0


# ---- writes -------------------------------------------------------------------------------


def _insert(conn: Conn, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    marks = "(" + ", ".join("?" for _ in cols) + ")"
    params: list[Any] = []
    for r in rows:
        params.extend(r[c] for c in cols)
    conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join(marks for _ in rows)}", params)


_SEARCH_SOURCES = ("patient_id", "patient_name", "patient_english_name", "patient_former_name", "accession_number")


def _with_search(values: dict[str, Any]) -> dict[str, Any]:
    """The lower-cased columns the worklist's fuzzy filters search, kept in step with the patient
    fields here, the only place that writes them."""
    if not any(k in values for k in _SEARCH_SOURCES):
        return values
    missing = [k for k in _SEARCH_SOURCES if k not in values]
    if missing:
        raise ValueError(f"search columns need every patient field; missing {missing}")
    return {
        **values,
        "search_id": f"{values['patient_id']}\x1f".lower(),
        "search_name": "\x1f".join(
            values[k] for k in ("patient_name", "patient_english_name", "patient_former_name")
        ).lower(),
        "search_acc": values["accession_number"].lower(),
    }


def insert_study(conn: Conn, row: dict[str, Any]) -> None:
    _insert(conn, "study", [_with_search(row)])
    refresh_list_rows(conn, [row["study_id"]])


def insert_series(conn: Conn, rows: list[dict[str, Any]]) -> None:
    _insert(conn, "series", rows)


def insert_images(conn: Conn, rows: list[dict[str, Any]]) -> None:
    _insert(conn, "image", rows)


def update_study(conn: Conn, study_id: str, values: dict[str, Any]) -> None:
    values = _with_search(values)
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE study SET {sets} WHERE study_id = ?", [*values.values(), study_id])
    refresh_list_rows(conn, [study_id])


def set_in_bin(conn: Conn, study_ids: list[str], in_bin: bool, now: datetime) -> None:
    """Delete to the recycle bin (in_bin) or restore from it."""
    conn.execute(
        "UPDATE study SET is_deleted = ?, deleted_at = ? WHERE study_id IN (SELECT unnest(?::VARCHAR[]))",
        [in_bin, now if in_bin else None, study_ids],
    )


def bin_study_ids(conn: Conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT study_id FROM study WHERE is_deleted").fetchall()]


# Every row keyed by a study that a permanent delete removes with it (the study's own tables, its
# report versions, its PACS send tasks — history included: the images and the patient are gone,
# and a task of a purged image could never be sent again —, its exposure records and its
# worklist/MPPS bookkeeping); `study` last.
_PURGED_WITH_STUDY = (
    "image",
    "series",
    "report_version",
    "send_task",
    "exposure",
    "worklist_study",
    "mpps_step",
    "mpps_discontinue",
    "study",
)


def purge(conn: Conn, study_ids: list[str], *, deleted_views: bool, now: datetime) -> list[tuple[str, str]]:
    """Removes the rows of `study_ids` (and, with `deleted_views`, of every deleted view of a live
    study) and journals their files for removal: [(kind, name)] as in `file_purge`."""
    views: list[str] = []
    if deleted_views:
        views = [
            r[0]
            for r in conn.execute(
                "SELECT sop_instance_uid FROM image WHERE is_deleted AND study_id NOT IN (SELECT unnest(?::VARCHAR[]))",
                [study_ids],
            ).fetchall()
        ]
    for table in _PURGED_WITH_STUDY:
        conn.execute(f"DELETE FROM {table} WHERE study_id IN (SELECT unnest(?::VARCHAR[]))", [study_ids])
    # an MPPS message not yet delivered is owed to the RIS (its data set stands alone): it stays
    # until the queue delivers it; what was delivered or refused goes with the study
    conn.execute(
        "DELETE FROM mpps_message WHERE study_id IN (SELECT unnest(?::VARCHAR[])) AND state <> 'PENDING'", [study_ids]
    )
    if views:
        for table in ("image", "send_task", "exposure"):
            conn.execute(f"DELETE FROM {table} WHERE sop_instance_uid IN (SELECT unnest(?::VARCHAR[]))", [views])
        # a purged report version keeps its number (numbers never repeat) but not its text
        conn.execute(
            "UPDATE report_version SET content = '', author = '' WHERE sop_instance_uid IN (SELECT unnest(?::VARCHAR[]))",
            [views],
        )
        conn.execute(
            "DELETE FROM series WHERE series_instance_uid NOT IN (SELECT DISTINCT series_instance_uid FROM image)"
        )
    journal = [("study", sid) for sid in study_ids] + [("view", sop) for sop in views]
    if journal:
        conn.execute(
            "INSERT OR IGNORE INTO file_purge (kind, name, queued_at) "
            "SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?",
            [[k for k, _ in journal], [n for _, n in journal], now],
        )
    return journal


def pending_purges(conn: Conn) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT kind, name FROM file_purge ORDER BY queued_at").fetchall()]


def forget_purges(conn: Conn, done: list[tuple[str, str]]) -> None:
    if done:
        conn.execute(
            "DELETE FROM file_purge WHERE (kind, name) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))",
            [[k for k, _ in done], [n for _, n in done]],
        )


def mark_appended(conn: Conn, study_id: str) -> None:
    conn.execute("UPDATE study SET is_appended = true WHERE study_id = ?", [study_id])
    refresh_list_rows(conn, [study_id])


def max_sorts(conn: Conn, study_id: str) -> tuple[int, int]:
    """The highest series and image sort of a study (0 when it has none)."""
    row = conn.execute(
        "SELECT (SELECT coalesce(max(sort), 0) FROM series WHERE study_id = ?), "
        "(SELECT coalesce(max(sort), 0) FROM image WHERE study_id = ?)",
        [study_id, study_id],
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def shift_images_after(conn: Conn, study_id: str, sort: int) -> None:
    """Makes room for a new view right after the one at `sort`."""
    conn.execute("UPDATE image SET sort = sort + 1 WHERE study_id = ? AND sort > ?", [study_id, sort])


def reorder_images(conn: Conn, study_id: str, sop_uids: list[str]) -> None:
    """Images in the given order; a series then sits where its first image sits."""
    conn.execute(
        "UPDATE image SET sort = o.pos FROM (SELECT unnest(?::VARCHAR[]) AS uid, "
        "generate_subscripts(?::VARCHAR[], 1) AS pos) o WHERE image.sop_instance_uid = o.uid",
        [sop_uids, sop_uids],
    )
    conn.execute(
        "UPDATE series SET sort = r.rank FROM (SELECT series_instance_uid, row_number() OVER (ORDER BY min(sort)) AS rank "
        "FROM image WHERE study_id = ? AND NOT is_deleted GROUP BY series_instance_uid) r "
        "WHERE series.series_instance_uid = r.series_instance_uid",
        [study_id],
    )


def mark_image_deleted(conn: Conn, sop_uid: str, now: datetime) -> None:
    conn.execute(
        "UPDATE image SET is_deleted = true, deleted_at = ? WHERE sop_instance_uid = ?",
        [now, sop_uid],
    )


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


# Ranks up to this depth come from DuckDB's `max(key, n)` aggregate (a bounded heap, ~0.5 ms per
# 100,000 rows); deeper pages fetch every matching key into NumPy (1.5-2 ms per 100,000), sorted,
# and the service keeps them for the next deep page until a write (StudyService.list_studies).
# DuckDB's Top-N operator and ORDER BY … OFFSET cost 7-13 ms per 100,000 rows instead.
HEAP_DEPTH = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _status_condition(statuses: tuple[str, ...]) -> tuple[str, list[Any]] | None:
    """study_status is an ENUM over STUDY_STATUSES (migration 0036): any subset is one `=` or one
    `<>`, which DuckDB evaluates inside the scan; an IN list is evaluated row by row after it."""
    wanted = [s for s in STUDY_STATUSES if s in statuses]
    others = [s for s in STUDY_STATUSES if s not in statuses]
    if not others:
        return None
    if len(wanted) == 1:
        return "study_status = ?", wanted
    if len(others) == 1:
        return "study_status <> ?", others
    return "study_status IN (SELECT unnest(?::VARCHAR[]))", [wanted]


def _list_where(f: ListFilter, deleted: bool) -> tuple[str, list[Any]]:
    where = ["is_deleted = ?"]
    params: list[Any] = [deleted]
    for column, text in (("search_id", f.id), ("search_name", f.name), ("search_acc", f.acc_no)):
        if text:
            where.append(f"contains({column}, ?)")
            params.append(text.lower())
    if f.start is not None:
        where.append("study_start_datetime >= ?")
        params.append(f.start)
    if f.end is not None:
        where.append("study_start_datetime <= ?")
        params.append(f.end)
    if f.statuses is not None:
        status = _status_condition(f.statuses)
        if status is not None:
            where.append(status[0])
            params.extend(status[1])
    if f.product:
        where.append("product = ?")
        params.append(f.product)
    return " AND ".join(where), params


@contextmanager
def read_snapshot(conn: Conn) -> Iterator[Conn]:
    """Several reads that must agree (a count and its page) in one transaction: one snapshot."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")


class StudyPage(NamedTuple):
    total: int
    studies: list[Study]
    stale: int  # rows of the page read from their columns: their list row was marked stale
    # every matching study's sort key, ascending, when this read fetched them (a deep page): the
    # caller may keep them as the filter's index while the database generation stays the same
    keys: SortKeys | None = None


SortKeys = npt.NDArray[np.int64]


def list_studies(
    conn: Conn, f: ListFilter, *, deleted: bool, page: int, page_size: int, keys: SortKeys | None = None
) -> StudyPage:
    """The count and one page, newest first (bin: most recently deleted first), study_id breaking
    ties — from one snapshot. The ranks of the page come from the sort keys (`key` = microseconds
    of the sort column): a bounded heap in DuckDB for the first pages, every key otherwise; then the
    list rows whose key lies within the page's key range.

    `keys`: the filter's sort keys as an earlier read returned them. The page is then read without
    a transaction, and only the caller can tell whether that is one snapshot: it must check that no
    write committed between that earlier read and the end of this one (`Database.generation`)."""
    where, params = _list_where(f, deleted)
    column = "deleted_at" if deleted else "study_start_datetime"
    offset = (page - 1) * page_size
    depth = offset + page_size
    if keys is not None:
        return _page_of(conn, where, params, column, keys, offset, page_size)
    with read_snapshot(conn):
        if depth <= HEAP_DEPTH:
            row = conn.execute(
                f"SELECT count(*), max(epoch_us({column}), {depth}) FROM study WHERE {where}", params
            ).fetchone()
            total, top = (int(row[0]), list(row[1] or [])) if row else (0, [])
            if offset >= total:
                return StudyPage(total, [], 0)
            high, low = top[offset], top[min(depth, total) - 1]
            above = top.index(high)  # keys sorted descending: how many rank before the first `high`
            return _rows_between(conn, where, params, column, total, high, low, offset - above, page_size)
        keys = sort_keys(conn, f, deleted=deleted)
        return _page_of(conn, where, params, column, keys, offset, page_size)._replace(keys=keys)


def sort_keys(conn: Conn, f: ListFilter, *, deleted: bool) -> SortKeys:
    """Every matching study's sort key (µs of the list's sort column), ascending."""
    where, params = _list_where(f, deleted)
    column = "deleted_at" if deleted else "study_start_datetime"
    keys = conn.execute(f"SELECT epoch_us({column}) AS k FROM study WHERE {where}", params).fetchnumpy()["k"]
    # nearly in order already (studies arrive in time order): the stable sort (timsort) is quick on that
    return np.sort(np.asarray(keys, dtype=np.int64), kind="stable")


def _page_of(
    conn: Conn, where: str, params: list[Any], column: str, keys: SortKeys, offset: int, page_size: int
) -> StudyPage:
    total = len(keys)
    if offset >= total:
        return StudyPage(total, [], 0)
    first, last = total - 1 - offset, max(0, total - offset - page_size)  # ascending positions
    high, low = int(keys[first]), int(keys[last])
    above = total - int(np.searchsorted(keys, high, side="right"))  # how many rank before the first `high`
    return _rows_between(conn, where, params, column, total, high, low, offset - above, page_size)


def _rows_between(
    conn: Conn,
    where: str,
    params: list[Any],
    column: str,
    total: int,
    high: int,
    low: int,
    skip: int,
    page_size: int,
) -> StudyPage:
    """The page: the rows with keys in [low, high], newest first, after the first `skip` of them."""
    rows = conn.execute(
        f"SELECT epoch_us({column}), study_id, list_row FROM study WHERE {where} AND {column} BETWEEN ? AND ?",
        [*params, _EPOCH + timedelta(microseconds=low), _EPOCH + timedelta(microseconds=high)],
    ).fetchall()
    # a handful of rows: sorted here, which spares DuckDB a sort
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    rows = rows[skip : skip + page_size]
    stale = [r[1] for r in rows if r[2] is None]
    by_id: dict[str, Study] = {}
    if stale:
        by_id = {
            r[_STUDY_ID]: study_from_row(r)
            for r in conn.execute(
                f"SELECT {_STUDY_SELECT} FROM study WHERE study_id IN (SELECT unnest(?::VARCHAR[]))", [stale]
            ).fetchall()
        }
    studies = [by_id[r[1]] if r[2] is None else study_from_list_row(r[2]) for r in rows]
    return StudyPage(total, studies, len(stale))


# the columns of a view slot that a copy of it (image/copy, image/save_as) starts from
SLOT_COLUMNS = (
    "sop_instance_uid",
    "series_instance_uid",
    "study_id",
    "view_id",
    "view_description",
    "patient_type",
    "body_part_id",
    "anatomic_region",
    "sort",
    "product",
    "is_pre_install",
    "expose_status",
    "image_file",
    "thumbnail_file",
    "raw_file",
    "judged_status",
    "comment",
)


def image_slot(conn: Conn, sop_uid: str) -> dict[str, Any] | None:
    """A live (not deleted) view slot's columns as in SLOT_COLUMNS."""
    row = conn.execute(
        f"SELECT {', '.join(SLOT_COLUMNS)} FROM image WHERE sop_instance_uid = ? AND NOT is_deleted", [sop_uid]
    ).fetchone()
    return dict(zip(SLOT_COLUMNS, row, strict=True)) if row else None


def live_image_uids(conn: Conn, study_id: str) -> set[str]:
    rows = conn.execute(
        "SELECT sop_instance_uid FROM image WHERE study_id = ? AND NOT is_deleted", [study_id]
    ).fetchall()
    return {r[0] for r in rows}


# ---- files: the start-up repair --------------------------------------------------------------


def file_owners(conn: Conn) -> tuple[dict[str, bool], dict[str, tuple[str, bool]]]:
    """{study_id: is_deleted} and {sop_instance_uid: (study_id, is_deleted)} of every row."""
    studies = {r[0]: bool(r[1]) for r in conn.execute("SELECT study_id, is_deleted FROM study").fetchall()}
    views = {
        r[0]: (r[1], bool(r[2]))
        for r in conn.execute("SELECT sop_instance_uid, study_id, is_deleted FROM image").fetchall()
    }
    return studies, views


def record_quarantine(conn: Conn, entries: list[QuarantineEntry]) -> None:
    for e in entries:
        conn.execute(
            "INSERT INTO file_quarantine (quarantined_at, original_path, quarantine_path, kind, files, bytes, reason) "
            "VALUES (?::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?)",
            [e.quarantined_at, e.original_path, e.quarantine_path, e.kind, e.files, e.bytes, e.reason],
        )


def list_quarantine(conn: Conn, limit: int = 1000) -> list[QuarantineEntry]:
    """What the start-up repair set aside (newest first): for service users, who decide whether
    to restore or remove it."""
    rows = conn.execute(
        "SELECT strftime(quarantined_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ'), original_path, "
        "quarantine_path, kind, files, bytes, reason FROM file_quarantine ORDER BY id DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [QuarantineEntry(*r) for r in rows]


def stat(conn: Conn, study_ids: list[str]) -> tuple[int, int]:
    """(images, exposed images) of the live views of `study_ids`."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE expose_status = 'Exposed') FROM image "
        "WHERE study_id IN (SELECT unnest(?::VARCHAR[])) AND NOT is_deleted",
        [study_ids],
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def max_study_id(conn: Conn) -> str | None:
    row = conn.execute("SELECT max(study_id) FROM study WHERE length(study_id) = 15").fetchone()
    return str(row[0]) if row and row[0] is not None else None
