"""The Litestar app factory: every controller on both path prefixes, DI, errors, lifespan."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide

from dros.acquisition.lifecycle import acquisition_lifespan
from dros.api_docs import openapi_config, swagger_asset
from dros.domain.account.controller import AccountController
from dros.domain.device.controller import DeviceController
from dros.domain.document.controller import PortraitController, PostProcController
from dros.domain.files.controller import AuthFileController, PubFileController
from dros.domain.inspection.controller import InspectionController
from dros.domain.pacs.controller import PacsManageController, ScpController
from dros.domain.pacs.runtime import pacs_lifespan
from dros.domain.protocol.controller import ImageFileController, ProtocolController
from dros.domain.public.controller import PublicController
from dros.domain.report.controller import ReportPreviewController, StudyReportController
from dros.domain.resource.controller import ResourceController
from dros.domain.service.controller import ServiceController
from dros.domain.study.controller import ImageController, RecycleBinController, StudyController
from dros.domain.worklist.controller import WorklistController
from dros.domain.worklist.runtime import ris_lifespan
from dros.exception_handlers import EXCEPTION_HANDLERS
from dros.lifespan import lifespan
from dros.request_context import provide_db, provide_product, provide_settings, request_id_middleware, resolve_headers
from dros.runtime.logs import configure_logging
from dros.settings import Settings

# The reference's canonical prefix is /dr/api/v1; 29 of its endpoints are written /api/v1 (relative
# to a base URL that ends in /dr). Serving both lets a client configured either way work unchanged.
PREFIXES = ("/dr/api/v1", "/api/v1")

CONTROLLERS: list[type] = [
    PublicController,
    PacsManageController,
    ScpController,
    AccountController,
    ResourceController,
    StudyController,
    ImageController,
    RecycleBinController,
    ProtocolController,
    ImageFileController,
    PubFileController,
    AuthFileController,
    InspectionController,
    ServiceController,
    PortraitController,
    PostProcController,
    ReportPreviewController,
    StudyReportController,
    DeviceController,
    WorklistController,
]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.load()
    routers = [Router(path=prefix, route_handlers=list(CONTROLLERS)) for prefix in PREFIXES]
    app = Litestar(
        route_handlers=[*routers, swagger_asset],
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "product": Provide(provide_product, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        before_request=resolve_headers,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[request_id_middleware],
        # PACS (and RIS) after the store: stopped before it closes
        lifespan=[lifespan, pacs_lifespan, acquisition_lifespan, ris_lifespan],
        openapi_config=openapi_config(),  # Swagger UI from the service's own files (dros.api_docs)
        request_max_body_size=64 * 1024 * 1024,
        state=State({"settings": settings}),
        debug=False,
    )
    # after Litestar, whose logging set-up replaces the root handlers: the size-bounded rotating file
    # (runtime.log_file) is added to them
    configure_logging(settings)
    return app
