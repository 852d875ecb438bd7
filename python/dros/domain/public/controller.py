"""Public endpoints (pub/*): no token needed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import File

from dros.auth.guards import user_for_token
from dros.auth.passwords import DUMMY_HASH, verify_password_async
from dros.auth.roles import Role
from dros.deps import SettingsDep
from dros.domain.public.schemas import LanguageItem, LoginReply, LoginRequest, Quota, SoftwareInfo
from dros.envelope import Envelope, ok
from dros.errors import DrosError, ErrorCode
from dros.i18n import LANGUAGE_NAMES, TRANSLATION_FILES
from dros.settings import Locale


class PublicController(Controller):
    path = "/pub"
    tags = ["public"]

    @get("/software_info")
    async def software_info(self, request: Request[Any, Any, Any], settings: SettingsDep) -> Envelope[SoftwareInfo]:
        state = request.app.state
        guest = state.users.by_name(Role.GUEST.value)
        token, _ = state.tokens.issue(guest.user.id, guest.user.name, settings.auth.guest_token_lifetime_s)
        info = SoftwareInfo(
            FPD=settings.device.detector,
            GEN=settings.device.generator,
            current_locale=str(state.system_language),
            default_locale=str(settings.default_language),
            guest=token,
            language=[loc.value.split("_")[0] for loc in Locale],
            product=str(settings.product),
            server=state.build_info,
            sn=state.serial,
        )
        if _service_user(request):
            info.default_password_users = state.users.with_default_password()
        return ok(info)

    @get("/trans/{locale:str}/{filename:str}", media_type="application/javascript")
    async def translation(self, locale: FromPath[str], filename: FromPath[str]) -> File:
        path = TRANSLATION_FILES.get((locale, filename))
        if path is None:
            raise DrosError(
                ErrorCode.NOT_FOUND,
                field="filename",
                en=f"no translation file {locale}/{filename}; use en_US/en.js or zh_CN/zh.js",
                zh=f"不存在翻译文件 {locale}/{filename}，请使用 en_US/en.js 或 zh_CN/zh.js",
            )
        return File(path, content_disposition_type="inline", media_type="application/javascript; charset=utf-8")

    @get("/language")
    async def language(self) -> Envelope[list[LanguageItem]]:
        return ok([LanguageItem(language=str(loc), display=LANGUAGE_NAMES[loc]) for loc in Locale])

    @get("/users")
    async def users(self, request: Request[Any, Any, Any]) -> Envelope[list[str]]:
        return ok(request.app.state.users.listed_names())

    @post("/login", status_code=200)
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest], settings: SettingsDep
    ) -> Envelope[LoginReply]:
        state = request.app.state
        address = request.client.host if request.client else "unknown"
        wait = state.throttle.retry_after(data.username, address)
        if wait > 0:
            raise DrosError(
                ErrorCode.LOGIN_THROTTLED,
                field="username",
                en=f"try again in {int(wait) + 1} s",
                zh=f"请在 {int(wait) + 1} 秒后重试",
                data={"retry_after": int(wait) + 1},
            )
        record = state.users.by_name(data.username)
        # Verify against a dummy hash for unknown users so timing does not reveal which names exist.
        valid = await verify_password_async(record.password_hash if record else DUMMY_HASH, data.password)
        if record is None or not valid or record.user.role == Role.GUEST:
            state.throttle.failed(data.username, address)
            raise DrosError(ErrorCode.LOGIN_FAILED)
        state.throttle.succeeded(data.username, address)
        token, exp = state.tokens.issue(record.user.id, record.user.name, settings.auth.token_lifetime_s)
        return ok(
            LoginReply(token=token, expire=exp, uid=record.user.id, name=record.user.name, avatar=record.user.avatar)
        )

    @get("/quota")
    async def quota(self) -> Envelope[Quota]:
        # No cloud service is connected to an embedded DROS: nothing is counted against a quota.
        return ok(Quota(total=0, available=0, online=False, overdue=False))


def _service_user(request: Request[Any, Any, Any]) -> bool:
    """True when the (optional) bearer token is a service user's; any other token is ignored here."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        return user_for_token(request.app.state, token.strip()).role == Role.SERVICE
    except DrosError:
        return False
