"""SQL of PACS nodes and the send queue. One row per (image, node) in `send_task`; every change of a
task goes through here, inside the caller's transaction (the single writer), so the uniqueness rules
hold without unique indexes and the image's `send_status` follows its tasks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from dros.domain.pacs.schemas import Node, NodeParams, QueueEntry, node_params, params_json
from dros.store.db import Conn

PENDING, SENDING, COMPLETED, COMMITTED, FAILED = "PENDING", "SENDING", "COMPLETED", "COMMITTED", "FAILED"
ACTIVE = (PENDING, SENDING)
AUTO, MANUAL = "auto", "manual"

_NODE_COLUMNS = "id, name, type, address, port, aet, aec, is_enabled, is_default, params"


def uuid7() -> str:
    """A time-ordered UUID (version 7, RFC 9562), as the reference's task ids are."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64 | 0b10 << 62 | (rand & (2**62 - 1))
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# -- nodes -----------------------------------------------------------------------------------------
def _node(row: Sequence[Any]) -> Node:
    return Node(
        id=row[0],
        name=row[1],
        type=row[2],
        address=row[3],
        port=row[4],
        aet=row[5],
        aec=row[6],
        is_enabled=row[7],
        is_default=row[8],
        params=node_params(row[9]),
    )


def list_nodes(conn: Conn, *, enabled_only: bool = False) -> list[Node]:
    where = "WHERE is_enabled" if enabled_only else ""
    rows = conn.execute(f"SELECT {_NODE_COLUMNS} FROM pacs_node {where} ORDER BY id DESC").fetchall()
    return [_node(r) for r in rows]


def get_node(conn: Conn, node_id: int) -> Node | None:
    row = conn.execute(f"SELECT {_NODE_COLUMNS} FROM pacs_node WHERE id = ?", [node_id]).fetchone()
    return _node(row) if row else None


def node_by_name(conn: Conn, name: str) -> Node | None:
    """Names are unique without regard to case (`pacs_name` refers to nodes by name)."""
    row = conn.execute(f"SELECT {_NODE_COLUMNS} FROM pacs_node WHERE lower(name) = lower(?)", [name]).fetchone()
    return _node(row) if row else None


def insert_node(conn: Conn, fields: dict[str, Any], params: NodeParams, now: datetime) -> int:
    row = conn.execute(
        "INSERT INTO pacs_node (name, type, address, port, aet, aec, is_enabled, is_default, params, create_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [
            fields["name"],
            fields["type"],
            fields["address"],
            fields["port"],
            fields["aet"],
            fields["aec"],
            fields["is_enabled"],
            fields["is_default"],
            params_json(params),
            now,
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def update_node(conn: Conn, node_id: int, fields: dict[str, Any], params: NodeParams) -> None:
    conn.execute(
        "UPDATE pacs_node SET name = ?, type = ?, address = ?, port = ?, aet = ?, aec = ?, is_enabled = ?, "
        "is_default = ?, params = ? WHERE id = ?",
        [
            fields["name"],
            fields["type"],
            fields["address"],
            fields["port"],
            fields["aet"],
            fields["aec"],
            fields["is_enabled"],
            fields["is_default"],
            params_json(params),
            node_id,
        ],
    )
    # the queue shows the node's current name
    conn.execute("UPDATE send_task SET destination = ? WHERE node_id = ?", [fields["name"], node_id])
    render(conn, node_id=node_id)


def active_task_count(conn: Conn, node_id: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM send_task WHERE node_id = ? AND status IN ('PENDING', 'SENDING')", [node_id]
    ).fetchone()
    return int(row[0]) if row else 0


def delete_node(conn: Conn, node_id: int) -> None:
    conn.execute("DELETE FROM pacs_node WHERE id = ?", [node_id])


# -- queueing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Queued:
    task_id: str
    status: str
    new: bool  # created or put back to PENDING by this call


def _patient(conn: Conn, study_id: str) -> tuple[str, str]:
    row = conn.execute("SELECT patient_name, patient_id FROM study WHERE study_id = ?", [study_id]).fetchone()
    return (row[0], row[1]) if row else ("", "")


def enqueue(conn: Conn, sop_uids: Iterable[str], node: Node, origin: str, now: datetime) -> list[Queued]:
    """Queue images for a node: one task per (image, node). An active task is reused as it is; a
    finished one is sent again when a user asks (`manual`), while automatic sending only retries a
    FAILED one and never re-sends what the node already has."""
    out: list[Queued] = []
    touched: list[str] = []
    rendered: list[str] = []
    for sop in sop_uids:
        img = conn.execute("SELECT study_id FROM image WHERE sop_instance_uid = ?", [sop]).fetchone()
        if img is None:
            continue
        existing = conn.execute(
            "SELECT task_id, status FROM send_task WHERE sop_instance_uid = ? AND node_id = ?", [sop, node.id]
        ).fetchone()
        if existing is not None:
            task_id, status = existing
            if status in ACTIVE or (origin == AUTO and status != FAILED):
                out.append(Queued(task_id, status, False))
                continue
            conn.execute(
                "UPDATE send_task SET status = 'PENDING', attempts = 0, next_attempt_at = ?, updated_at = ?, "
                "start_time = ?, end_time = NULL, error = '', commit_uid = '', origin = ? WHERE task_id = ?",
                [now, now, now, origin, task_id],
            )
            out.append(Queued(task_id, PENDING, True))
            rendered.append(task_id)
        else:
            task_id = uuid7()
            name, pid = _patient(conn, img[0])
            conn.execute(
                "INSERT INTO send_task (task_id, sop_instance_uid, study_id, node_id, destination, patient_name, "
                "patient_id, origin, status, next_attempt_at, start_time, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)",
                [task_id, sop, img[0], node.id, node.name, name, pid, origin, now, now, now],
            )
            out.append(Queued(task_id, PENDING, True))
            rendered.append(task_id)
        touched.append(sop)
    render(conn, rendered)
    refresh_send_status(conn, touched)
    return out


def sendable_images(conn: Conn, study_id: str, *, accepted_only: bool) -> list[str]:
    """Exposed images with a file, in study order. Automatic sending takes accepted ones only;
    a rejected image is never sent automatically."""
    judged = "AND judged_status = 'Accept'" if accepted_only else ""
    rows = conn.execute(
        "SELECT sop_instance_uid FROM image WHERE study_id = ? AND NOT is_deleted AND expose_status = 'Exposed' "
        f"AND image_file <> '' {judged} ORDER BY sort",
        [study_id],
    ).fetchall()
    return [r[0] for r in rows]


def enqueue_completed_study(conn: Conn, study_id: str, now: datetime | None = None) -> int:
    """Automatic sending: queue the accepted images of a study that was just completed for every
    enabled default node, inside the caller's transaction. Returns the number of tasks created or
    put back to PENDING (images already delivered to a node are not sent again). The send worker
    polls for due tasks, so they leave within about a second of the commit."""
    now = now or datetime.now(UTC)
    row = conn.execute("SELECT is_deleted FROM study WHERE study_id = ?", [study_id]).fetchone()
    if row is None or row[0]:
        return 0
    sops = sendable_images(conn, study_id, accepted_only=True)
    if not sops:
        return 0
    count = 0
    for node in list_nodes(conn, enabled_only=True):
        if node.is_default and "storage" in node.params.roles:  # worklist/MPPS-only nodes take no images
            count += sum(1 for q in enqueue(conn, sops, node, AUTO, now) if q.new)
    return count


def refresh_send_status(conn: Conn, sop_uids: Iterable[str]) -> None:
    """image.send_status summarises the image's tasks: Sending while any is queued or running,
    else Failed if any failed, else Committed if every one is committed, else Sent; Unsent without tasks."""
    sops = sorted(set(sop_uids))
    if not sops:
        return
    conn.execute(
        "UPDATE image SET send_status = s.summary FROM ("
        " SELECT u.sop, CASE"
        "  WHEN count(t.task_id) = 0 THEN 'Unsent'"
        "  WHEN bool_or(t.status IN ('PENDING', 'SENDING')) THEN 'Sending'"
        "  WHEN bool_or(t.status = 'FAILED') THEN 'Failed'"
        "  WHEN bool_and(t.status = 'COMMITTED') THEN 'Committed'"
        "  ELSE 'Sent' END AS summary"
        " FROM (SELECT unnest(?::VARCHAR[]) AS sop) u LEFT JOIN send_task t ON t.sop_instance_uid = u.sop"
        " GROUP BY u.sop) s WHERE image.sop_instance_uid = s.sop",
        [sops],
    )


# -- the worker's side -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    task_id: str
    sop_instance_uid: str
    study_id: str
    attempts: int
    image_file: str  # "" when the image or its file is gone
    in_bin: bool  # the study is in the recycle bin (its files live there)


def reset_interrupted(conn: Conn, now: datetime) -> int:
    """After a crash or restart: tasks caught in SENDING go back to PENDING and are sent again
    (a store of an instance the peer already has is harmless)."""
    rows = conn.execute(
        "UPDATE send_task SET status = 'PENDING', next_attempt_at = ?, updated_at = ? WHERE status = 'SENDING' "
        "RETURNING sop_instance_uid, task_id",
        [now, now],
    ).fetchall()
    render(conn, [r[1] for r in rows])
    refresh_send_status(conn, [r[0] for r in rows])
    return len(rows)


def due_counts(conn: Conn, now: datetime) -> dict[int, int]:
    """Due PENDING tasks per enabled node."""
    rows = conn.execute(
        "SELECT t.node_id, count(*) FROM send_task t JOIN pacs_node n ON n.id = t.node_id "
        "WHERE t.status = 'PENDING' AND t.next_attempt_at <= ? AND n.is_enabled GROUP BY t.node_id",
        [now],
    ).fetchall()
    return {int(r[0]): int(r[1]) for r in rows}


def next_due(conn: Conn) -> float | None:
    """Unix time of the earliest PENDING task of an enabled node (epoch seconds: no tz objects)."""
    row = conn.execute(
        "SELECT epoch(min(t.next_attempt_at)) FROM send_task t JOIN pacs_node n ON n.id = t.node_id "
        "WHERE t.status = 'PENDING' AND n.is_enabled"
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def claim(conn: Conn, node_id: int, limit: int, now: datetime) -> list[Claimed]:
    rows = conn.execute(
        "SELECT t.task_id, t.sop_instance_uid, t.study_id, t.attempts, "
        " CASE WHEN i.sop_instance_uid IS NULL OR i.is_deleted THEN '' ELSE i.image_file END, coalesce(s.is_deleted, false) "
        "FROM send_task t LEFT JOIN image i ON i.sop_instance_uid = t.sop_instance_uid "
        "LEFT JOIN study s ON s.study_id = t.study_id "
        "WHERE t.node_id = ? AND t.status = 'PENDING' AND t.next_attempt_at <= ? "
        "ORDER BY t.next_attempt_at, t.start_time LIMIT ?",
        [node_id, now, limit],
    ).fetchall()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    conn.execute(
        "UPDATE send_task SET status = 'SENDING', attempts = attempts + 1, updated_at = ? "
        "WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
        [now, ids],
    )
    render(conn, ids)
    refresh_send_status(conn, [r[1] for r in rows])
    return [Claimed(r[0], r[1], r[2], int(r[3]) + 1, r[4], bool(r[5])) for r in rows]


def _sop_of(conn: Conn, task_id: str) -> str | None:
    row = conn.execute("SELECT sop_instance_uid FROM send_task WHERE task_id = ?", [task_id]).fetchone()
    return row[0] if row else None


def mark_completed(
    conn: Conn,
    task_ids: Sequence[str],
    transfer_syntax: str,
    output: str,
    now: datetime,
    commit_uid: str = "",
    note: str = "",
) -> None:
    """Stored (one statement for an association's images). `commit_uid`: a storage-commitment
    request is out (COMMITTED comes with the report); `note`: why commitment was not requested."""
    ids = list(task_ids)
    if not ids:
        return
    rows = conn.execute(
        "UPDATE send_task SET status = 'COMPLETED', end_time = ?, updated_at = ?, error = ?, output = ?, "
        "transfer_syntax = ?, commit_uid = ? WHERE task_id IN (SELECT unnest(?::VARCHAR[])) AND status = 'SENDING' "
        "RETURNING sop_instance_uid",
        [now, now, note, output, transfer_syntax, commit_uid, ids],
    ).fetchall()
    render(conn, ids)
    refresh_send_status(conn, [r[0] for r in rows])


def mark_retry(conn: Conn, task_id: str, error: str, output: str, next_at: datetime, now: datetime) -> None:
    conn.execute(
        "UPDATE send_task SET status = 'PENDING', next_attempt_at = ?, updated_at = ?, error = ?, output = ? "
        "WHERE task_id = ? AND status = 'SENDING'",
        [next_at, now, error, output, task_id],
    )
    render(conn, [task_id])


def mark_failed(conn: Conn, task_id: str, error: str, output: str, now: datetime) -> None:
    conn.execute(
        "UPDATE send_task SET status = 'FAILED', end_time = ?, updated_at = ?, error = ?, output = ? "
        "WHERE task_id = ? AND status = 'SENDING'",
        [now, now, error, output, task_id],
    )
    render(conn, [task_id])
    sop = _sop_of(conn, task_id)
    if sop:
        refresh_send_status(conn, [sop])


def set_commit_uid(conn: Conn, task_ids: Sequence[str], commit_uid: str) -> None:
    conn.execute(
        "UPDATE send_task SET commit_uid = ? WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
        [commit_uid, list(task_ids)],
    )


def apply_commitment(
    conn: Conn, commit_uid: str, committed: Iterable[str], failed: dict[str, str], now: datetime
) -> int:
    """The N-EVENT-REPORT of a commitment request: listed successes become COMMITTED, failures FAILED
    (with the peer's reason; a retry sends them again). Returns the number of tasks changed."""
    changed = 0
    sops: list[str] = []
    ids: list[str] = []
    for sop in committed:
        rows = conn.execute(
            "UPDATE send_task SET status = 'COMMITTED', updated_at = ?, error = '' "
            "WHERE commit_uid = ? AND sop_instance_uid = ? AND status = 'COMPLETED' RETURNING sop_instance_uid, task_id",
            [now, commit_uid, sop],
        ).fetchall()
        changed += len(rows)
        sops += [r[0] for r in rows]
        ids += [r[1] for r in rows]
    for sop, reason in failed.items():
        rows = conn.execute(
            "UPDATE send_task SET status = 'FAILED', updated_at = ?, end_time = ?, error = ? "
            "WHERE commit_uid = ? AND sop_instance_uid = ? AND status IN ('COMPLETED', 'COMMITTED') "
            "RETURNING sop_instance_uid, task_id",
            [now, now, f"storage commitment failed: {reason}", commit_uid, sop],
        ).fetchall()
        changed += len(rows)
        sops += [r[0] for r in rows]
        ids += [r[1] for r in rows]
    render(conn, ids)
    refresh_send_status(conn, sops)
    return changed


# -- the queue's endpoints -------------------------------------------------------------------------
def _utc(col: str) -> str:
    return f"strftime({col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')"


# One queue entry as JSON (QueueEntry's fields), rendered on every change of the task
_ROW_JSON = (
    "to_json({'task_id': task_id, 'patient_name': patient_name, 'patient_id': patient_id, 'priority': priority, "
    f"'status': status, 'destination': destination, 'start_time': {_utc('start_time')}, "
    "'sop_instance_uid': sop_instance_uid, 'study_id': study_id, 'retry_count': greatest(attempts - 1, 0), "
    f"'error': error, 'transfer_syntax': transfer_syntax, 'end_time': {_utc('end_time')}, "
    f"'next_attempt_time': CASE WHEN status = 'PENDING' THEN {_utc('next_attempt_at')} END}})"
)


def render(conn: Conn, task_ids: Sequence[str] = (), *, node_id: int | None = None, all_: bool = False) -> None:
    """Refresh `row_json` of the given tasks (or of a node's, or of all)."""
    if all_:
        conn.execute(f"UPDATE send_task SET row_json = {_ROW_JSON}")
    elif node_id is not None:
        conn.execute(f"UPDATE send_task SET row_json = {_ROW_JSON} WHERE node_id = ?", [node_id])
    elif task_ids:
        conn.execute(
            f"UPDATE send_task SET row_json = {_ROW_JSON} WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(task_ids)],
        )


def list_json(conn: Conn, start: datetime | None, end: datetime | None) -> bytes:
    """The queue as a JSON array, newest first; `start_time` (when the task was queued or last
    re-queued) within [start, end], both ends inclusive."""
    where, args = [], []
    if start is not None:
        where.append("start_time >= ?")
        args.append(start)
    if end is not None:
        where.append("start_time <= ?")
        args.append(end)
    sql = "SELECT '[' || coalesce(string_agg(row_json, ',' ORDER BY start_time DESC, task_id DESC), '') || ']' FROM send_task"
    row = conn.execute(sql + (" WHERE " + " AND ".join(where) if where else ""), args).fetchone()
    return str(row[0] if row else "[]").encode()


def list_tasks(conn: Conn, start: datetime | None, end: datetime | None) -> list[QueueEntry]:
    return msgspec.json.decode(list_json(conn, start, end), type=list[QueueEntry])


def task_outputs(conn: Conn, task_ids: Sequence[str]) -> dict[str, tuple[str, str, int, str]]:
    """task_id → (status, output, attempts, error)."""
    rows = conn.execute(
        "SELECT task_id, status, output, attempts, error FROM send_task WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
        [list(task_ids)],
    ).fetchall()
    return {r[0]: (r[1], r[2], int(r[3]), r[4]) for r in rows}


def delete_tasks(conn: Conn, task_ids: Sequence[str]) -> None:
    rows = conn.execute(
        "DELETE FROM send_task WHERE task_id IN (SELECT unnest(?::VARCHAR[])) RETURNING sop_instance_uid",
        [list(task_ids)],
    ).fetchall()
    refresh_send_status(conn, [r[0] for r in rows])


def retry_task(conn: Conn, task_id: str, now: datetime) -> None:
    conn.execute(
        "UPDATE send_task SET status = 'PENDING', attempts = 0, next_attempt_at = ?, updated_at = ?, end_time = NULL, "
        "error = '', commit_uid = '' WHERE task_id = ?",
        [now, now, task_id],
    )
    render(conn, [task_id])
    sop = _sop_of(conn, task_id)
    if sop:
        refresh_send_status(conn, [sop])
