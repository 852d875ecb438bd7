"""English and Chinese texts of validation problems (see `dros.validation`), so that a refused field is
explained in the request's language instead of in msgspec's English.

Each template is formatted with the problem's arguments; type names and formats are translated
through the tables below.
"""

from __future__ import annotations

from dros.settings import Locale

#: problem kind → (en_US template, zh_CN template)
TEMPLATES: dict[str, tuple[str, str]] = {
    "missing": ("is required", "缺少必填字段"),
    "unknown": ("is not an accepted field", "不是可接受的字段"),
    "wrong_type": ("expected {expected}, got {got}", "应为{expected}，实际为{got}"),
    "wrong_type_only": ("expected {expected}", "应为{expected}"),
    "min": ("must be at least {limit}", "不能小于 {limit}"),
    "above": ("must be greater than {limit}", "必须大于 {limit}"),
    "max": ("must be at most {limit}", "不能大于 {limit}"),
    "below": ("must be less than {limit}", "必须小于 {limit}"),
    "multiple_of": ("must be a multiple of {limit}", "必须是 {limit} 的倍数"),
    "min_length": ("must have at least {limit} {unit}", "不能少于 {limit} {unit}"),
    "max_length": ("must have at most {limit} {unit}", "不能超过 {limit} {unit}"),
    "exact_length": ("must have exactly {limit} {unit}", "必须正好是 {limit} {unit}"),
    "length_range": ("must have {low} to {high} {unit}", "必须是 {low} 到 {high} {unit}"),
    "pattern": ("does not match the pattern {pattern}", "不符合格式 {pattern}"),
    "enum": ("{value} is not an allowed value", "{value} 不是允许的取值"),
    "enum_allowed": (
        "{value} is not an allowed value (allowed: {allowed})",
        "{value} 不是允许的取值（可选：{allowed}）",
    ),
    "format": ("is not a valid {format}", "不是有效的 {format}"),
    "tz_required": ("must include a time zone offset", "必须包含时区"),
    "tz_forbidden": ("must not include a time zone offset", "不能包含时区"),
    "out_of_range": ("is out of the representable range", "数值超出可表示范围"),
    # the body is not JSON at all (msgspec.DecodeError)
    "malformed_json": ("not valid JSON ({reason} at byte {byte})", "不是有效的 JSON（第 {byte} 字节处出错）"),
    "truncated_json": ("the JSON ends too early", "JSON 数据不完整"),
    "undecodable": ("{message}", "请求体无法解析"),
    # a message no pattern knows: the English original is kept, Chinese gets the general statement
    "other": ("{message}", "取值无效"),
}

#: msgspec's type names in `Expected `…``
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "str": ("string", "字符串"),
    "int": ("integer", "整数"),
    "float": ("float", "浮点数"),
    "bool": ("boolean", "布尔值"),
    "null": ("null", "空值"),
    "object": ("object", "对象"),
    "array": ("array", "数组"),
    "bytes": ("bytes", "字节串"),
    "datetime": ("date-time", "日期时间"),
    "date": ("date", "日期"),
    "time": ("time", "时间"),
    "duration": ("duration", "时长"),
    "timedelta": ("duration", "时长"),
    "uuid": ("UUID", "UUID"),
    "decimal": ("decimal number", "十进制数"),
    "file": ("an uploaded file", "上传的文件"),
}

#: units of a length limit by the type it applies to
LENGTH_UNITS: dict[str, tuple[str, str]] = {
    "str": ("characters", "个字符"),
    "bytes": ("bytes", "字节"),
    "array": ("items", "项"),
    "object": ("keys", "个键"),
}

#: what `Invalid …` says is malformed
FORMATS: dict[str, tuple[str, str]] = {
    "RFC3339 encoded datetime": ("RFC 3339 date-time", "RFC 3339 日期时间"),
    "RFC3339 encoded date": ("RFC 3339 date", "RFC 3339 日期"),
    "RFC3339 encoded time": ("RFC 3339 time", "RFC 3339 时间"),
    "ISO8601 duration": ("ISO 8601 duration", "ISO 8601 时长"),
    "UUID": ("UUID", "UUID"),
    "UUID bytes": ("UUID", "UUID"),
    "base64 encoded string": ("base64 string", "base64 字符串"),
    "decimal string": ("decimal number", "十进制数"),
    "epoch timestamp": ("epoch timestamp", "Unix 时间戳"),
}


def _pick(pair: tuple[str, str], locale: Locale) -> str:
    return pair[1] if locale == Locale.zh_CN else pair[0]


def type_name(name: str, locale: Locale) -> str:
    """`str | null` → "string or null" / "字符串或 null"; names msgspec may add later pass through."""
    parts = [_pick(TYPE_NAMES[p], locale) if p in TYPE_NAMES else p for p in name.split(" | ")]
    return ("或" if locale == Locale.zh_CN else " or ").join(parts)


def render(kind: str, args: dict[str, str], locale: Locale) -> str:
    """The text of one problem in `locale`; arguments that name types, units or formats are translated."""
    values = dict(args)
    for key in ("expected", "got"):
        if key in values:
            values[key] = type_name(values[key], locale)
    if "unit" in values:
        unit = _pick(LENGTH_UNITS.get(values["unit"], (values["unit"], values["unit"])), locale)
        # "at least 1 item", "at most 64 characters"
        values["unit"] = unit[:-1] if locale == Locale.en_US and values.get("limit") == "1" else unit
    if "format" in values:
        values["format"] = _pick(FORMATS.get(values["format"], (values["format"], values["format"])), locale)
    if "allowed" in values and locale == Locale.zh_CN:
        values["allowed"] = values["allowed"].replace(", ", "、")
    return _pick(TEMPLATES[kind], locale).format(**values)
