"""The one reader of msgspec's validation messages.

msgspec reports a refused value as English text (`Expected `int` >= 1 - at `$.views[0].count``);
Litestar passes the same text on, with the `- at` part cut off and the path as a key. `parse` turns
either form into a `Problem` — the field path, a kind and its arguments — and `invalid_parameter`
makes the `0x010001` error whose description is written in the request's language from
`dros.i18n.messages`, naming the field (`参数无效：password：缺少必填字段`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from dros.errors import DrosError, ErrorCode
from dros.i18n import messages
from dros.settings import Locale

#: the name a problem with the whole body gets (the same name the batch endpoints use)
BODY = "body"

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)

# (kind, pattern) in the order they are tried; named groups become the problem's arguments
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("missing", re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")),
    ("unknown", re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")),
    ("missing", re.compile(r"^Missing required (?:query|header|path|cookie) parameter '(?P<param>[^']+)'")),
    ("wrong_type", re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")),
    ("bound", re.compile(r"^Expected `(?:int|float|decimal)` (?P<op>>=|>|<=|<) (?P<limit>\S+)$")),
    ("multiple_of", re.compile(r"^Expected `(?:int|float)` that's a multiple of (?P<limit>\S+)$")),
    ("length", re.compile(r"^Expected `(?P<unit>str|bytes|array|object)` of length (?P<op>>=|<=) (?P<limit>\d+)$")),
    ("length_range", re.compile(r"^Expected `(?P<unit>array)` of length (?P<low>\d+) to (?P<high>\d+)(?:, got \d+)?$")),
    ("min_length", re.compile(r"^Expected `(?P<unit>array)` of at least length (?P<limit>\d+)(?:, got \d+)?$")),
    ("max_length", re.compile(r"^Expected `(?P<unit>array)` of at most length (?P<limit>\d+)(?:, got \d+)?$")),
    ("exact_length", re.compile(r"^Expected `(?P<unit>array)` of length (?P<limit>\d+)(?:, got \d+)?$")),
    ("pattern", re.compile(r"^Expected `str` matching regex (?P<pattern>.+)$", re.S)),
    ("tz_required", re.compile(r"^Expected `(?:datetime|time)` with a timezone component$")),
    ("tz_forbidden", re.compile(r"^Expected `(?:datetime|time)` with no timezone component$")),
    ("wrong_type_only", re.compile(r"^Expected `(?P<expected>[^`]+)`$")),
    ("enum", re.compile(r"^Invalid (?:enum )?value (?P<value>.+)$", re.S)),
    (
        "format",
        re.compile(
            r"^Invalid (?P<format>RFC3339 encoded (?:datetime|date|time)|ISO8601 duration|UUID(?: bytes)?|base64 encoded string|decimal string|epoch timestamp)$"
        ),
    ),
    ("out_of_range", re.compile(r"^(?:Integer value|Number|Timestamp) (?:is )?out of range")),
    # Litestar's refusal of a multipart part that is not one uploaded file (a text field, two files)
    ("upload", re.compile(r"^Unsupported type: <class '(?P<got>[^']+)'>$")),
]
# Python's names in Litestar's upload refusal → msgspec's
_PY_TYPES = {"list": "array", "dict": "object", "NoneType": "null"}
_BOUND_KINDS = {">=": "min", ">": "above", "<=": "max", "<": "below"}
_LENGTH_KINDS = {">=": "min_length", "<=": "max_length"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused value: `field` is a path like `views[0].view_id` (`body` for the body itself)."""

    field: str
    kind: str
    args: dict[str, str] = dataclasses.field(default_factory=dict)

    def text(self, locale: Locale) -> str:
        return messages.render(self.kind, self.args, locale)


def _join(base: str, name: str) -> str:
    if not base or base == BODY:
        return name
    return f"{base}.{name}"


def _path(raw: str) -> str:
    """msgspec's `$.a[0].b` (without `$`) → `a[0].b`; `[1]` of a body that is a list → `body[1]`."""
    raw = raw.lstrip(".")
    return f"{BODY}{raw}" if raw.startswith("[") else raw


def parse(message: str, key: str | None = None) -> Problem:
    """A msgspec (or Litestar parameter) validation message → `Problem`.

    `key` is Litestar's name of the parameter or body path at fault (`data` is the body); a message
    that still carries msgspec's `- at `$…`` suffix names the path itself.
    """
    m = _AT.match(message.strip())
    text, at = (m.group("msg"), m.group("path")) if m else (message, None)
    base = _path(at) if at is not None else ("" if key in (None, "", "data") else str(key))
    for kind, pattern in _PATTERNS:
        hit = pattern.match(text)
        if hit is None:
            continue
        args = {k: v for k, v in hit.groupdict().items() if v is not None}
        if kind == "bound":
            kind = _BOUND_KINDS[args.pop("op")]
        elif kind == "length":
            kind = _LENGTH_KINDS[args.pop("op")]
        elif kind == "upload":
            kind, args = "wrong_type", {"expected": "file", "got": _PY_TYPES.get(args["got"], args["got"])}
        name = args.pop("name", None) or args.pop("param", None)
        where = _join(base, name) if name else base
        return Problem(where or BODY, kind, args)
    return Problem(base or BODY, "other", {"message": text})


_PARAMETER = re.compile(r"^(?P<param>[^.\[]+)(?P<rest>.*)$", re.S)


def parse_signature(message: str) -> tuple[str, Problem] | None:
    """(handler parameter, problem) for the msgspec error Litestar raised while converting a
    handler's arguments (`… - at `$.<parameter>…``; the body is the parameter `data`), or None when
    the message names no path.

    Litestar's own key for the same error is lossy — it deletes every `data.` from the path — so a
    body field called `data` (`{"data": 5}`) would read as the body itself; this path is exact."""
    m = _AT.match(message.strip())
    if m is None or m.group("path") is None:
        return None
    text, raw = m.group("msg"), m.group("path").lstrip(".")
    head = _PARAMETER.match(raw)
    if head is None:
        return None
    param, rest = head.group("param"), head.group("rest")
    if param == "data":
        return param, parse(f"{text} - at `${rest}`")
    return param, parse(f"{text} - at `$.{param}{rest}`")


_MALFORMED = re.compile(r"^JSON is malformed: (?P<reason>.+) \(byte (?P<byte>\d+)\)$")


def decode_problem(message: str) -> tuple[str, str]:
    """(en, zh) for a body that did not decode (msgspec.DecodeError's message)."""
    m = _MALFORMED.match(message.strip())
    if m:
        kind, args = "malformed_json", m.groupdict()
    elif message.strip().startswith("Input data was truncated"):
        kind, args = "truncated_json", {}
    else:
        kind, args = "undecodable", {"message": message}
    return messages.render(kind, args, Locale.en_US), messages.render(kind, args, Locale.zh_CN)


def _path_steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        steps.append(int(part[1:-1]) if part.startswith("[") else part)
    return steps


def _allowed(info: msgspec.inspect.Type, steps: list[str | int]) -> list[str]:
    """The literal / enum values a path into a type may take ([] when it is not an enumeration)."""
    if isinstance(info, msgspec.inspect.Metadata):
        return _allowed(info.type, steps)
    if isinstance(info, msgspec.inspect.UnionType):
        return [v for member in info.types for v in _allowed(member, steps)]
    if not steps:
        if isinstance(info, msgspec.inspect.LiteralType):
            return [str(v) for v in info.values]
        if isinstance(info, msgspec.inspect.EnumType):
            return [str(m.value) for m in info.cls]
        return []
    step, rest = steps[0], steps[1:]
    if isinstance(info, msgspec.inspect.StructType) and isinstance(step, str):
        for f in info.fields:
            if f.encode_name == step:
                return _allowed(f.type, rest)
    if isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.VarTupleType, msgspec.inspect.SetType)):
        return _allowed(info.item_type, rest) if isinstance(step, int) else []
    if isinstance(info, msgspec.inspect.TupleType) and isinstance(step, int) and step < len(info.item_types):
        return _allowed(info.item_types[step], rest)
    if isinstance(info, msgspec.inspect.DictType):
        return _allowed(info.value_type, rest)
    return []


def allowed_values(tp: Any, path: str) -> list[str]:
    """The values an enumerated field accepts, read from the type the value was decoded into."""
    try:
        info = msgspec.inspect.type_info(tp)
    except (TypeError, ValueError):
        return []
    values = _allowed(info, _path_steps(path))
    return list(dict.fromkeys(values))


def invalid_parameter(problem: Problem, tp: Any = None, path_in_type: str | None = None) -> DrosError:
    """The `0x010001` error for `problem`, in both languages; for a bad enumeration value the accepted
    values are listed when `tp` (the type the value was decoded into) is given."""
    if problem.kind == "enum" and tp is not None:
        allowed = allowed_values(tp, problem.field if path_in_type is None else path_in_type)
        if allowed:
            problem = Problem(problem.field, "enum_allowed", {**problem.args, "allowed": ", ".join(allowed)})
    return DrosError(
        ErrorCode.INVALID_PARAMETER,
        field=problem.field,
        en=problem.text(Locale.en_US),
        zh=problem.text(Locale.zh_CN),
    )


def decode_error(exc: msgspec.ValidationError, tp: Any, root_name: str = BODY) -> DrosError:
    """`invalid_parameter` for a ValidationError raised while decoding JSON into `tp`; a problem with the
    value as a whole is named `root_name` (the body, or the request field that carried the JSON)."""
    problem = parse(str(exc))
    if problem.field == BODY and root_name != BODY:
        return invalid_parameter(Problem(root_name, problem.kind, problem.args), tp, "")
    return invalid_parameter(problem, tp)


__all__ = [
    "BODY",
    "Problem",
    "allowed_values",
    "decode_error",
    "decode_problem",
    "invalid_parameter",
    "parse",
    "parse_signature",
]
