"""Worklist query (C-FIND against the worklist node), registration from an entry, the procedure-code
mapping and the DISCONTINUED leave. No Litestar imports."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from dros.dicomnet import scu
from dros.dicomnet import worklist as mwl
from dros.domain.study.schemas import Study, StudyCreate, ViewRef
from dros.domain.study.service import StudyService
from dros.domain.worklist import repo
from dros.domain.worklist.schemas import Code, Mapping, ScheduledStep, WorklistEntry, WorklistList, WorklistRegister
from dros.errors import DrosError, ErrorCode, conflict, invalid_param, not_found
from dros.settings import Locale, Product, Settings
from dros.store.db import Conn, Database

_SEX = {"M", "F", "O"}


class WorklistService:
    def __init__(self, db: Database, settings: Settings, studies: StudyService) -> None:
        self.db = db
        self.settings = settings
        self.studies = studies

    # -- query ---------------------------------------------------------------------------------------
    async def _node(self, name: str | None) -> tuple[int, str, str, int, str, str, bool, float]:
        nodes = await self.db.read(lambda c: repo.role_nodes(c, "worklist"))
        if name:
            for n in nodes:
                if n[1].lower() == name.lower():
                    return n
            raise not_found("node", name)
        if not nodes:
            raise DrosError(
                ErrorCode.UNPROCESSABLE,
                field="node",
                en='no enabled node has the worklist role; add one in manage/pacs with params.roles ["worklist"]',
                zh='没有启用的工作列表节点；请在 manage/pacs 中添加 params.roles 含 "worklist" 的节点',
            )
        return nodes[0]

    async def query(
        self,
        product: Product,
        *,
        day: date | None,
        patient_name: str,
        patient_id: str,
        accession_number: str,
        any_station: bool,
        node: str | None,
        page: int,
        page_size: int,
    ) -> WorklistList:
        n = await self._node(node)
        q = mwl.Query(
            date=(day or datetime.now().date()).strftime("%Y%m%d"),  # the station's local day
            station_aet="" if any_station else self.settings.dicom.ae_title,
            patient_name=patient_name,
            patient_id=patient_id,
            accession_number=accession_number,
        )
        peer = scu.Peer(n[2], n[3], n[4], n[5])
        ris = self.settings.ris
        result = await asyncio.to_thread(mwl.find, peer, q, ris.worklist_timeout_s, ris.worklist_charset)
        if not result.outcome.ok:
            raise DrosError(
                ErrorCode.PACS_FAILURE,
                field="node",
                data={"node": n[1], "failure": str(result.outcome.failure or ""), "output": result.output},
                en=f"the worklist provider {n[1]!r} ({n[2]}:{n[3]}) did not answer the query: {result.outcome.reason}",
                zh=f"工作列表服务器 {n[1]!r}（{n[2]}:{n[3]}）未响应查询：{result.outcome.reason}",
            )
        mapping = await self.db.read(lambda c: repo.all_mappings(c, str(product)))
        entries = await asyncio.to_thread(_entries, result.entries, mapping)
        entries.sort(key=lambda e: (e.scheduled_step.start, e.accession_number))
        start = (page - 1) * page_size
        return WorklistList(
            total=len(entries), page=page, page_size=page_size, node=n[1], entries=entries[start : start + page_size]
        )

    # -- registration --------------------------------------------------------------------------------
    async def register(self, data: WorklistRegister, product: Product, language: Locale) -> Study:
        entry = data.entry
        codes = [(c.code_value, c.coding_scheme) for c in entry.requested_procedure_codes]

        def plan(conn: Conn) -> list[ViewRef]:
            if repo.study_by_uid(conn, entry.study_instance_uid) is not None:
                raise conflict(
                    f"a study with Study Instance UID {entry.study_instance_uid} is registered already",
                    f"Study Instance UID 为 {entry.study_instance_uid} 的检查已登记",
                    field="entry.study_instance_uid",
                )
            if data.views is not None:
                return list(data.views)
            procedures = repo.mapped_procedures(conn, str(product), codes)
            views = repo.procedure_views(conn, str(product), procedures, data.patient_type)
            if not views:
                shown = ", ".join(f"{v}/{s}" if s else v for v, s in codes) or "(none)"
                raise invalid_param(
                    "views",
                    f"no mapping to catalog procedures for requested procedure code {shown}: choose the views",
                    f"申请程序代码 {shown} 未映射到检查协议，请手动选择体位",
                )
            return [ViewRef(view_id=v, procedure_id=p) for v, p in views]

        views = await self.db.read(plan)
        create = StudyCreate(
            accession_number=entry.accession_number,
            patient_id=entry.patient_id,
            patient_name=entry.patient_name,
            patient_size=data.patient_size,
            patient_age=entry.patient_age,
            patient_dob=entry.patient_dob,
            ref_physician=entry.ref_physician,
            patient_type=data.patient_type,
            study_type=data.study_type,
            views=views,
            patient_sex=entry.patient_sex,
        )
        extra: dict[str, Any] = {
            "reg_source": "MWL",
            "mwl": entry.scheduled_step.step_id,
            "study_description": entry.requested_procedure_description,
            "priority": entry.priority,
        }
        start = _parse_start(entry.scheduled_step.start)
        if start is not None:
            extra["scheduled_procedure_step_start_date"] = start
        order = msgspec.json.encode(entry).decode()

        def keep_order(conn: Conn, study_id: str) -> None:
            repo.insert_order(conn, study_id, order, datetime.now(UTC))

        return await self.studies.register(
            create, product, language, study_instance_uid=entry.study_instance_uid, extra=extra, on_insert=keep_order
        )

    # -- mapping ---------------------------------------------------------------------------------------
    async def mappings(self, product: Product) -> list[Mapping]:
        return await self.db.read(lambda c: repo.list_mappings(c, str(product)))

    async def put_mapping(self, product: Product, m: Mapping) -> None:
        def write(conn: Conn) -> None:
            unknown = repo.unknown_procedures(conn, str(product), m.procedure_ids)
            if unknown:
                raise invalid_param(
                    "procedure_ids",
                    f"unknown procedures for {product}: {unknown}",
                    f"{product} 中不存在协议：{unknown}",
                )
            repo.upsert_mapping(conn, str(product), m, datetime.now(UTC))

        await self.db.write(write)

    # -- DISCONTINUED ------------------------------------------------------------------------------------
    async def set_discontinue_reason(self, study_id: str, reason: str) -> None:
        def write(conn: Conn) -> None:
            row = conn.execute("SELECT is_deleted FROM study WHERE study_id = ?", [study_id]).fetchone()
            if row is None or row[0]:
                raise not_found("study_id", study_id)
            repo.set_discontinue_reason(conn, study_id, reason, datetime.now(UTC))

        await self.db.write(write)

    async def clear_discontinue_reason(self, study_id: str) -> None:
        await self.db.write(lambda c: repo.clear_discontinue_reason(c, study_id))


# -- answers → entries -----------------------------------------------------------------------------------
def _date(da: str) -> str | None:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 and da.isdigit() else None


def _parse_start(start: str) -> datetime | None:
    try:
        return datetime.fromisoformat(start).astimezone(UTC) if start else None
    except ValueError:
        return None


def _start(da: str, tm: str) -> str:
    day = _date(da)
    if day is None:
        return ""
    tm = tm.split(".")[0].replace(":", "")
    hh, mm, ss = tm[0:2] or "00", tm[2:4] or "00", tm[4:6] or "00"
    return f"{day}T{hh}:{mm}:{ss}"


def _age(value: str) -> str:
    # DICOM AS is nnnD/W/M/Y, as patient_age takes it
    return value if len(value) == 4 and value[:3].isdigit() and value[3] in "DWMY" else ""


def _clip(value: str, n: int) -> str:
    return value[:n]


def _codes(items: list[dict[str, str]]) -> list[Code]:
    return [
        Code(
            code_value=_clip(c["code_value"], 64),
            coding_scheme=_clip(c["coding_scheme"], 64),
            code_meaning=_clip(c["code_meaning"], 64),
        )
        for c in items
        if c["code_value"]
    ]


def _entry(v: mwl.Values, mapping: dict[tuple[str, str], list[str]]) -> WorklistEntry | None:
    t = mwl.text
    study_uid = t(v, "StudyInstanceUID")
    if not study_uid:
        return None  # an entry without a Study Instance UID cannot be registered under the RIS's order
    sps = mwl.first_step(v)
    codes = _codes(mwl.codes(v, "RequestedProcedureCodeSequence"))
    procedures: list[str] = []
    for c in codes:
        for pid in mapping.get((c.code_value, c.coding_scheme)) or mapping.get((c.code_value, "")) or []:
            if pid not in procedures:
                procedures.append(pid)
    sex = t(v, "PatientSex").upper()
    return WorklistEntry(
        patient_id=_clip(t(v, "PatientID"), 64),
        patient_name=_clip(t(v, "PatientName"), 194),
        patient_sex=sex if sex in _SEX else "",  # type: ignore[arg-type]
        patient_dob=_date(t(v, "PatientBirthDate")),
        patient_age=_age(t(v, "PatientAge")),
        accession_number=_clip(t(v, "AccessionNumber"), 16),
        ref_physician=_clip(t(v, "ReferringPhysicianName"), 194),
        study_instance_uid=study_uid[:64],
        requested_procedure_id=_clip(t(v, "RequestedProcedureID"), 16),
        requested_procedure_description=_clip(t(v, "RequestedProcedureDescription"), 64),
        requested_procedure_codes=codes,
        priority=_clip(t(v, "RequestedProcedurePriority"), 16),
        admission_id=_clip(t(v, "AdmissionID"), 64),
        specific_character_set=_clip(t(v, "SpecificCharacterSet"), 64),
        scheduled_step=ScheduledStep(
            step_id=_clip(t(sps, "ScheduledProcedureStepID"), 16),
            description=_clip(t(sps, "ScheduledProcedureStepDescription"), 64),
            start=_start(t(sps, "ScheduledProcedureStepStartDate"), t(sps, "ScheduledProcedureStepStartTime")),
            modality=_clip(t(sps, "Modality"), 16),
            station_aet=_clip(t(sps, "ScheduledStationAETitle"), 16),
            station_name=_clip(t(sps, "ScheduledStationName"), 16),
            location=_clip(t(sps, "ScheduledProcedureStepLocation"), 16),
            performing_physician=_clip(t(sps, "ScheduledPerformingPhysicianName"), 194),
            protocol_codes=_codes(mwl.codes(sps, "ScheduledProtocolCodeSequence")),
        ),
        procedure_ids=procedures,
    )


def _entries(answers: list[mwl.Values], mapping: dict[tuple[str, str], list[str]]) -> list[WorklistEntry]:
    out = []
    for ds in answers:
        e = _entry(ds, mapping)
        if e is not None:
            out.append(e)
    return out
