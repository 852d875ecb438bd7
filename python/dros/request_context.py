"""Per-request context: request id + structured access log (ASGI middleware), and the
Language / Product headers resolved once per request (before_request hook)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dros.errors import DrosError, ErrorCode
from dros.i18n import parse_language, set_current_language
from dros.settings import Product

access_log = logging.getLogger("dros.access")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = incoming if incoming.isprintable() and incoming else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "event": "request",
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        }
                    )
                )

    return middleware


async def resolve_headers(request: Request[Any, Any, Any]) -> None:
    """before_request: validate Language and Product, make them the request's context."""
    raw_language = request.headers.get("language")
    language = parse_language(raw_language)
    if raw_language is not None and raw_language.strip() and language is None:
        raise DrosError(
            ErrorCode.INVALID_HEADER,
            field="Language",
            en=f"unsupported value {raw_language!r}; use en_US or zh_CN",
            zh=f"不支持的值 {raw_language!r}，请使用 en_US 或 zh_CN",
        )
    set_current_language(language or request.app.state.system_language)
    raw_product = request.headers.get("product")
    if raw_product is None or not raw_product.strip():
        product = request.app.state.settings.product
    else:
        try:
            product = Product(raw_product.strip().upper())
        except ValueError:
            raise DrosError(
                ErrorCode.INVALID_HEADER,
                field="Product",
                en=f"unsupported value {raw_product!r}; use DROS or VETDROS",
                zh=f"不支持的值 {raw_product!r}，请使用 DROS 或 VETDROS",
            ) from None
    request.state.product = product


def provide_product(request: Request[Any, Any, Any]) -> Product:
    product: Product = request.state.product
    return product


def provide_db(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.db


def provide_settings(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.settings
