"""`requires(permission)`: the guard on every /auth/ endpoint — token, user, then role."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from dros.auth.roles import Permission, Role, allows
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
    return user_for_token(connection.app.state, token)


def user_for_token(state: Any, token: str) -> User:
    """The user a bearer token stands for; DrosError 401 for any token that is not (or no longer) valid."""
    claims = state.tokens.decode(token)
    record = state.users.by_id(claims.id)
    if record is None or record.user.name != claims.name:
        raise DrosError(ErrorCode.TOKEN_INVALID, en="unknown user", zh="用户不存在")
    if record.password_changed_at is not None:
        auth = state.settings.auth
        lifetime = auth.guest_token_lifetime_s if record.user.role == Role.GUEST else auth.token_lifetime_s
        # Whole seconds on both sides: a token issued within the second of the change stays valid, so
        # the token a client obtains right after changing its password is never refused.
        if claims.issued_at(lifetime) < record.password_changed_at:
            raise DrosError(
                ErrorCode.TOKEN_INVALID,
                en="issued before the last password change; log in with the new password",
                zh="令牌签发于最近一次修改密码之前，请使用新密码重新登录",
            )
    user: User = record.user
    return user


def requires(permission: Permission) -> Guard:
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
