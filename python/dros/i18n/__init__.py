"""Request language: the `Language` header, else the system language set by `manage/language`."""

from __future__ import annotations

import contextvars
from pathlib import Path

from dros.settings import Locale

I18N_DIR = Path(__file__).parent

# Short and hyphenated spellings seen from clients (the seed itself shows `en` and `zh`).
_ALIASES = {
    "en_us": Locale.en_US,
    "en-us": Locale.en_US,
    "en": Locale.en_US,
    "zh_cn": Locale.zh_CN,
    "zh-cn": Locale.zh_CN,
    "zh": Locale.zh_CN,
    "zh-hans": Locale.zh_CN,
}

# Translation files served by pub/trans: exactly these locale/file pairs.
TRANSLATION_FILES = {("en_US", "en.js"): I18N_DIR / "en_US" / "en.js", ("zh_CN", "zh.js"): I18N_DIR / "zh_CN" / "zh.js"}

LANGUAGE_NAMES = {Locale.en_US: "English", Locale.zh_CN: "简体中文"}

_current: contextvars.ContextVar[Locale] = contextvars.ContextVar("dros_language", default=Locale.en_US)


def parse_language(value: str | None) -> Locale | None:
    """The locale for a header value; None when the value is not a supported language."""
    if value is None:
        return None
    return _ALIASES.get(value.strip().lower())


def current_language() -> Locale:
    return _current.get()


def set_current_language(locale: Locale) -> None:
    _current.set(locale)
