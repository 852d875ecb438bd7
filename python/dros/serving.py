"""The factory granian imports in its worker. Settings travel as JSON in the environment
because the worker is a separate process that inherits the environment, not Python objects."""

from __future__ import annotations

import os

import msgspec
from litestar import Litestar

from dros.settings import Settings

SETTINGS_ENV = "DROS_SETTINGS_JSON"


def export_settings(settings: Settings) -> None:
    os.environ[SETTINGS_ENV] = msgspec.json.encode(settings).decode()


def app_factory() -> Litestar:
    from dros.app import create_app

    raw = os.environ.get(SETTINGS_ENV)
    settings = msgspec.json.decode(raw, type=Settings) if raw else Settings.load()
    return create_app(settings)
