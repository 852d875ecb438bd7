"""Every error, from any layer, answers with the envelope — never a framework page, never a 500
for something a client can send."""

from __future__ import annotations

import logging
import re
from typing import Any

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
from dros.errors import DrosError, ErrorCode
from dros.i18n import parse_language
from dros.settings import Locale

log = logging.getLogger("dros.errors")

_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def request_language(request: Request[Any, Any, Any]) -> Locale:
    return parse_language(request.headers.get("language")) or getattr(
        request.app.state, "system_language", Locale.en_US
    )


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


def _field_from_validation(exc: ValidationException) -> tuple[str | None, str]:
    """(field name, message) from Litestar's ValidationException (query, path, header or body)."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", exc.detail))
        key = item.get("key")
        m = _AT_PATH.search(message)
        missing = _MISSING.search(message)
        if m:
            path = m.group("path").lstrip(".")
            message = _AT_PATH.sub("", message)
            if missing:
                path = f"{path}.{missing.group('name')}" if path else missing.group("name")
            return (path or key or "body"), message
        if missing:
            name = missing.group("name")
            return (f"{key}.{name}" if key and key != "data" else name), message
        if key:
            return str(key), message
        return None, message
    return None, str(exc.detail)


def handle_dros_error(request: Request[Any, Any, Any], exc: DrosError) -> Response[Any]:
    return envelope_response(request, exc)


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    field, message = _field_from_validation(exc)
    if field == "data" and message.strip("'\" ") in ("", "data"):
        # Litestar's report for an absent body
        return envelope_response(
            request, DrosError(ErrorCode.MALFORMED_BODY, en="a JSON body is required", zh="需要 JSON 请求体")
        )
    if field is None:
        # no field could be named: the body did not decode at all (truncated, not JSON, bad UTF-8)
        return envelope_response(request, DrosError(ErrorCode.MALFORMED_BODY, en=message, zh=message))
    return envelope_response(request, DrosError(ErrorCode.INVALID_PARAMETER, field=field, en=message, zh=message))


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
        return envelope_response(request, DrosError(ErrorCode.MALFORMED_BODY, en=str(exc.detail), zh=str(exc.detail)))
    if 400 <= exc.status_code < 500:
        return envelope_response(
            request, DrosError(ErrorCode.INVALID_PARAMETER, en=str(exc.detail), zh=str(exc.detail))
        )
    return handle_internal(request, exc)


def handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return envelope_response(request, DrosError(ErrorCode.INTERNAL))


EXCEPTION_HANDLERS = {
    DrosError: handle_dros_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_internal,
}
