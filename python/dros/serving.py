"""The factory granian imports in its worker. Settings travel as JSON in the environment
because the worker is a separate process that inherits the environment, not Python objects."""

from __future__ import annotations

import logging
import os

import msgspec
from litestar import Litestar

from dros.runtime.datadir_lock import record_worker
from dros.runtime.parent_watch import SUPERVISOR_PID_ENV, die_with_parent
from dros.settings import Settings

SETTINGS_ENV = "DROS_SETTINGS_JSON"


def export_settings(settings: Settings) -> None:
    os.environ[SETTINGS_ENV] = msgspec.json.encode(settings).decode()


def app_factory() -> Litestar:
    from dros.app import create_app

    raw = os.environ.get(SETTINGS_ENV)
    settings = msgspec.json.decode(raw, type=Settings) if raw else Settings.load()
    supervisor = os.environ.get(SUPERVISOR_PID_ENV, "")
    if supervisor.isdigit():
        # granian's worker: it must not outlive `dros serve`, and it names itself in the lock file
        die_with_parent(int(supervisor), grace_s=settings.runtime.shutdown_timeout_s)
        record_worker(settings.data_path)
    app = create_app(settings)
    app.state.service_process = True  # this process serves for its whole life (see lifespan)
    # log_level applies to the served process (an in-process app leaves its host's logging alone)
    logging.getLogger().setLevel(settings.log_level.upper())
    return app
