"""SQL over the catalog tables. Every query is scoped to one product; lists order by the parent's `sort`,
then the item's `sort`, then its record id. APR exposures read through the user's edit overlay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dros.store.db import Conn


def _scalar(conn: Conn, sql: str, params: list[Any]) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None  # aggregate queries always return one row
    return row[0]


def _rows(conn: Conn, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@dataclass
class Where:
    """AND-joined conditions with their parameters."""

    clauses: list[str]
    params: list[Any]

    @classmethod
    def product(cls, alias: str, product: str) -> Where:
        return cls([f"{alias}.product = ?"], [product])

    def add(self, clause: str, value: Any) -> None:
        if value is not None:
            self.clauses.append(clause)
            self.params.append(value)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses)


def patient_types(conn: Conn, product: str, is_enabled: bool | None) -> list[dict[str, Any]]:
    w = Where.product("t", product)
    w.add("t.is_enabled = ?", is_enabled)
    return _rows(conn, f"SELECT * FROM protocol_patient_type t WHERE {w.sql} ORDER BY t.sort, t.id", w.params)


def body_parts(
    conn: Conn, product: str, patient_type: str | None, modality: str | None, is_enabled: bool | None
) -> list[dict[str, Any]]:
    w = Where.product("b", product)
    w.add("b.patient_type = ?", patient_type)
    w.add("b.category = ?", modality)
    w.add("b.is_enabled = ?", is_enabled)
    return _rows(
        conn,
        "SELECT b.* FROM protocol_body_part b LEFT JOIN protocol_patient_type t "
        "ON t.product = b.product AND t.patient_type_id = b.patient_type "
        f"WHERE {w.sql} ORDER BY t.sort NULLS LAST, b.sort, b.id",
        w.params,
    )


def _page(
    conn: Conn, select: str, from_where: str, order: str, params: list[Any], page: int, page_size: int
) -> tuple[int, list[dict[str, Any]]]:
    total = _scalar(conn, f"SELECT count(*) {from_where}", params)
    rows = _rows(
        conn, f"{select} {from_where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, page_size, (page - 1) * page_size]
    )
    return total, rows


def procedures(
    conn: Conn,
    product: str,
    patient_type: str | None,
    body_part: str | None,
    procedure_type: str | None,
    modality: str | None,
    is_enabled: bool | None,
    page: int,
    page_size: int,
) -> tuple[int, list[dict[str, Any]]]:
    w = Where.product("p", product)
    w.add("p.patient_type = ?", patient_type)
    w.add("p.body_part_id = ?", body_part)
    w.add("p.procedure_type = ?", procedure_type)
    w.add("p.modality = ?", modality)
    w.add("p.is_enabled = ?", is_enabled)
    return _page(
        conn,
        "SELECT p.*",
        "FROM protocol_procedure p LEFT JOIN protocol_body_part b "
        f"ON b.product = p.product AND b.body_part_id = p.body_part_id WHERE {w.sql}",
        "b.sort NULLS LAST, p.sort, p.id",
        w.params,
        page,
        page_size,
    )


def procedure(conn: Conn, product: str, key: str) -> dict[str, Any] | None:
    """By procedure_id, or by record id (the reference leaves open which one `procedure/{id}` means)."""
    rows = _rows(
        conn,
        "SELECT * FROM protocol_procedure WHERE product = ? AND (procedure_id = ? OR CAST(id AS VARCHAR) = ?) "
        "ORDER BY procedure_id = ? DESC LIMIT 1",
        [product, key, key, key],
    )
    return rows[0] if rows else None


_VIEW_FROM = (
    "FROM protocol_view v LEFT JOIN protocol_body_part b ON b.product = v.product AND b.body_part_id = v.body_part_id"
)


def views(
    conn: Conn,
    product: str,
    patient_type: str | None,
    body_part: str | None,
    modality: str | None,
    is_enabled: bool | None,
    page: int,
    page_size: int,
) -> tuple[int, list[dict[str, Any]]]:
    w = Where.product("v", product)
    w.add("v.patient_type = ?", patient_type)
    w.add("v.body_part_id = ?", body_part)
    w.add("v.modality = ?", modality)
    w.add("v.is_enabled = ?", is_enabled)
    return _page(
        conn, "SELECT v.*", f"{_VIEW_FROM} WHERE {w.sql}", "b.sort NULLS LAST, v.sort, v.id", w.params, page, page_size
    )


def procedure_views(conn: Conn, product: str, procedure_id: str, is_enabled: bool | None) -> list[dict[str, Any]]:
    w = Where(["l.product = ?", "l.procedure_id = ?"], [product, procedure_id])
    w.add("v.is_enabled = ?", is_enabled)
    return _rows(
        conn,
        "SELECT v.* FROM protocol_procedure_view l JOIN protocol_view v "
        f"ON v.product = l.product AND v.view_id = l.view_id WHERE {w.sql} ORDER BY l.sort",
        w.params,
    )


def view(
    conn: Conn,
    product: str,
    view_id: str,
    patient_type: str | None,
    body_part: str | None,
    is_enabled: bool | None,
    procedure_id: str | None,
) -> dict[str, Any] | None:
    w = Where(["v.product = ?", "(v.view_id = ? OR CAST(v.id AS VARCHAR) = ?)"], [product, view_id, view_id])
    w.add("v.patient_type = ?", patient_type)
    w.add("v.body_part_id = ?", body_part)
    w.add("v.is_enabled = ?", is_enabled)
    w.add(
        "EXISTS (SELECT 1 FROM protocol_procedure_view l WHERE l.product = v.product AND l.view_id = v.view_id "
        "AND l.procedure_id = ?)",
        procedure_id,
    )
    rows = _rows(
        conn, f"SELECT v.* FROM protocol_view v WHERE {w.sql} ORDER BY v.view_id = ? DESC LIMIT 1", [*w.params, view_id]
    )
    return rows[0] if rows else None


def apr(
    conn: Conn,
    product: str,
    apr_id: str,
    patient_type: str | None = None,
    body_part: str | None = None,
    is_enabled: bool | None = None,
    procedure_id: str | None = None,
) -> dict[str, Any] | None:
    w = Where(["a.product = ?", "a.apr_id = ?"], [product, apr_id])
    w.add("a.patient_type = ?", patient_type)
    w.add("a.body_part_id = ?", body_part)
    w.add("a.is_enabled = ?", is_enabled)
    w.add(
        "EXISTS (SELECT 1 FROM protocol_procedure_view l JOIN protocol_view v ON v.product = l.product "
        "AND v.view_id = l.view_id WHERE l.product = a.product AND v.apr_id = a.apr_id AND l.procedure_id = ?)",
        procedure_id,
    )
    rows = _rows(conn, f"SELECT a.* FROM protocol_apr a WHERE {w.sql}", w.params)
    return rows[0] if rows else None


def exposures(conn: Conn, product: str, apr_id: str) -> list[dict[str, Any]]:
    """Effective exposures: the user's edit where one exists, else the factory value."""
    return _rows(
        conn,
        "SELECT e.work_station_id, e.patient_size, coalesce(u.kv, e.kv) AS kv, coalesce(u.ma, e.ma) AS ma, "
        "coalesce(u.ms, e.ms) AS ms, coalesce(u.mas, e.mas) AS mas, e.focus, e.aec_field, e.thickness, e.grid_type, "
        "u.apr_id IS NOT NULL AS edited "
        "FROM protocol_apr_exposure e LEFT JOIN protocol_apr_exposure_edit u ON u.product = e.product "
        "AND u.apr_id = e.apr_id AND u.work_station_id = e.work_station_id AND u.patient_size = e.patient_size "
        "WHERE e.product = ? AND e.apr_id = ? ORDER BY e.work_station_id, e.patient_size",
        [product, apr_id],
    )


def device(conn: Conn, product: str, apr_id: str, work_station_id: int) -> dict[str, Any] | None:
    rows = _rows(
        conn,
        "SELECT * FROM protocol_apr_device WHERE product = ? AND apr_id = ? AND work_station_id = ?",
        [product, apr_id, work_station_id],
    )
    return rows[0] if rows else None


def default_work_station(conn: Conn, product: str, apr_id: str) -> int:
    """The work station of the APR's view (the station it is normally taken on); 0 when no view uses it."""
    row = conn.execute(
        "SELECT min(work_station_id) FROM protocol_view WHERE product = ? AND apr_id = ?", [product, apr_id]
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def thickness(conn: Conn, cm: int) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT * FROM protocol_thickness_apr WHERE thickness = ?", [cm])
    return rows[0] if rows else None


def save_edit(
    conn: Conn,
    product: str,
    apr_id: str,
    work_station_id: int,
    patient_size: str,
    kv: float,
    ma: float,
    ms: float,
    mas: float,
    user: str,
) -> None:
    conn.execute(
        "INSERT INTO protocol_apr_exposure_edit (product, apr_id, work_station_id, patient_size, kv, ma, ms, mas, "
        "edited_by, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp) "
        "ON CONFLICT (product, apr_id, work_station_id, patient_size) DO UPDATE SET kv = excluded.kv, "
        "ma = excluded.ma, ms = excluded.ms, mas = excluded.mas, edited_by = excluded.edited_by, "
        "edited_at = excluded.edited_at",
        [product, apr_id, work_station_id, patient_size, kv, ma, ms, mas, user],
    )


def reset_edits(conn: Conn, product: str, apr_id: str, work_station_id: int | None, patient_size: str | None) -> int:
    w = Where(["product = ?", "apr_id = ?"], [product, apr_id])
    w.add("work_station_id = ?", work_station_id)
    w.add("patient_size = ?", patient_size)
    n = _scalar(conn, f"SELECT count(*) FROM protocol_apr_exposure_edit WHERE {w.sql}", w.params)
    conn.execute(f"DELETE FROM protocol_apr_exposure_edit WHERE {w.sql}", w.params)
    return int(n)
