"""Value rules of the study domain: ids, UIDs, times, ages, names."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime

from dros import _core
from dros.errors import invalid_param

_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d{1,9})?(?P<tz>[Zz]|[+-]\d{2}:\d{2}))?$"
)
_AGE = re.compile(r"^(?P<n>\d{1,3})(?P<unit>[DWMY])$")


def utc_text(value: datetime | None) -> str | None:
    """Timestamps in replies: UTC, `Z`, microseconds — as the reference's examples."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(field: str, text: str, *, date_only_ok: bool = False) -> datetime:
    """RFC3339 / RFC3339Nano with `Z` or an offset (nanoseconds are truncated to microseconds)."""
    m = _RFC3339.match(text.strip())
    if not m or (m.group("time") is None and not date_only_ok):
        raise invalid_param(
            field,
            f"{text!r} is not an RFC3339 time such as 2025-06-19T00:00:00.000+08:00",
            f"{text!r} 不是 RFC3339 时间，例如 2025-06-19T00:00:00.000+08:00",
        )
    try:
        if m.group("time") is None:
            return datetime.fromisoformat(m.group("date")).replace(tzinfo=UTC)
        frac = (m.group("frac") or "")[:7]  # '.' + at most 6 digits
        tz = m.group("tz").upper().replace("Z", "+00:00")
        return datetime.fromisoformat(f"{m.group('date')}T{m.group('time')}{frac}{tz}")
    except ValueError as exc:
        raise invalid_param(field, f"{text!r}: {exc}", f"{text!r}：{exc}") from exc


def normalize_age(field: str, text: str) -> str:
    """DICOM AS form nnnD/W/M/Y (PS3.5 §6.2): `5Y` becomes `005Y`."""
    m = _AGE.match(text.strip().upper())
    if not m:
        raise invalid_param(
            field,
            f"{text!r} is not an age such as 5Y, 012M, 003W or 010D",
            f"{text!r} 不是有效年龄，例如 5Y、012M、003W、010D",
        )
    return f"{int(m.group('n')):03d}{m.group('unit')}"


def age_from_birth(birth: date, on: date) -> str:
    """Age on `on` in AS form: days under a month, months under two years, else years —
    the resolution a radiographer reads for neonates, puppies and adults alike."""
    days = (on - birth).days
    months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
    if months < 1:
        return f"{max(days, 0):03d}D"
    if months < 24:
        return f"{months:03d}M"
    return f"{min(months // 12, 999):03d}Y"


def check_person_name(field: str, value: str) -> str:
    """PN: at most three component groups (alphabetic=ideographic=phonetic), each ≤ 64 characters."""
    groups = value.split("=")
    if len(groups) > 3 or any(len(g) > 64 for g in groups):
        raise invalid_param(
            field,
            "a person name has at most 3 '='-separated groups of at most 64 characters",
            "姓名最多 3 个以 '=' 分隔的部分，每部分不超过 64 个字符",
        )
    if any(ch in value for ch in "\\\r\n\t"):
        raise invalid_param(field, "must not contain backslash or control characters", "不能包含反斜杠或控制字符")
    return value


def check_text(field: str, value: str) -> str:
    """SH/LO/CS values: no backslash (DICOM's value separator) and no control characters."""
    if "\\" in value or any(ord(ch) < 32 for ch in value):
        raise invalid_param(field, "must not contain backslash or control characters", "不能包含反斜杠或控制字符")
    return value


def parse_flag(field: str, value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    return value.lower() in ("true", "1")


class StudyIdGenerator:
    """`study_id` in the seed's 15-digit form yyMMddHHmmss + 3 digits (local time), which fits
    DICOM StudyID (SH, 16). The last three digits start at the millisecond and are bumped past
    the last id issued, so ids stay unique even for registrations in the same millisecond."""

    def __init__(self, last_issued: str | None = None) -> None:
        self._lock = threading.Lock()
        self._last = int(last_issued) if last_issued and last_issued.isdigit() else 0

    def next(self, now: datetime | None = None) -> str:
        now = (now or datetime.now(UTC)).astimezone()
        candidate = int(now.strftime("%y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}")
        with self._lock:
            self._last = max(candidate, self._last + 1)
            return f"{self._last:015d}"


def new_uid(root: str) -> str:
    return _core.generate_uid(root)
