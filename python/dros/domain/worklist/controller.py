"""Modality Worklist (GET auth/worklist, POST auth/worklist/register), the procedure-code mapping
and the DISCONTINUED leave. Decisions in README "RIS"; API reference in docs/worklist-api.md."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter

from dros.acquisition.service import AcquisitionService
from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.deps import ProductDep
from dros.domain.study.schemas import Study
from dros.domain.worklist.schemas import Discontinue, Mapping, MappingList, WorklistList, WorklistRegister
from dros.domain.worklist.service import WorklistService
from dros.envelope import EMPTY, Envelope, ProtoEmpty, ok
from dros.errors import invalid_param
from dros.i18n import current_language
from dros.paging import Page, PageSize

Text = Annotated[str, QueryParameter(max_length=64)]


def provide_worklist_service(request: Request[Any, Any, Any]) -> WorklistService:
    service: WorklistService = request.app.state.worklist_service
    return service


WorklistDep = NamedDependency[WorklistService]
SERVICE = {"worklist": Provide(provide_worklist_service, sync_to_thread=False)}


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_param("date", "must be a date YYYY-MM-DD", "须为日期 YYYY-MM-DD") from None


class WorklistController(Controller):
    path = "/auth/worklist"
    tags = ["worklist"]
    dependencies = SERVICE

    @get("/", guards=[requires(Permission.STUDY_READ)])
    async def query(
        self,
        worklist: WorklistDep,
        product: ProductDep,
        date: Annotated[str | None, QueryParameter(max_length=10)] = None,
        patient_name: Text = "",
        patient_id: Text = "",
        accession_number: Annotated[str, QueryParameter(max_length=16)] = "",
        any_station: Annotated[bool, QueryParameter()] = False,
        node: Annotated[str | None, QueryParameter(max_length=16)] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> Envelope[WorklistList]:
        return ok(
            await worklist.query(
                product,
                day=_day(date),
                patient_name=patient_name,
                patient_id=patient_id,
                accession_number=accession_number,
                any_station=any_station,
                node=node,
                page=page,
                page_size=page_size,
            )
        )

    @post("/register", status_code=200, guards=[requires(Permission.STUDY_WRITE)])
    async def register(
        self, worklist: WorklistDep, product: ProductDep, data: JSONBody[WorklistRegister]
    ) -> Envelope[Study]:
        return ok(await worklist.register(data, product, current_language()))

    @get("/mapping", guards=[requires(Permission.CATALOG_READ)])
    async def mappings(self, worklist: WorklistDep, product: ProductDep) -> Envelope[MappingList]:
        return ok(MappingList(mappings=await worklist.mappings(product)))

    @put("/mapping", guards=[requires(Permission.CATALOG_EDIT)])
    async def put_mapping(
        self, worklist: WorklistDep, product: ProductDep, data: JSONBody[Mapping]
    ) -> Envelope[dict[str, Any]]:
        await worklist.put_mapping(product, data)
        return ok()

    @post("/discontinue", status_code=200, guards=[requires(Permission.ACQUIRE)])
    async def discontinue(
        self, request: Request[Any, Any, Any], worklist: WorklistDep, data: JSONBody[Discontinue]
    ) -> Envelope[ProtoEmpty]:
        """Leave the study as `leave … Completed` does, its performed procedure step DISCONTINUED
        with the reason (the reason is recorded first; it is withdrawn when the leave is refused)."""
        await worklist.set_discontinue_reason(data.study_id, data.reason)
        acquisition: AcquisitionService = request.app.state.acquisition
        try:
            await acquisition.leave(data.study_id, "Completed")
        except BaseException:
            await worklist.clear_discontinue_reason(data.study_id)
            raise
        return ok(EMPTY)
