"""Every error, from any layer, answers with the envelope — never a framework page, never a 500
for something a client can send."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from typing import Any

import duckdb
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE

from dros.envelope import Envelope
from dros.errors import ClientInputError, DrosError, ErrorCode
from dros.i18n import parse_language
from dros.settings import Locale
from dros.validation import BODY, decode_problem, invalid_parameter, parse, parse_signature

log = logging.getLogger("dros.errors")

_STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# DuckDB reports a full disk only in its message (an IOException, a TransactionException when the
# commit's WAL write fails, a FatalException when the checkpoint after a durable commit fails)
_NO_SPACE_TEXT = os.strerror(errno.ENOSPC)


def request_language(request: Request[Any, Any, Any]) -> Locale:
    system: Locale = getattr(request.app.state, "system_language", Locale.en_US)
    return parse_language(request.headers.get("language")) or system


def envelope_response(request: Request[Any, Any, Any], err: DrosError) -> Response[Envelope[Any]]:
    lang = request_language(request)
    data = dict(err.data)
    if err.field:
        data.setdefault("field", err.field)
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        data.setdefault("request_id", request_id)
    headers = {}
    if err.code is ErrorCode.LOGIN_THROTTLED and "retry_after" in data:
        headers["Retry-After"] = str(data["retry_after"])
    body = Envelope(code=err.code.info.code, description=err.describe(lang), solution=err.solution(lang), data=data)
    return Response(body, status_code=err.code.info.status, headers=headers)


def handle_dros_error(request: Request[Any, Any, Any], exc: DrosError) -> Response[Any]:
    return envelope_response(request, exc)


def _decoded_type(request: Request[Any, Any, Any], key: str | None, field: str) -> tuple[Any, str]:
    """The type the handler declared for the value at fault and the field's path inside it: a parameter
    named by Litestar's `key`, else the body (`data`)."""
    parameters = getattr(getattr(request.route_handler, "parsed_fn_signature", None), "parameters", {})
    if key is None:
        return None, ""
    if key != "data" and key in parameters:
        return parameters[key].annotation, ""
    body = parameters.get("data")
    return (None, "") if body is None else (body.annotation, "" if field == BODY else field)


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    items = [i for i in exc.extra if isinstance(i, dict)] if isinstance(exc.extra, list) else []
    if not items:
        # Litestar's own parameter checks ("Missing required query parameter 'x' …") carry no extra
        return envelope_response(request, invalid_parameter(parse(str(exc.detail))))
    message, raw_key = str(items[0].get("message", "")), items[0].get("key")
    key = None if raw_key is None else str(raw_key)
    if key == "data" and message.strip("'\" ") in ("", "data"):
        # Litestar's report for an absent body
        return envelope_response(
            request, DrosError(ErrorCode.MALFORMED_BODY, en="a JSON body is required", zh="需要 JSON 请求体")
        )
    cause = exc.__cause__
    exact = parse_signature(str(cause)) if isinstance(cause, msgspec.ValidationError) else None
    if exact is not None:
        key, problem = exact
    else:
        problem = parse(message, key)
    tp, path = _decoded_type(request, key, problem.field)
    return envelope_response(request, invalid_parameter(problem, tp, path))


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException):
        code = ErrorCode.ROUTE_NOT_FOUND if exc.detail in ("Not Found", "") else ErrorCode.NOT_FOUND
        return envelope_response(request, DrosError(code, en=None if code is ErrorCode.ROUTE_NOT_FOUND else exc.detail))
    if isinstance(exc, MethodNotAllowedException):
        return envelope_response(request, DrosError(ErrorCode.METHOD_NOT_ALLOWED))
    if isinstance(exc, NotAuthorizedException):
        return envelope_response(request, DrosError(ErrorCode.UNAUTHENTICATED))
    if isinstance(exc, PermissionDeniedException):
        return envelope_response(request, DrosError(ErrorCode.FORBIDDEN))
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        return envelope_response(request, DrosError(ErrorCode.PAYLOAD_TOO_LARGE))
    if type(exc) is ClientException and exc.status_code == 400:
        # raised by Litestar when the body does not decode (msgspec.DecodeError), before any field exists
        en, zh = decode_problem(str(exc.detail))
        return envelope_response(request, DrosError(ErrorCode.MALFORMED_BODY, en=en, zh=zh))
    if 400 <= exc.status_code < 500:
        return envelope_response(
            request, DrosError(ErrorCode.INVALID_PARAMETER, en=str(exc.detail), zh=str(exc.detail))
        )
    return handle_internal(request, exc)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what it was raised from or during, and the members of exception groups (bounded)."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 16:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)


def is_storage_full(exc: BaseException) -> bool:
    """A full disk (or quota) anywhere in the exception's chain: an OSError (also the core's CoreIOError)
    with ENOSPC/EDQUOT, or a DuckDB error whose message says so."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in _STORAGE_ERRNOS:
            return True
        if isinstance(e, duckdb.Error) and _NO_SPACE_TEXT in str(e):
            return True
    return False


def _request_body_not_utf8(exc: Exception) -> bool:
    """A UnicodeDecodeError raised while Litestar decoded the request's JSON body (msgspec refuses
    bytes that are not UTF-8 with this error, not with a DecodeError): the client's bytes, not a bug.
    Told apart from our own decoding by the frame it came from (`Request.json`)."""
    if not isinstance(exc, UnicodeDecodeError):
        return False
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "json" and code.co_filename.endswith(os.path.join("litestar", "connection", "request.py")):
            return True
        tb = tb.tb_next
    return False


def classify(exc: Exception) -> DrosError | None:
    """The table entry for an exception raised by something other than our own code (`DrosError`):
    None means internal (0x0F0001, 500)."""
    if _request_body_not_utf8(exc):
        return DrosError(
            ErrorCode.MALFORMED_BODY, en="the body is not UTF-8 encoded JSON", zh="请求体不是 UTF-8 编码的 JSON"
        )
    if isinstance(exc, ClientInputError):
        cause = str(exc.cause)
        return DrosError(
            ErrorCode.INVALID_PARAMETER,
            field=exc.field,
            en=f"the image data was refused: {cause}",
            zh="图像数据无效",
            data={"detail": cause},
        )
    if is_storage_full(exc):
        if any(isinstance(e, duckdb.FatalException) for e in _chain(exc)):
            # DuckDB invalidated the open database (a checkpoint found no space): only a restart reopens it
            return DrosError(
                ErrorCode.STORAGE_FULL,
                en="no space left on the data disk; the database stopped: free space, then restart the service",
                zh="数据盘已满，数据库已停止：请释放空间后重启服务",
            )
        return DrosError(ErrorCode.STORAGE_FULL, en="no space left on the data disk", zh="数据盘已满")
    if isinstance(exc, (duckdb.ConstraintException, duckdb.TransactionException)):
        # two writers met on the same rows: the state changed under the request, not a bug in it
        return DrosError(ErrorCode.CONFLICT, en="the data changed while the request ran", zh="请求执行期间数据已被修改")
    return None


def _request_id(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


def handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    mapped = classify(exc)
    where = (request.method, request.url.path, _request_id(request))
    if mapped is None:
        log.error("internal error on %s %s (request %s)", *where, exc_info=exc)
        return envelope_response(request, DrosError(ErrorCode.INTERNAL))
    if mapped.code is ErrorCode.STORAGE_FULL:
        log.error("disk full on %s %s (request %s)", *where, exc_info=exc)
    elif mapped.code is ErrorCode.CONFLICT:
        log.warning("write conflict on %s %s (request %s)", *where, exc_info=exc)
    return envelope_response(request, mapped)


EXCEPTION_HANDLERS = {
    DrosError: handle_dros_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_internal,
}
