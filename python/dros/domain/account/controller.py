"""The current user's password and the system language."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from dros.auth import users as user_store
from dros.auth.guards import requires
from dros.auth.passwords import hash_password_async, verify_password_async
from dros.auth.roles import Permission
from dros.deps import DbDep, SettingsDep
from dros.domain.account.schemas import LanguageChange, PasswordChange
from dros.envelope import Envelope, ok
from dros.errors import DrosError, ErrorCode
from dros.i18n import set_current_language
from dros.store import system_settings


class AccountController(Controller):
    path = "/auth"
    tags = ["settings"]

    @post("/settings/password", status_code=200, guards=[requires(Permission.PROFILE)])
    async def change_password(
        self, request: Request[Any, Any, Any], data: JSONBody[PasswordChange], db: DbDep, settings: SettingsDep
    ) -> Envelope[dict[str, Any]]:
        state = request.app.state
        user = request.user
        record = state.users.by_id(user.id)
        if not await verify_password_async(record.password_hash, data.old_password):
            raise DrosError(ErrorCode.WRONG_PASSWORD, field="old_password")
        if data.new_password != data.confirm_new_password:
            raise DrosError(ErrorCode.PASSWORD_MISMATCH, field="confirm_new_password")
        minimum = settings.auth.password_min_length
        if len(data.new_password) < minimum:
            raise DrosError(
                ErrorCode.PASSWORD_POLICY,
                field="new_password",
                en=f"at least {minimum} characters",
                zh=f"至少 {minimum} 个字符",
            )
        if data.new_password.strip() != data.new_password or not data.new_password.isprintable():
            raise DrosError(
                ErrorCode.PASSWORD_POLICY,
                field="new_password",
                en="no leading/trailing spaces or control characters",
                zh="不能包含首尾空格或控制字符",
            )
        if data.new_password == data.old_password:
            raise DrosError(
                ErrorCode.PASSWORD_POLICY,
                field="new_password",
                en="must differ from the old password",
                zh="不能与旧密码相同",
            )
        new_hash = await hash_password_async(data.new_password)
        is_default = data.new_password == user_store.DEFAULT_PASSWORD
        await db.write(lambda conn: user_store.set_password_hash(conn, user.id, new_hash, is_default=is_default))
        state.users.replace(await db.read(user_store.load_users))
        return ok()

    @post("/manage/language", status_code=200, guards=[requires(Permission.SYSTEM_LANGUAGE)])
    async def change_language(
        self, request: Request[Any, Any, Any], data: JSONBody[LanguageChange], db: DbDep
    ) -> Envelope[dict[str, Any]]:
        await db.write(lambda conn: system_settings.put(conn, system_settings.LANGUAGE, str(data.lang)))
        request.app.state.system_language = data.lang
        if request.headers.get("language") is None:
            set_current_language(data.lang)
        return ok()
