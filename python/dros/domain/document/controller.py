"""`POST auth/study/portrait` (§11.8) and `POST auth/image/post_proc` (§12.6). They sit beside the
study and image controllers on the same paths; the static segments `portrait`/`post_proc` are
their own routes and never reach `study/{id}` (tested)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.domain.document.png_input import MAX_PNG_BYTES
from dros.domain.document.schemas import DcmPath, PortraitBody, PostProcForm
from dros.domain.document.service import DocumentService
from dros.domain.document.store import DocumentStore
from dros.envelope import Envelope, ok
from dros.errors import invalid_param
from dros.i18n import current_language


def document_store(request: Request[Any, Any, Any]) -> DocumentStore:
    """One per app, made on first use (the store needs the database the lifespan opened)."""
    state = request.app.state
    store: DocumentStore | None = getattr(state, "document_store", None)
    if store is None:
        store = DocumentStore(state.db, state.settings)
        state.document_store = store
    return store


def provide_documents(request: Request[Any, Any, Any]) -> DocumentService:
    return DocumentService(document_store(request))


DocumentsDep = NamedDependency[DocumentService]
SERVICE = {"documents": Provide(provide_documents, sync_to_thread=False)}


class PortraitController(Controller):
    path = "/auth/study"
    tags = ["study"]
    dependencies = SERVICE
    guards = [requires(Permission.STUDY_WRITE)]

    @post("/portrait", status_code=200)
    async def save_portrait(self, data: JSONBody[PortraitBody], documents: DocumentsDep) -> Envelope[DcmPath]:
        path = await documents.save_portrait(data.instance_uid, data.data, current_language())
        return ok(DcmPath(path=path))


class PostProcController(Controller):
    path = "/auth/image"
    tags = ["image"]
    dependencies = SERVICE
    guards = [requires(Permission.STUDY_WRITE)]

    @post("/post_proc", status_code=200)
    async def save_post_proc(
        self, data: Annotated[PostProcForm, Body(media_type=RequestEncodingType.MULTI_PART)], documents: DocumentsDep
    ) -> Envelope[DcmPath]:
        width = data.window_wdith if data.window_wdith is not None else data.window_width
        if width is None:
            raise invalid_param(
                "window_wdith", "is required (window_width is accepted too)", "为必填项（也接受 window_width）"
            )
        # read at most one byte past the limit: a larger upload is refused without holding it all
        png = await data.data.read(MAX_PNG_BYTES + 1)
        await data.data.close()
        path = await documents.save_post_proc(data.instance_uid, png, data.window_center, width)
        return ok(DcmPath(path=path))
