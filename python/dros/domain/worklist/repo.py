"""SQL of the worklist area: the procedure-code mapping, the order a study came from, and the MPPS
steps with their delivery queue (one row per message and node, delivered per node in `seq` order)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from dros.domain.pacs.schemas import node_params
from dros.domain.worklist.schemas import Mapping
from dros.store.db import Conn

PENDING, SENT, FAILED = "PENDING", "SENT", "FAILED"


# -- nodes by role -----------------------------------------------------------------------------------
def role_nodes(conn: Conn, role: str) -> list[tuple[int, str, str, int, str, str, bool, float]]:
    """Enabled nodes serving `role`: (id, name, address, port, aet, aec, is_default, epoch of create_time),
    default ones first."""
    rows = conn.execute(
        "SELECT id, name, address, port, aet, aec, is_default, epoch(create_time), params FROM pacs_node "
        "WHERE is_enabled ORDER BY is_default DESC, id"
    ).fetchall()
    return [
        (int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], bool(r[6]), float(r[7]))
        for r in rows
        if role in node_params(r[8]).roles
    ]


# -- mapping -----------------------------------------------------------------------------------------
def list_mappings(conn: Conn, product: str) -> list[Mapping]:
    rows = conn.execute(
        "SELECT code_value, coding_scheme, code_meaning, procedure_ids FROM worklist_procedure_map "
        "WHERE product = ? ORDER BY coding_scheme, code_value",
        [product],
    ).fetchall()
    return [Mapping(code_value=r[0], coding_scheme=r[1], code_meaning=r[2], procedure_ids=list(r[3])) for r in rows]


def mapped_procedures(conn: Conn, product: str, codes: list[tuple[str, str]]) -> list[str]:
    """Catalog procedures of the codes, in the codes' order, without repeats. A mapping stored
    without a coding scheme matches the code in any scheme."""
    out: list[str] = []
    for value, scheme in codes:
        row = conn.execute(
            "SELECT procedure_ids FROM worklist_procedure_map WHERE product = ? AND code_value = ? "
            "AND coding_scheme IN (?, '') ORDER BY coding_scheme DESC LIMIT 1",
            [product, value, scheme],
        ).fetchone()
        for pid in row[0] if row else []:
            if pid not in out:
                out.append(pid)
    return out


def all_mappings(conn: Conn, product: str) -> dict[tuple[str, str], list[str]]:
    rows = conn.execute(
        "SELECT code_value, coding_scheme, procedure_ids FROM worklist_procedure_map WHERE product = ?", [product]
    ).fetchall()
    return {(r[0], r[1]): list(r[2]) for r in rows}


def upsert_mapping(conn: Conn, product: str, m: Mapping, now: datetime) -> None:
    conn.execute(
        "DELETE FROM worklist_procedure_map WHERE product = ? AND code_value = ? AND coding_scheme = ?",
        [product, m.code_value, m.coding_scheme],
    )
    if m.procedure_ids:
        conn.execute(
            "INSERT INTO worklist_procedure_map VALUES (?, ?, ?, ?, ?, ?)",
            [product, m.code_value, m.coding_scheme, m.code_meaning, m.procedure_ids, now],
        )


def unknown_procedures(conn: Conn, product: str, ids: list[str]) -> list[str]:
    known = {
        r[0]
        for r in conn.execute(
            "SELECT procedure_id FROM protocol_procedure WHERE product = ? AND procedure_id IN (SELECT unnest(?::VARCHAR[]))",
            [product, ids],
        ).fetchall()
    }
    return [i for i in ids if i not in known]


def procedure_views(conn: Conn, product: str, procedure_ids: list[str], patient_type: str) -> list[tuple[str, str]]:
    """(view_id, procedure_id) of the procedures' enabled views of `patient_type`, in procedure order."""
    out: list[tuple[str, str]] = []
    for pid in procedure_ids:
        rows = conn.execute(
            "SELECT pv.view_id FROM protocol_procedure_view pv JOIN protocol_view v "
            "ON v.product = pv.product AND v.view_id = pv.view_id "
            "WHERE pv.product = ? AND pv.procedure_id = ? AND v.is_enabled AND v.patient_type = ? ORDER BY pv.sort",
            [product, pid, patient_type],
        ).fetchall()
        out += [(r[0], pid) for r in rows]
    return out


# -- orders ------------------------------------------------------------------------------------------
def study_by_uid(conn: Conn, study_uid: str) -> str | None:
    row = conn.execute("SELECT study_id FROM study WHERE study_instance_uid = ?", [study_uid]).fetchone()
    return str(row[0]) if row else None


def insert_order(conn: Conn, study_id: str, entry_json: str, now: datetime) -> None:
    conn.execute("INSERT INTO worklist_study VALUES (?, ?, ?)", [study_id, entry_json, now])


def order_of(conn: Conn, study_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT entry_json FROM worklist_study WHERE study_id = ?", [study_id]).fetchone()
    return msgspec.json.decode(row[0]) if row else None


# -- MPPS ----------------------------------------------------------------------------------------------
def set_discontinue_reason(conn: Conn, study_id: str, reason: str, now: datetime) -> None:
    conn.execute("DELETE FROM mpps_discontinue WHERE study_id = ?", [study_id])
    conn.execute("INSERT INTO mpps_discontinue VALUES (?, ?, ?)", [study_id, reason, now])


def clear_discontinue_reason(conn: Conn, study_id: str) -> None:
    conn.execute("DELETE FROM mpps_discontinue WHERE study_id = ?", [study_id])


def discontinue_reason(conn: Conn, study_id: str) -> str:
    """The reason recorded for the leave in progress ('' = none: the step is COMPLETED)."""
    row = conn.execute("SELECT reason FROM mpps_discontinue WHERE study_id = ?", [study_id]).fetchone()
    return str(row[0]) if row else ""


def step_of(conn: Conn, study_id: str) -> tuple[str, str] | None:
    """(mpps_uid, status) of the study's performed procedure step, if it has one."""
    row = conn.execute("SELECT mpps_uid, status FROM mpps_step WHERE study_id = ?", [study_id]).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def study_row(conn: Conn, study_id: str) -> dict[str, Any]:
    cur = conn.execute(
        "SELECT study_id, study_instance_uid, accession_number, patient_name, patient_id, "
        "coalesce(strftime(patient_dob, '%Y%m%d'), '') AS patient_dob, patient_sex, study_description, "
        "operator_name, strftime(coalesce(study_end_datetime, now()), '%Y-%m-%d %H:%M:%S') AS end_time "
        "FROM study WHERE study_id = ?",
        [study_id],
    )
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def first_exposure(conn: Conn, study_id: str) -> str:
    row = conn.execute(
        "SELECT strftime(min(coalesce(acquisition_time, expose_time)), '%Y-%m-%d %H:%M:%S') FROM image "
        "WHERE study_id = ? AND expose_status = 'Exposed'",
        [study_id],
    ).fetchone()
    return str(row[0]) if row and row[0] else ""


def performed_series(conn: Conn, study_id: str) -> list[dict[str, Any]]:
    """Series with their exposed images (rejected ones included: they were performed and dosed)."""
    rows = conn.execute(
        "SELECT s.series_instance_uid, s.procedure_id, s.performed_protocol_code_meaning, s.body_part, "
        "i.sop_instance_uid, i.delivered_kv, i.delivered_ma, i.delivered_ms, i.delivered_mas, i.exposure_index, "
        "i.deviation_index FROM series s JOIN image i ON i.series_instance_uid = s.series_instance_uid "
        "WHERE s.study_id = ? AND i.expose_status = 'Exposed' AND NOT i.is_deleted ORDER BY s.sort, i.sort",
        [study_id],
    ).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(
            r[0],
            {"series_instance_uid": r[0], "procedure_id": r[1], "protocol_name": r[2], "body_part": r[3], "images": []},
        )
        s["images"].append(
            {"sop_instance_uid": r[4], "kv": r[5], "ma": r[6], "ms": r[7], "mas": r[8], "ei": r[9], "di": r[10]}
        )
    return list(out.values())


def insert_step(conn: Conn, study_id: str, mpps_uid: str, now: datetime) -> None:
    conn.execute("INSERT INTO mpps_step VALUES (?, ?, 'IN PROGRESS', ?, NULL)", [study_id, mpps_uid, now])


def end_step(conn: Conn, study_id: str, status: str, now: datetime) -> None:
    conn.execute("UPDATE mpps_step SET status = ?, end_time = ? WHERE study_id = ?", [status, now, study_id])


def create_nodes(conn: Conn, mpps_uid: str) -> list[int]:
    rows = conn.execute(
        "SELECT DISTINCT node_id FROM mpps_message WHERE mpps_uid = ? AND kind = 'N-CREATE'", [mpps_uid]
    ).fetchall()
    return [int(r[0]) for r in rows]


def enqueue(
    conn: Conn, study_id: str, mpps_uid: str, node_ids: list[int], kind: str, status: str, ds_json: str, now: datetime
) -> None:
    for node_id in node_ids:
        conn.execute(
            "INSERT INTO mpps_message (study_id, mpps_uid, node_id, kind, pps_status, dataset_json, state, "
            "next_attempt_at, create_time) VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?)",
            [study_id, mpps_uid, node_id, kind, status, ds_json, now, now],
        )


# -- delivery ------------------------------------------------------------------------------------------
def heads(conn: Conn) -> list[tuple[int, int, str, str, str, int, float]]:
    """The oldest PENDING message of each node (seq, node_id, kind, mpps_uid, dataset_json, attempts,
    epoch of next attempt): a node gets its messages strictly in order."""
    rows = conn.execute(
        "SELECT seq, node_id, kind, mpps_uid, dataset_json, attempts, epoch(next_attempt_at) FROM mpps_message "
        "WHERE seq IN (SELECT min(seq) FROM mpps_message WHERE state = 'PENDING' GROUP BY node_id) ORDER BY seq"
    ).fetchall()
    return [(int(r[0]), int(r[1]), r[2], r[3], r[4], int(r[5]), float(r[6])) for r in rows]


def node_peer(conn: Conn, node_id: int) -> tuple[str, int, str, str] | None:
    row = conn.execute("SELECT address, port, aet, aec FROM pacs_node WHERE id = ?", [node_id]).fetchone()
    return (row[0], int(row[1]), row[2], row[3]) if row else None


def mark_sent(conn: Conn, seq: int, now: datetime) -> None:
    conn.execute(
        "UPDATE mpps_message SET state = 'SENT', sent_time = ?, attempts = attempts + 1, error = '' WHERE seq = ?",
        [now, seq],
    )


def mark_retry(conn: Conn, seq: int, error: str, next_at: datetime) -> None:
    conn.execute(
        "UPDATE mpps_message SET attempts = attempts + 1, error = ?, next_attempt_at = ? WHERE seq = ?",
        [error[:1000], next_at, seq],
    )


def mark_failed(conn: Conn, seq: int, error: str, now: datetime) -> None:
    """Refused for good; an N-SET of a step whose N-CREATE was refused cannot succeed either."""
    row = conn.execute(
        "UPDATE mpps_message SET state = 'FAILED', attempts = attempts + 1, error = ?, sent_time = ? WHERE seq = ? "
        "RETURNING kind, mpps_uid, node_id",
        [error[:1000], now, seq],
    ).fetchone()
    if row and row[0] == "N-CREATE":
        conn.execute(
            "UPDATE mpps_message SET state = 'FAILED', error = 'its N-CREATE was refused', sent_time = ? "
            "WHERE mpps_uid = ? AND node_id = ? AND state = 'PENDING' AND seq > ?",
            [now, row[1], row[2], seq],
        )


def messages(conn: Conn, study_id: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE study_id = ?" if study_id else ""
    cur = conn.execute(
        "SELECT seq, study_id, mpps_uid, node_id, kind, pps_status, state, attempts, error FROM mpps_message "
        f"{where} ORDER BY seq",
        [study_id] if study_id else [],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
