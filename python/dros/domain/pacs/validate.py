"""Value rules of PACS nodes and echo targets (API.md §7, §17.8 item 57)."""

from __future__ import annotations

import re

from dros.errors import invalid_param

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{1,14}[A-Za-z0-9_.\-]$")
_OCTET = re.compile(r"^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$")


def node_name(value: str, field: str = "name") -> str:
    if not _NAME.match(value):
        raise invalid_param(
            field,
            "3 to 16 characters: letters, digits, space, '_', '.', '-'; starting with a "
            "letter or digit, not ending with a space",
            "长度 3 到 16，只能包含字母、数字、空格、'_'、'.'、'-'，以字母或数字开头，不以空格结尾",
        )
    return value


def ipv4(value: str, field: str = "address") -> str:
    parts = value.split(".")
    if len(parts) != 4 or not all(_OCTET.match(p) for p in parts):
        raise invalid_param(
            field,
            f"{value!r} is not an IPv4 address such as 192.168.1.10",
            f"{value!r} 不是 IPv4 地址，例如 192.168.1.10",
        )
    if value in ("0.0.0.0", "255.255.255.255"):
        raise invalid_param(field, f"{value} cannot be a node address", f"{value} 不能作为节点地址")
    return value


def ae_title(value: str, field: str) -> str:
    """PS3.5 §6.2 AE: 1–16 characters of the default repertoire, no backslash or control
    characters; leading and trailing spaces are not significant and are removed."""
    stripped = value.strip(" ")
    if not stripped or len(value) > 16:
        raise invalid_param(
            field, "an AE title has 1 to 16 characters besides spaces", "AE 名称长度为 1 到 16（不含空格）"
        )
    if any(ord(c) < 0x20 or ord(c) > 0x7E or c == "\\" for c in stripped):
        raise invalid_param(
            field,
            "an AE title uses printable ASCII characters other than backslash",
            "AE 名称只能使用可打印 ASCII 字符，且不能包含反斜杠",
        )
    return stripped
