"""`requires(permission)`: the guard on every /auth/ endpoint — token, user, then role."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from dros.auth.roles import Permission, allows
from dros.auth.users import User
from dros.errors import DrosError, ErrorCode


def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    header = connection.headers.get("authorization")
    if not header:
        raise DrosError(ErrorCode.UNAUTHENTICATED)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise DrosError(ErrorCode.TOKEN_INVALID, en="expected 'Bearer <token>'", zh="格式应为 'Bearer <token>'")
    state = connection.app.state
    user_id, name = state.tokens.decode(token)
    record = state.users.by_id(user_id)
    if record is None or record.user.name != name:
        raise DrosError(ErrorCode.TOKEN_INVALID, en="unknown user", zh="用户不存在")
    return record.user


def requires(permission: Permission):
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = authenticate(connection)
        if not allows(user.role, permission):
            raise DrosError(
                ErrorCode.FORBIDDEN,
                en=f"role '{user.role}' lacks permission '{permission}'",
                zh=f"角色 '{user.role}' 没有 '{permission}' 权限",
            )
        connection.scope["user"] = user

    guard.permission = permission  # type: ignore[attr-defined]  # read by the route audit test
    guard.__name__ = f"requires_{permission.replace(':', '_')}"
    return guard
