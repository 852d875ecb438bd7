"""Study, image and recycle-bin endpoints (§10–§12)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from dros.auth.guards import requires
from dros.auth.roles import Permission, allows
from dros.deps import ProductDep
from dros.domain.study.dicom_copy import copy_with_new_uids
from dros.domain.study.repo import ListFilter
from dros.domain.study.schemas import (
    STUDY_STATUSES,
    CreateImageReply,
    DiskInfo,
    ImageAdd,
    ImageSort,
    InstanceRef,
    LockChange,
    Stat,
    Study,
    StudyCreate,
    StudyIds,
    StudyList,
    StudyUpdate,
)
from dros.domain.study.service import StudyService
from dros.domain.study.values import parse_time
from dros.envelope import EMPTY, Envelope, ProtoEmpty, ok
from dros.errors import invalid_param
from dros.i18n import current_language
from dros.paging import Page, PageSize
from dros.settings import Product

StudyId = Annotated[str, QueryParameter(max_length=32)]
Fuzzy = Annotated[str | None, QueryParameter(max_length=64)]
Time = Annotated[str | None, QueryParameter(max_length=40)]


def provide_study_service(request: Request[Any, Any, Any]) -> StudyService:
    service: StudyService = request.app.state.study_service
    return service


def list_filter(
    id: str | None,
    name: str | None,
    acc_no: str | None,
    start_time: str | None,
    end_time: str | None,
    status: str | None = None,
    with_status: bool = True,
    *,
    product: Product,
) -> ListFilter:
    """The filter of a study list; a console sees the studies of its own product only (human
    and veterinary studies share one installation's database)."""
    start = parse_time("start_time", start_time) if start_time else None
    end = parse_time("end_time", end_time) if end_time else None
    if start and end and start > end:
        raise invalid_param("end_time", "is before start_time", "早于 start_time")
    statuses = None
    if with_status:
        raw = "Arrived,InProgress" if status is None else status
        statuses = tuple(s.strip() for s in raw.split(",") if s.strip())
        bad = [s for s in statuses if s not in STUDY_STATUSES]
        if bad or not statuses:
            raise invalid_param(
                "status",
                f"values must be among {list(STUDY_STATUSES)}; got {bad or raw!r}",
                f"取值必须为 {list(STUDY_STATUSES)}；收到 {bad or raw!r}",
            )
    return ListFilter(
        id=id or None,
        name=name or None,
        acc_no=acc_no or None,
        start=start,
        end=end,
        statuses=statuses,
        product=str(product),
    )


StudyServiceDep = NamedDependency[StudyService]


def batch(ids: list[str]) -> list[str]:
    """The bare JSON arrays of study ids: Litestar drops Annotated constraints on a top-level list."""
    if not 1 <= len(ids) <= 1000:
        raise invalid_param("body", "must list 1 to 1000 study ids", "必须列出 1 到 1000 个检查 ID")
    for i, sid in enumerate(ids):
        if not sid or len(sid) > 32:
            raise invalid_param(f"body[{i}]", "a study_id has 1 to 32 characters", "study_id 长度为 1 到 32")
    return ids


SERVICE = {"studies": Provide(provide_study_service, sync_to_thread=False)}


class StudyController(Controller):
    path = "/auth/study"
    tags = ["study"]
    dependencies = SERVICE
    guards = [requires(Permission.STUDY_READ)]

    @post("/", status_code=200, guards=[requires(Permission.STUDY_WRITE)])
    async def register(
        self, data: JSONBody[StudyCreate], studies: StudyServiceDep, product: ProductDep
    ) -> Envelope[Study]:
        return ok(await studies.register(data, product, current_language()))

    @get("/")
    async def list_studies(
        self,
        studies: StudyServiceDep,
        product: ProductDep,
        id: Fuzzy = None,
        name: Fuzzy = None,
        acc_no: Fuzzy = None,
        start_time: Time = None,
        end_time: Time = None,
        status: Annotated[str | None, QueryParameter(max_length=64)] = None,
        page: Page = 1,
        page_size: PageSize = 10,
    ) -> Envelope[StudyList]:
        f = list_filter(id, name, acc_no, start_time, end_time, status, product=product)
        return ok(await studies.list_studies(f, deleted=False, page=page, page_size=page_size))

    @delete("/", status_code=200, guards=[requires(Permission.STUDY_DELETE)])
    async def delete_studies(self, data: JSONBody[StudyIds], studies: StudyServiceDep) -> Envelope[Stat]:
        return ok(await studies.delete_to_bin(batch(data)))

    @get("/{id:str}")
    async def get_study(self, id: FromPath[str], studies: StudyServiceDep) -> Envelope[Study]:
        return ok(await studies.get(id))

    @put("/{id:str}", guards=[requires(Permission.STUDY_WRITE)])
    async def update_study(
        self, id: FromPath[str], data: JSONBody[StudyUpdate], studies: StudyServiceDep, product: ProductDep
    ) -> Envelope[Study]:
        return ok(await studies.update(id, data, product))

    @put("/{id:str}/lock", guards=[requires(Permission.STUDY_WRITE)])
    async def lock_study(
        self, id: FromPath[str], data: JSONBody[LockChange], studies: StudyServiceDep
    ) -> Envelope[dict[str, Any]]:
        await studies.set_lock(id, data.lock)
        return ok()

    @get("/{id:str}/stat")
    async def study_stat(self, id: FromPath[str], studies: StudyServiceDep) -> Envelope[Stat]:
        return ok(await studies.stat(id))


class ImageController(Controller):
    path = "/auth/image"
    tags = ["image"]
    dependencies = SERVICE
    guards = [requires(Permission.STUDY_WRITE)]

    @post("/", status_code=200)
    async def add_views(self, data: JSONBody[ImageAdd], studies: StudyServiceDep) -> Envelope[CreateImageReply]:
        return ok(await studies.add_views(data, current_language()))

    @post("/copy", status_code=200)
    async def copy_view(self, data: JSONBody[InstanceRef], studies: StudyServiceDep) -> Envelope[CreateImageReply]:
        return ok(await studies.copy_view(data.instance_uid))

    @post("/sort", status_code=200)
    async def sort_views(self, data: JSONBody[ImageSort], studies: StudyServiceDep) -> Envelope[ProtoEmpty]:
        await studies.sort_views(data)
        return ok(EMPTY)

    @post("/save_as", status_code=200)
    async def save_as(self, data: JSONBody[InstanceRef], studies: StudyServiceDep) -> Envelope[ProtoEmpty]:
        await studies.save_as(data.instance_uid, copy_with_new_uids)
        return ok(EMPTY)

    @delete("/{id:str}", status_code=200, guards=[requires(Permission.STUDY_DELETE)])
    async def delete_view(
        self, request: Request[Any, Any, Any], id: FromPath[str], studies: StudyServiceDep
    ) -> Envelope[ProtoEmpty]:
        await studies.delete_view(id, may_delete_exposed=allows(request.user.role, Permission.BIN_PURGE))
        return ok(EMPTY)


class RecycleBinController(Controller):
    path = "/auth/recycle_bin"
    tags = ["recycle bin"]
    dependencies = SERVICE
    guards = [requires(Permission.STUDY_READ)]

    @get("/disk_info")
    async def disk_info(self, studies: StudyServiceDep) -> Envelope[DiskInfo]:
        return ok(await studies.disk_info())

    @get("/study/")
    async def list_bin(
        self,
        studies: StudyServiceDep,
        product: ProductDep,
        id: Fuzzy = None,
        name: Fuzzy = None,
        acc_no: Fuzzy = None,
        start_time: Time = None,
        end_time: Time = None,
        page: Page = 1,
        page_size: PageSize = 10,
    ) -> Envelope[StudyList]:
        f = list_filter(id, name, acc_no, start_time, end_time, with_status=False, product=product)
        return ok(await studies.list_studies(f, deleted=True, page=page, page_size=page_size))

    @get("/study/{id:str}")
    async def get_bin_study(self, id: FromPath[str], studies: StudyServiceDep) -> Envelope[Study]:
        return ok(await studies.get(id, deleted=True))

    @post("/study", status_code=200, guards=[requires(Permission.STUDY_DELETE)])
    async def restore(self, data: JSONBody[StudyIds], studies: StudyServiceDep) -> Envelope[ProtoEmpty]:
        await studies.restore(batch(data))
        return ok(EMPTY)

    @delete("/study", status_code=200, guards=[requires(Permission.BIN_PURGE)])
    async def purge(self, data: JSONBody[StudyIds], studies: StudyServiceDep) -> Envelope[ProtoEmpty]:
        await studies.purge(batch(data))
        return ok(EMPTY)

    @delete("/clear", status_code=200, guards=[requires(Permission.BIN_PURGE)])
    async def clear(self, studies: StudyServiceDep) -> Envelope[ProtoEmpty]:
        await studies.purge(None)
        return ok(EMPTY)
