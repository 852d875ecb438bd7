"""Option lists (options.toml) and the read-only configuration items of resource/config."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

from dros.domain.resource.schemas import Option
from dros.settings import Locale, Product, Settings

OPTIONS_FILE = Path(__file__).with_name("options.toml")


class OptionEntry(msgspec.Struct, frozen=True):
    value: str
    text_en: str
    text_zh: str
    products: list[Product] | None = None


@cache
def option_groups() -> dict[str, dict[str, list[OptionEntry]]]:
    """group → flag → options, validated once when first used."""
    raw: dict[str, Any] = tomllib.loads(OPTIONS_FILE.read_text(encoding="utf-8"))
    groups: dict[str, dict[str, list[OptionEntry]]] = {}
    for group, flags in raw.items():
        if not isinstance(flags, dict):
            continue
        groups[group] = {}
        for flag, body in flags.items():
            entries = body.get("options", body) if isinstance(body, dict) else body
            groups[group][flag] = msgspec.convert(entries, list[OptionEntry])
    return groups


def options_for(group: str, flag: str, product: Product, language: Locale) -> list[Option] | None:
    entries = option_groups().get(group, {}).get(flag)
    if entries is None:
        return None
    return [
        Option(text=e.text_zh if language == Locale.zh_CN else e.text_en, value=e.value)
        for e in entries
        if e.products is None or product in e.products
    ]


def config_items(settings: Settings, system_language: Locale) -> dict[str, str]:
    """uri → value of every configuration item a console may read."""
    return {
        "system/product": str(settings.product),
        "system/language": str(system_language),
        "system/default_language": str(settings.default_language),
        "dicom/uid_root": settings.dicom.uid_root,
        "dicom/ae_title": settings.dicom.ae_title,
        "dicom/station_name": settings.dicom.station_name,
        "dicom/institution_name": settings.dicom.institution_name,
        "device/generator": settings.device.generator,
        "device/detector": settings.device.detector,
        "auth/token_lifetime_s": str(settings.auth.token_lifetime_s),
        "auth/password_min_length": str(settings.auth.password_min_length),
        "mqtt/url": settings.mqtt.url,
        # The worklist shows open work by default; completed studies are one filter away.
        "study/default_status_filter": "Arrived,InProgress",
    }
