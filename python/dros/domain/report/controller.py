"""`POST auth/report/preview`, `POST auth/study/{id}/report`, `GET auth/study/{id}/report` (§13).
The study paths sit beside StudyController's `study/{id}` routes (tested)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.deps import ProductDep
from dros.domain.document.controller import document_store
from dros.domain.report.schemas import ReportContent, ReportPreviewBody, ReportSaved
from dros.domain.report.service import ReportService
from dros.envelope import Envelope, ok
from dros.i18n import current_language
from dros.report.render import ReportRenderer


def provide_reports(request: Request[Any, Any, Any]) -> ReportService:
    state = request.app.state
    renderer: ReportRenderer | None = getattr(state, "report_renderer", None)
    if renderer is None:
        renderer = ReportRenderer()
        state.report_renderer = renderer
    return ReportService(document_store(request), renderer)


ReportsDep = NamedDependency[ReportService]
SERVICE = {"reports": Provide(provide_reports, sync_to_thread=False)}


def pdf_response(data: bytes, filename: str) -> Response[bytes]:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


class ReportPreviewController(Controller):
    path = "/auth/report"
    tags = ["report"]
    dependencies = SERVICE
    guards = [requires(Permission.REPORT)]

    @post("/preview", status_code=200)
    async def preview(
        self, data: JSONBody[ReportPreviewBody], reports: ReportsDep, product: ProductDep
    ) -> Response[bytes]:
        pdf = await reports.preview(data, data.study_id, product, current_language())
        return pdf_response(pdf, "report-preview.pdf")


class StudyReportController(Controller):
    path = "/auth/study"
    tags = ["report"]
    dependencies = SERVICE
    guards = [requires(Permission.REPORT)]

    @post("/{id:str}/report", status_code=200)
    async def save(
        self, request: Request[Any, Any, Any], id: FromPath[str], data: JSONBody[ReportContent], reports: ReportsDep
    ) -> Envelope[ReportSaved]:
        author = str(getattr(request.user, "name", ""))
        return ok(await reports.save(id, data, current_language(), author))

    @get("/{id:str}/report")
    async def latest(
        self,
        id: FromPath[str],
        reports: ReportsDep,
        version: Annotated[int | None, QueryParameter(gt=0, le=1_000_000)] = None,
    ) -> Response[bytes]:
        found, pdf = await reports.pdf(id, version)
        return pdf_response(pdf, f"report-{found.study_id}-v{found.version}.pdf")
