"""The reply envelope `{"code","description","solution","data"}` on every JSON response."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from dros.errors import ErrorCode
from dros.i18n import current_language
from dros.settings import Locale

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T]):
    code: str
    description: str
    solution: str
    data: T


class ProtoEmpty(msgspec.Struct, frozen=True):
    """`google.protobuf.Empty` as the seed renders it: `{"@type": …, "value": {}}`."""

    type_: str = msgspec.field(default="type.googleapis.com/google.protobuf.Empty", name="@type")
    value: dict[str, Any] = msgspec.field(default_factory=dict)


EMPTY = ProtoEmpty()


def ok(data: T | None = None) -> Envelope[Any]:
    """Success envelope in the request's language; `data` defaults to `{}`."""
    info = ErrorCode.SUCCESS.info
    text = info.zh if current_language() == Locale.zh_CN else info.en
    return Envelope(code=info.code, description=text, solution="", data={} if data is None else data)
