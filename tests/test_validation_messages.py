"""The one msgspec message parser (dros.validation) and its en_US / zh_CN texts, on the messages the
installed msgspec really produces for every kind of refusal."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from typing import Annotated, Any, Literal

import msgspec
import pytest

from dros.settings import Locale
from dros.validation import decode_error, decode_problem, parse


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Inner(msgspec.Struct):
    view_id: Annotated[str, msgspec.Meta(min_length=1)]


class Every(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=4)] = "ab"
    code: Annotated[str, msgspec.Meta(pattern="^[A-Z]+$")] = "A"
    count: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    ratio: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.5
    step: Annotated[int, msgspec.Meta(multiple_of=5)] = 5
    kind: Literal["a", "b"] = "a"
    color: Color = Color.RED
    items: Annotated[list[int], msgspec.Meta(min_length=1, max_length=2)] = msgspec.field(default_factory=lambda: [1])
    pair: tuple[int, int] = (1, 2)
    when: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None
    day: dt.date | None = None
    uid: uuid.UUID | None = None
    blob: bytes = b""
    note: str | None = None
    views: list[Inner] = msgspec.field(default_factory=list)


CASES: list[tuple[dict[str, Any], str, str, str, str]] = [
    # body, field, kind, en, zh
    ({"views": [{}]}, "views[0].view_id", "missing", "is required", "缺少必填字段"),
    ({"extra": 1}, "extra", "unknown", "is not an accepted field", "不是可接受的字段"),
    ({"name": 5}, "name", "wrong_type", "expected string, got integer", "应为字符串，实际为整数"),
    ({"note": []}, "note", "wrong_type", "expected string or null, got array", "应为字符串或空值，实际为数组"),
    ({"count": 0}, "count", "min", "must be at least 1", "不能小于 1"),
    ({"count": 11}, "count", "max", "must be at most 10", "不能大于 10"),
    ({"ratio": 0.0}, "ratio", "above", "must be greater than 0.0", "必须大于 0.0"),
    ({"ratio": 1.5}, "ratio", "below", "must be less than 1.0", "必须小于 1.0"),
    ({"step": 7}, "step", "multiple_of", "must be a multiple of 5", "必须是 5 的倍数"),
    ({"name": "a"}, "name", "min_length", "must have at least 2 characters", "不能少于 2 个字符"),
    ({"name": "abcde"}, "name", "max_length", "must have at most 4 characters", "不能超过 4 个字符"),
    ({"items": []}, "items", "min_length", "must have at least 1 item", "不能少于 1 项"),
    ({"items": [1, 2, 3]}, "items", "max_length", "must have at most 2 items", "不能超过 2 项"),
    ({"pair": [1]}, "pair", "exact_length", "must have exactly 2 items", "必须正好是 2 项"),
    ({"code": "ab"}, "code", "pattern", "does not match the pattern '^[A-Z]+$'", "不符合格式 '^[A-Z]+$'"),
    (
        {"kind": "c"},
        "kind",
        "enum_allowed",
        "'c' is not an allowed value (allowed: a, b)",
        "'c' 不是允许的取值（可选：a、b）",
    ),
    (
        {"color": "green"},
        "color",
        "enum_allowed",
        "'green' is not an allowed value (allowed: red, blue)",
        "'green' 不是允许的取值（可选：red、blue）",
    ),
    (
        {"when": "2024-13-01T00:00:00Z"},
        "when",
        "format",
        "is not a valid RFC 3339 date-time",
        "不是有效的 RFC 3339 日期时间",
    ),
    ({"when": "2024-01-01T00:00:00"}, "when", "tz_required", "must include a time zone offset", "必须包含时区"),
    ({"day": "2024-02-30"}, "day", "format", "is not a valid RFC 3339 date", "不是有效的 RFC 3339 日期"),
    ({"uid": "not-a-uuid"}, "uid", "format", "is not a valid UUID", "不是有效的 UUID"),
    ({"blob": "***"}, "blob", "format", "is not a valid base64 string", "不是有效的 base64 字符串"),
    ({"ratio": 1e400}, "ratio", "out_of_range", "is out of the representable range", "数值超出可表示范围"),
]


def _refusal(body: dict[str, Any]) -> msgspec.ValidationError:
    # 1e400 is no Python float: written by hand, as a client could send it
    raw = b'{"ratio": 1e400}' if body.get("ratio") == 1e400 else msgspec.json.encode(body)
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.json.decode(raw, type=Every)
    return info.value


@pytest.mark.parametrize("body, field, kind, en, zh", CASES, ids=[f"{c[2]}:{c[1]}" for c in CASES])
def test_every_validation_kind_is_translated(body, field, kind, en, zh):
    err = decode_error(_refusal(body), Every)
    assert err.field == field
    assert (err.en, err.zh) == (en, zh)
    assert err.describe("zh_CN") == f"参数无效：{field}：{zh}"
    assert err.describe("en_US") == f"Invalid parameter: '{field}' {en}"
    # the Chinese text carries no English of msgspec's (only the field, values and pattern it quotes)
    bare = err.zh or ""
    for quoted in re.findall(r"'[^']*'", bare):
        bare = bare.replace(quoted, "")
    assert not re.search(r"\b(Expected|Object|Invalid|got|field|length|value)\b", bare), bare
    problem = parse(str(_refusal(body)))
    assert problem.field == field and problem.kind in (kind, "enum")


def test_litestar_key_form_and_root_body():
    # Litestar cuts " - at `$...`" off and passes the path as a key; `data` is the body itself
    assert parse("Object missing required field `password`", "data").field == "password"
    assert parse("Object missing required field `view_id`", "views[0]").field == "views[0].view_id"
    assert parse("Expected `object`, got `array`", "data").field == "body"
    assert parse("Expected `str`, got `int` - at `$[2]`").field == "body[2]"
    missing = parse("Missing required query parameter 'uri' for path /x?y=1")
    assert (missing.field, missing.kind) == ("uri", "missing")


def test_unknown_message_keeps_english_and_says_invalid_in_chinese():
    p = parse("Something msgspec may say one day", "q")
    assert (p.field, p.kind) == ("q", "other")
    assert p.text(Locale.en_US) == "Something msgspec may say one day"
    assert p.text(Locale.zh_CN) == "取值无效"


@pytest.mark.parametrize(
    "raw, en, zh",
    [
        (b"{not json", "not valid JSON (object keys must be strings at byte 1)", "不是有效的 JSON（第 1 字节处出错）"),
        (b'{"a": 1', "the JSON ends too early", "JSON 数据不完整"),
    ],
)
def test_undecodable_bodies_are_translated(raw, en, zh):
    with pytest.raises(msgspec.DecodeError) as info:
        msgspec.json.decode(raw)
    assert decode_problem(str(info.value)) == (en, zh)


def test_json_carried_in_a_field_names_that_field_for_the_whole_value():
    with pytest.raises(msgspec.ValidationError) as whole:
        msgspec.json.decode(b"[1]", type=Every)
    with pytest.raises(msgspec.ValidationError) as inner:
        msgspec.json.decode(b'{"count": 0}', type=Every)
    assert decode_error(whole.value, Every, root_name="reqParam").field == "reqParam"
    assert decode_error(whole.value, Every).field == "body"
    assert decode_error(inner.value, Every, root_name="reqParam").field == "count"
