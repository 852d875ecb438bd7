from __future__ import annotations

from typing import Annotated

import msgspec

from dros.buildinfo import ServerEntry

UserName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class SoftwareInfo(msgspec.Struct):
    FPD: str
    GEN: str
    current_locale: str
    default_locale: str
    guest: str
    language: list[str]
    product: str
    server: dict[str, ServerEntry]
    sn: str
    # only when the request carries a service user's token: login users still on the default password
    default_password_users: list[str] | msgspec.UnsetType = msgspec.UNSET


class LanguageItem(msgspec.Struct):
    language: str
    display: str


class LoginRequest(msgspec.Struct):
    username: UserName
    password: Password


class LoginReply(msgspec.Struct):
    token: str
    expire: int
    uid: int
    name: str
    avatar: str


class Quota(msgspec.Struct):
    total: int
    available: int
    online: bool
    overdue: bool
