"""PACS management (§7) and the DICOM SCU / send queue (§9)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter, QueryParameter

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.domain.pacs.schemas import (
    EchoBody,
    EchoReply,
    NodeBody,
    QueueEntry,
    RetryBody,
    ScpList,
    StoreBody,
    StoreReply,
    StudyStoreBody,
    TaskDelete,
)
from dros.domain.pacs.service import PacsService, check_time_range
from dros.domain.study.values import parse_time
from dros.envelope import Envelope, ok

Time = Annotated[str | None, QueryParameter(max_length=40)]
# node ids are DuckDB INTEGERs: a larger number is no node (and must not reach the database as one)
NodeId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


# `…00.000 08:00`: the seed's own example (`+08:00`) put into a URL without encoding, where `+` reads as
# a space; a space before a trailing hh:mm offset can mean nothing else
_PLUS_AS_SPACE = re.compile(r"^(?P<time>\S+[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?) (?P<offset>\d{2}:\d{2})$")


def query_offset(text: str) -> str:
    return _PLUS_AS_SPACE.sub(r"\g<time>+\g<offset>", text.strip())


def provide_pacs_service(request: Request[Any, Any, Any]) -> PacsService:
    service: PacsService = request.app.state.pacs_service
    return service


PacsServiceDep = NamedDependency[PacsService]
SERVICE = {"pacs": Provide(provide_pacs_service, sync_to_thread=False)}


class PacsManageController(Controller):
    path = "/auth/manage/pacs"
    tags = ["pacs"]
    dependencies = SERVICE
    guards = [requires(Permission.PACS_MANAGE)]

    @get("/")
    async def list_nodes(self, pacs: PacsServiceDep) -> Envelope[ScpList]:
        return ok(await pacs.nodes(enabled_only=False))

    @post("/", status_code=200)
    async def add_node(self, data: JSONBody[NodeBody], pacs: PacsServiceDep) -> Envelope[dict[str, Any]]:
        await pacs.add_node(data)
        return ok()

    @put("/{id:int}")
    async def modify_node(self, id: NodeId, data: JSONBody[NodeBody], pacs: PacsServiceDep) -> Envelope[dict[str, Any]]:
        await pacs.modify_node(id, data)
        return ok()

    @delete("/{id:int}", status_code=200)
    async def delete_node(self, id: NodeId, pacs: PacsServiceDep) -> Envelope[dict[str, Any]]:
        await pacs.delete_node(id)
        return ok()


class ScpController(Controller):
    path = "/auth/scp"
    tags = ["pacs"]
    dependencies = SERVICE
    guards = [requires(Permission.PACS_SEND)]

    @post("/echo", status_code=200)
    async def echo(self, data: JSONBody[EchoBody], pacs: PacsServiceDep) -> Envelope[EchoReply]:
        return ok(await pacs.echo(data))

    @get("/pacs")
    async def nodes(self, pacs: PacsServiceDep) -> Envelope[ScpList]:
        """The nodes a user can send to: the enabled ones."""
        return ok(await pacs.nodes(enabled_only=True))

    @get("/store")
    async def queue(
        self, pacs: PacsServiceDep, start_time: Time = None, end_time: Time = None
    ) -> Envelope[list[QueueEntry]]:
        start = parse_time("start_time", query_offset(start_time)) if start_time else None
        end = parse_time("end_time", query_offset(end_time)) if end_time else None
        check_time_range(start, end)
        # data is the JSON array the database rendered; its items are QueueEntry objects
        return ok(await pacs.queue(start, end))

    @delete("/task", status_code=200)
    async def delete_tasks(self, data: JSONBody[TaskDelete], pacs: PacsServiceDep) -> Envelope[dict[str, Any]]:
        await pacs.delete_tasks(data.task_ids)
        return ok()

    @post("/store", status_code=200)
    async def store(self, data: JSONBody[StoreBody], pacs: PacsServiceDep) -> Envelope[StoreReply]:
        return ok(await pacs.store_image(data.sop_instance_uid, data.pacs_name))

    @post("/study_store", status_code=200)
    async def study_store(self, data: JSONBody[StudyStoreBody], pacs: PacsServiceDep) -> Envelope[StoreReply]:
        return ok(await pacs.store_study(data.instance_uid, data.pacs_name))

    @post("/store_reply", status_code=200)
    async def retry(self, data: JSONBody[RetryBody], pacs: PacsServiceDep) -> Envelope[StoreReply]:
        return ok(await pacs.retry(data.instance_uid))
