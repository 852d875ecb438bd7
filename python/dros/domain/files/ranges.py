"""HTTP validators and byte ranges (RFC 9110 §8.8.3, §13.1, §14) for the file endpoints."""

from __future__ import annotations

import os


def etag_of(st: os.stat_result) -> str:
    """Strong ETag from size and modification time: files are replaced (renamed over), never edited in place."""
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


def none_match(header: str | None, etag: str) -> bool:
    """True when If-None-Match names this ETag (or `*`): answer 304."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


class Unsatisfiable(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(f"range outside a file of {size} bytes")
        self.size = size


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range `header` asks for as (first, last) inclusive, or None for the whole file.

    Several ranges or a unit other than bytes: None (a server may ignore Range). A syntactically valid
    range that lies outside the file: `Unsatisfiable` (answer 416).
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    if not dash:
        return None
    first_s, last_s = first_s.strip(), last_s.strip()
    if not (first_s.isdigit() or first_s == "") or not (last_s.isdigit() or last_s == ""):
        return None
    if first_s == "":
        if last_s == "":
            return None
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(size)
        return max(0, size - suffix), size - 1
    first = int(first_s)
    last = size - 1 if last_s == "" else min(int(last_s), size - 1)
    if last_s != "" and int(last_s) < first:
        return None  # invalid: ignore
    if first >= size:
        raise Unsatisfiable(size)
    return first, last
