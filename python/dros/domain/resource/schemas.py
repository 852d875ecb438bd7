from __future__ import annotations

import msgspec


class Option(msgspec.Struct):
    text: str
    value: str


class OptionReply(msgspec.Struct):
    type_: str = msgspec.field(default="type.googleapis.com/dr.resource.OptionReply", name="@type")
    option: list[Option] = msgspec.field(default_factory=list)
