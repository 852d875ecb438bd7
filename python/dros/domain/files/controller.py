"""GET pub/{thumbnail,dcm,capture}/{name} and auth/f/{thumbnail,dcm,capture}/{name} (§6).

Decision (§6 leaves it open): both variants serve the same files to the same users. A `pub/` variant
differs only in where the token may come from: besides the `Authorization` header, a `?token=` query
parameter, so an `<img src>`, a download link or a DICOM viewer that cannot set headers can fetch the
file. The token must belong to a user with `file:read` (tech, mgr, admin, service): a holder of only
the guest token (which `pub/software_info` hands to anyone) gets 403 and sees nothing — every one of
these files shows a patient. Without any token: 401.

Names: only the names the service gives (`<sop>.dcm`, `<sop>.webp`, `<sop>.png`) of images that exist
(live studies and studies in the recycle bin; views in the bin are not served); anything else —
traversal, other folders, other suffixes — is 404 with the envelope. Content types: application/dicom,
image/webp, image/png. Strong `ETag` (size + mtime) with `If-None-Match` → 304; `Range: bytes=a-b`
(one range, also `a-` and `-n`) → 206 with `Content-Range`, a range outside the file → 416; `If-Range`
with another ETag sends the whole file.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath

from dros.auth.guards import requires, user_for_token
from dros.auth.roles import Permission, allows
from dros.domain.files.ranges import Unsatisfiable
from dros.domain.files.service import FilePart, FileService
from dros.errors import DrosError, ErrorCode
from dros.exception_handlers import envelope_response


def provide_files(request: Request[Any, Any, Any]) -> FileService:
    state = request.app.state
    service = getattr(state, "file_service", None)
    if service is None:
        service = FileService(state.db, state.settings.data_path)
        state.file_service = service
    return service


FilesDep = NamedDependency[FileService]


async def file_token_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """`requires(file:read)` that also takes the token from `?token=` (see the module docstring)."""
    header = connection.headers.get("authorization")
    token = connection.query_params.get("token")
    if header:
        scheme, _sep, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise DrosError(ErrorCode.TOKEN_INVALID, en="expected 'Bearer <token>'", zh="格式应为 'Bearer <token>'")
        token = value.strip()
    if not token:
        raise DrosError(ErrorCode.UNAUTHENTICATED)
    user = user_for_token(connection.app.state, token)
    if not allows(user.role, Permission.FILE_READ):
        raise DrosError(
            ErrorCode.FORBIDDEN,
            en=f"role '{user.role}' lacks permission '{Permission.FILE_READ}'",
            zh=f"角色 '{user.role}' 没有 '{Permission.FILE_READ}' 权限",
        )
    connection.scope["user"] = user


file_token_guard.permission = Permission.FILE_READ  # type: ignore[attr-defined]


async def _serve(request: Request[Any, Any, Any], files: FileService, path_field: str, path: Any) -> Response[Any]:
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    try:
        part: FilePart = await files.read(path, path_field, range_header, request.headers.get("if-none-match"))
        if part.byte_range is not None and if_range and if_range.strip() != part.etag:
            part = await files.read(path, path_field, None, None)  # changed since: the whole file
    except Unsatisfiable as exc:
        err = DrosError(ErrorCode.INVALID_PARAMETER, field="Range", en="outside the file", zh="超出文件范围")
        resp = envelope_response(request, err)
        resp.status_code = 416
        resp.headers["Content-Range"] = f"bytes */{exc.size}"
        return resp
    headers = {
        "ETag": part.etag,
        "Accept-Ranges": "bytes",
        # patient data: never in shared caches; clients revalidate with the ETag
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f'inline; filename="{path.name}"',
    }
    if part.not_modified:
        return Response(b"", status_code=304, headers=headers)
    if part.byte_range is not None:
        first, last = part.byte_range
        headers["Content-Range"] = f"bytes {first}-{last}/{part.size}"
        return Response(part.body, status_code=206, media_type=part.media_type, headers=headers)
    return Response(part.body, status_code=200, media_type=part.media_type, headers=headers)


class _FileEndpoints(Controller):
    tags = ["files"]
    dependencies = {"files": Provide(provide_files, sync_to_thread=False)}

    @get("/thumbnail/{filename:str}")
    async def thumbnail(
        self, request: Request[Any, Any, Any], files: FilesDep, filename: FromPath[str]
    ) -> Response[Any]:
        return await _serve(request, files, "filename", await files.thumbnail_path(filename))

    @get("/dcm/{dcmfilename:str}")
    async def dcm(self, request: Request[Any, Any, Any], files: FilesDep, dcmfilename: FromPath[str]) -> Response[Any]:
        return await _serve(request, files, "dcmfilename", await files.dcm_path(dcmfilename))

    @get("/capture/{filename:str}")
    async def capture(self, request: Request[Any, Any, Any], files: FilesDep, filename: FromPath[str]) -> Response[Any]:
        return await _serve(request, files, "filename", await files.capture_path(filename))


class PubFileController(_FileEndpoints):
    """pub/thumbnail, pub/dcm, pub/capture: token in the header or `?token=`."""

    path = "/pub"
    guards = [file_token_guard]


class AuthFileController(_FileEndpoints):
    """auth/f/thumbnail, auth/f/dcm, auth/f/capture: token in the header."""

    path = "/auth/f"
    guards = [requires(Permission.FILE_READ)]
