"""resource/options and resource/config."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.deps import ProductDep, SettingsDep
from dros.domain.resource.schemas import Option, OptionReply
from dros.domain.resource.service import config_items, option_groups, options_for
from dros.envelope import Envelope, ok
from dros.errors import DrosError, ErrorCode, invalid_param
from dros.i18n import current_language

Name = Annotated[str, QueryParameter(min_length=1, max_length=64)]


class ResourceController(Controller):
    path = "/auth/resource"
    tags = ["resources"]
    guards = [requires(Permission.RESOURCE_READ)]

    @get("/options")
    async def options(
        self, product: ProductDep, group: Name = "basic", flag: Name = "sex_full"
    ) -> Envelope[OptionReply]:
        groups = option_groups()
        if group not in groups:
            raise invalid_param(
                "group",
                f"unknown group {group!r}; one of {sorted(groups)}",
                f"未知分组 {group!r}，可选 {sorted(groups)}",
            )
        found = options_for(group, flag, product, current_language())
        if found is None:
            flags = sorted(groups[group])
            raise invalid_param(
                "flag",
                f"unknown flag {flag!r} for group {group!r}; one of {flags}",
                f"分组 {group!r} 下无 {flag!r}，可选 {flags}",
            )
        return ok(OptionReply(option=found))

    @get("/config")
    async def config(
        self,
        request: Request[Any, Any, Any],
        settings: SettingsDep,
        uri: Annotated[str | None, QueryParameter(max_length=128)] = None,
    ) -> Envelope[OptionReply]:
        items = config_items(settings, request.app.state.system_language)
        if uri:
            key = uri.strip("/")
            selected = {k: v for k, v in items.items() if k == key or k.startswith(key + "/")}
            if not selected:
                raise DrosError(
                    ErrorCode.NOT_FOUND,
                    field="uri",
                    en=f"no configuration item {uri!r}; known: {sorted(items)}",
                    zh=f"不存在配置项 {uri!r}",
                )
            items = selected
        return ok(OptionReply(option=[Option(text=k, value=v) for k, v in items.items()]))
