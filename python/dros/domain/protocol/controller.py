"""auth/protocol/* (API reference §8) and the public pictogram files pub/Image/* (§6.1).

Choices the reference leaves open (§17.7), documented in docs/protocol-catalog.md:
- `is_enabled` omitted = no filter (enabled and disabled items); every list is ordered by the parent's `sort`,
  the item's `sort`, then its record id.
- `page`/`page_size` default to 1/10 on the procedure list as on the view list; `count` is the total.
- Query parameters on look-ups by id (`view/{id}`, `view/{id}/apr`, `apr/{id}`) are conditions the item must
  meet; an item that does not meet them is "not found" (404).
- `procedure/{id}` accepts the `procedure_id` (P0-0002) or the record id ("2").
- `apr/{id}/device` and `/tech` default to the work station of the APR's view and to patient size Medium.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, PathParameter, QueryParameter
from litestar.response import File

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.deps import DbDep, ProductDep, SettingsDep
from dros.domain.protocol import repo, service
from dros.domain.protocol.install import image_root
from dros.domain.protocol.schemas import (
    AprDevice,
    AprReply,
    AprUpdate,
    BodyPartList,
    PatientSize,
    PatientTypeList,
    ProcedureList,
    ProcedureType,
    TechParam,
    ThicknessApr,
    View,
    ViewList,
)
from dros.envelope import Envelope, ok
from dros.errors import DrosError, ErrorCode, invalid_param, not_found
from dros.paging import Page, PageSize
from dros.store.db import Conn
from dros.validation import decode_error, decode_problem

Key = Annotated[str | None, QueryParameter(min_length=1, max_length=128)]
Modality = Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{2}$")]
WorkStation = Annotated[int | None, QueryParameter(ge=0, le=1)]
PathKey = Annotated[str, PathParameter(min_length=1, max_length=128)]
Enabled = Annotated[bool | None, QueryParameter()]
ProcType = Annotated[ProcedureType | None, QueryParameter()]
Size = Annotated[PatientSize | None, QueryParameter()]


class ProtocolController(Controller):
    path = "/auth/protocol"
    tags = ["protocol"]
    guards = [requires(Permission.CATALOG_READ)]

    @get("/patient_type")
    async def patient_types(
        self, db: DbDep, product: ProductDep, is_enabled: Enabled = None
    ) -> Envelope[PatientTypeList]:
        rows = await db.read(lambda c: repo.patient_types(c, product, is_enabled))
        return ok(PatientTypeList(patient_type_list=[service.patient_type(r) for r in rows]))

    @get("/body_part")
    async def body_parts(
        self,
        db: DbDep,
        product: ProductDep,
        patient_type: Key = None,
        modality: Modality = None,
        is_enabled: Enabled = None,
    ) -> Envelope[BodyPartList]:
        rows = await db.read(lambda c: repo.body_parts(c, product, patient_type, modality, is_enabled))
        return ok(BodyPartList(body_part_list=[service.body_part(r) for r in rows]))

    @get("/procedure")
    async def procedures(
        self,
        db: DbDep,
        product: ProductDep,
        patient_type: Key = None,
        body_part: Key = None,
        procedure_type: ProcType = None,
        modality: Modality = None,
        is_enabled: Enabled = None,
        page: Page = 1,
        page_size: PageSize = 10,
    ) -> Envelope[ProcedureList]:
        total, rows = await db.read(
            lambda c: repo.procedures(
                c, product, patient_type, body_part, procedure_type, modality, is_enabled, page, page_size
            )
        )
        return ok(ProcedureList(count=total, procedures=[service.procedure(r) for r in rows]))

    @get("/view")
    async def views(
        self,
        db: DbDep,
        product: ProductDep,
        patient_type: Key = None,
        body_part: Key = None,
        modality: Modality = None,
        is_enabled: Enabled = None,
        page: Page = 1,
        page_size: PageSize = 10,
    ) -> Envelope[ViewList]:
        total, rows = await db.read(
            lambda c: repo.views(c, product, patient_type, body_part, modality, is_enabled, page, page_size)
        )
        return ok(ViewList(count=total, views=[service.view(r) for r in rows]))

    @get("/procedure/{id:str}/view")
    async def procedure_views(
        self,
        db: DbDep,
        product: ProductDep,
        id: PathKey,
        is_enabled: Enabled = None,
    ) -> Envelope[ViewList]:
        def read(c: Conn) -> list[dict[str, Any]]:
            proc = repo.procedure(c, product, id)
            if proc is None:
                raise not_found("id", id)
            return repo.procedure_views(c, product, proc["procedure_id"], is_enabled)

        rows = await db.read(read)
        return ok(ViewList(count=len(rows), views=[service.view(r) for r in rows]))

    @get("/view/{id:str}")
    async def view(
        self,
        db: DbDep,
        product: ProductDep,
        id: PathKey,
        patient_type: Key = None,
        body_part: Key = None,
        is_enabled: Enabled = None,
        procedure_id: Key = None,
    ) -> Envelope[View]:
        row = await db.read(lambda c: repo.view(c, product, id, patient_type, body_part, is_enabled, procedure_id))
        if row is None:
            raise not_found("id", id)
        return ok(service.view(row, typed=True))

    @get("/view/{id:str}/apr")
    async def view_apr(
        self,
        db: DbDep,
        product: ProductDep,
        id: PathKey,
        patient_type: Key = None,
        body_part: Key = None,
        is_enabled: Enabled = None,
        procedure_id: Key = None,
    ) -> Envelope[AprReply]:
        # rows are read on a reader thread; replies are built here, where the request's language is set
        def read(c: Conn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            v = repo.view(c, product, id, patient_type, body_part, is_enabled, procedure_id)
            a = repo.apr(c, product, v["apr_id"]) if v else None
            if a is None:
                raise not_found("id", id)
            return a, repo.exposures(c, product, a["apr_id"])

        return ok(service.apr(*await db.read(read)))

    @get("/apr/{id:str}")
    async def apr(
        self,
        db: DbDep,
        product: ProductDep,
        id: PathKey,
        patient_type: Key = None,
        body_part: Key = None,
        is_enabled: Enabled = None,
        procedure_id: Key = None,
    ) -> Envelope[AprReply]:
        def read(c: Conn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            a = repo.apr(c, product, id, patient_type, body_part, is_enabled, procedure_id)
            if a is None:
                raise not_found("id", id)
            return a, repo.exposures(c, product, id)

        return ok(service.apr(*await db.read(read)))

    @post("/apr/{id:str}", status_code=200, guards=[requires(Permission.CATALOG_EDIT)])
    async def edit_apr(
        self, request: Request[Any, Any, Any], db: DbDep, product: ProductDep, id: PathKey
    ) -> Envelope[dict[str, Any]]:
        """Edit one exposure entry (kV, mA, ms, mAs) of an APR, or restore factory values with "reset": true."""
        data = decode_strict(await request.body(), AprUpdate)
        service.check_update(data)
        user = request.user.name

        def write(c: Conn) -> None:
            if repo.apr(c, product, id) is None:
                raise not_found("id", id)
            if data.reset:
                repo.reset_edits(c, product, id, data.work_station_id, data.patient_size)
                return
            assert data.work_station_id is not None and data.patient_size is not None
            assert data.kV is not None and data.mA is not None and data.ms is not None and data.mAs is not None
            repo.save_edit(
                c, product, id, data.work_station_id, data.patient_size, data.kV, data.mA, data.ms, data.mAs, user
            )

        await db.write(write)
        return ok({})

    @get("/apr/{id:str}/device")
    async def apr_device(
        self,
        db: DbDep,
        product: ProductDep,
        id: PathKey,
        work_station_id: WorkStation = None,
    ) -> Envelope[AprDevice]:
        def read(c: Conn) -> dict[str, Any]:
            if repo.apr(c, product, id) is None:
                raise not_found("id", id)
            ws = work_station_id if work_station_id is not None else repo.default_work_station(c, product, id)
            d = repo.device(c, product, id, ws)
            if d is None:
                raise not_found("work_station_id", ws)
            return d

        return ok(service.device(await db.read(read)))

    @get("/apr/{id:str}/tech")
    async def apr_tech(
        self,
        db: DbDep,
        product: ProductDep,
        id: PathKey,
        work_station_id: WorkStation = None,
        patient_size: Size = None,
    ) -> Envelope[TechParam]:
        size = str(patient_size or PatientSize.Medium)

        def read(c: Conn) -> tuple[dict[str, Any], dict[str, Any]]:
            if repo.apr(c, product, id) is None:
                raise not_found("id", id)
            ws = work_station_id if work_station_id is not None else repo.default_work_station(c, product, id)
            d = repo.device(c, product, id, ws)
            e = next(
                (e for e in repo.exposures(c, product, id) if e["work_station_id"] == ws and e["patient_size"] == size),
                None,
            )
            if d is None or e is None:
                raise not_found("work_station_id", ws)
            return d, e

        return ok(service.tech(*await db.read(read)))

    @get("/thickness/{thickness:str}/apr")
    async def thickness_apr(self, db: DbDep, thickness: FromPath[str]) -> Envelope[ThicknessApr]:
        # a str path segment, so that "abc" and "0" both get the envelope naming the field, not a bare 404
        try:
            cm = int(thickness)
        except ValueError:
            raise invalid_param(
                "thickness",
                f"{thickness!r} is not a whole number of cm (1–50)",
                f"{thickness!r} 不是整数厘米值（1–50）",
            ) from None
        if not 1 <= cm <= 50:
            raise invalid_param("thickness", f"{cm} is outside 1–50 cm", f"{cm} 超出范围 1–50 厘米")
        row = await db.read(lambda c: repo.thickness(c, cm))
        if row is None:
            raise not_found("thickness", cm)
        return ok(service.thickness(row))


S = TypeVar("S")


def decode_strict(body: bytes, kind: type[S]) -> S:
    """JSON → Struct without Litestar's lenient coercions ("57" is not a number of kV); errors name the field."""
    if not body.strip():
        raise DrosError(ErrorCode.MALFORMED_BODY, en="a JSON body is required", zh="需要 JSON 请求体")
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as e:
        raise decode_error(e, kind) from None
    except msgspec.DecodeError as e:
        en, zh = decode_problem(str(e))
        raise DrosError(ErrorCode.MALFORMED_BODY, en=en, zh=zh) from None


IMAGE_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}


def resolve_image(root: Path, filepath: str) -> Path:
    """The file under `root` that `filepath` names; refuses anything that could leave `root`."""
    rel = filepath.lstrip("/")
    parts = rel.split("/")
    if (
        not rel
        or "\\" in rel
        or "\0" in rel
        or ":" in rel
        or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
    ):
        raise invalid_param(
            "filepath",
            f"{filepath!r} is not a plain relative path below Image/",
            f"{filepath!r} 不是 Image/ 下的相对路径",
        )
    suffix = Path(parts[-1]).suffix.lower()
    if suffix not in IMAGE_TYPES:
        raise invalid_param(
            "filepath",
            f"{suffix or 'no extension'} is not an image type ({', '.join(sorted(IMAGE_TYPES))})",
            f"{suffix or '无扩展名'} 不是图片类型",
        )
    base = root.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base):
        raise invalid_param("filepath", "leaves the Image directory", "超出 Image 目录")
    if not target.is_file():
        raise DrosError(ErrorCode.NOT_FOUND, field="filepath", en=f"no image {rel!r}", zh=f"不存在图片 {rel!r}")
    return target


class ImageFileController(Controller):
    """GET pub/Image/{filepath}: the position pictograms (and any image placed under <data_dir>/Image)."""

    path = "/pub/Image"
    tags = ["files"]

    @get("/{filepath:path}")
    async def image(self, settings: SettingsDep, filepath: FromPath[str]) -> File:
        target = resolve_image(image_root(settings), filepath)
        media = IMAGE_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
        return File(
            target,
            content_disposition_type="inline",
            media_type=media,
            headers={"Cache-Control": "public, max-age=3600"},
        )
