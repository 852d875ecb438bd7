"""What registration needs from the protocol catalog: views, procedures and patient types of a
product, read from the catalog tables in the same transaction as the registration."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dros.settings import Locale, Product
from dros.store.db import Conn


@dataclass(frozen=True)
class ViewInfo:
    view_id: str
    name_zh: str
    name_en: str
    patient_type: str
    body_part_id: str
    anatomic_region: str
    is_pre_install: bool
    description: str = ""

    def localized(self, language: Locale) -> ViewInfo:
        return replace(self, description=self.name_zh if language == Locale.zh_CN else self.name_en)


@dataclass(frozen=True)
class ProcedureInfo:
    procedure_id: str
    name_zh: str
    name_en: str
    body_part_id: str
    view_ids: frozenset[str]
    name: str = ""

    def localized(self, language: Locale) -> ProcedureInfo:
        return replace(self, name=self.name_zh if language == Locale.zh_CN else self.name_en)


@dataclass(frozen=True)
class CatalogSlice:
    views: dict[str, ViewInfo]
    procedures: dict[str, ProcedureInfo]


def lookup_catalog(conn: Conn, product: Product, view_ids: set[str], procedure_ids: set[str]) -> CatalogSlice:
    """Enabled views and procedures of `product` among the given ids."""
    views = {
        r[0]: ViewInfo(*r)
        for r in conn.execute(
            "SELECT view_id, name_zh, name_en, patient_type, body_part_id, anatomic_region, is_pre_install "
            "FROM protocol_view WHERE product = ? AND is_enabled AND view_id IN (SELECT unnest(?::VARCHAR[]))",
            [str(product), sorted(view_ids)],
        ).fetchall()
    }
    procedures: dict[str, ProcedureInfo] = {}
    if procedure_ids:
        links: dict[str, set[str]] = {}
        for pid, vid in conn.execute(
            "SELECT procedure_id, view_id FROM protocol_procedure_view WHERE product = ? "
            "AND procedure_id IN (SELECT unnest(?::VARCHAR[]))",
            [str(product), sorted(procedure_ids)],
        ).fetchall():
            links.setdefault(pid, set()).add(vid)
        for pid, zh, en, body_part in conn.execute(
            "SELECT procedure_id, name_zh, name_en, body_part_id FROM protocol_procedure WHERE product = ? AND is_enabled "
            "AND procedure_id IN (SELECT unnest(?::VARCHAR[]))",
            [str(product), sorted(procedure_ids)],
        ).fetchall():
            procedures[pid] = ProcedureInfo(pid, zh, en, body_part, frozenset(links.get(pid, ())))
    return CatalogSlice(views, procedures)


def patient_type_exists(conn: Conn, product: Product, patient_type: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM protocol_patient_type WHERE product = ? AND patient_type_id = ? AND is_enabled",
        [str(product), patient_type],
    ).fetchone()
    return row is not None
