"""Start-up and shut-down of the service's resources, in order: store (migrations, start-up
tasks), users and tokens; later MQTT, DICOM and the device layer hook in here."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from litestar import Litestar

from dros import imaging
from dros.auth import passwords
from dros.auth import users as user_store
from dros.auth.throttle import LoginThrottle
from dros.auth.tokens import TokenService, load_or_create_secret
from dros.buildinfo import collect_build_info
from dros.device.setup import build_devices
from dros.domain.protocol.install import install_catalog_task, install_icons_task
from dros.domain.study import repo as study_repo
from dros.domain.study.files import StudyFiles
from dros.domain.study.service import StudyService
from dros.mqtt.publisher import MqttPublisher
from dros.runtime.allocator import tune_allocator
from dros.runtime.loop_lag import LoopLagProbe
from dros.runtime.priority import lower_threads, raise_loop_thread
from dros.runtime.stop_signal import on_stop_signal
from dros.settings import Locale, RuntimeSettings, Settings
from dros.store import system_settings
from dros.store.db import Conn, Database
from dros.store.migrate import migrate

log = logging.getLogger("dros")

StartupTask = Callable[[Conn, Settings], object]

# Run on every start after the migrations, each in its own transaction: must be idempotent.
STARTUP_TASKS: list[StartupTask] = [
    lambda conn, settings: user_store.seed_default_users(conn),
    lambda conn, settings: system_settings.ensure_serial(conn),
    # image files where the study rows say they belong (after a crash mid-move)
    lambda conn, settings: StudyFiles(settings.data_path).reconcile(conn),
    install_catalog_task,  # the pre-installed protocol catalog (no-op when this release is installed)
    install_icons_task,  # its position pictograms under <data_dir>/Image/Position
    # worklist rows other writers marked stale, or new since a migration
    lambda conn, settings: study_repo.refresh_stale_list_rows(conn),
]


def _run_task(task: StartupTask, conn: Conn, settings: Settings) -> None:
    task(conn, settings)


def open_store(settings: Settings) -> Database:
    settings.data_path.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_path, threads=settings.runtime.db_threads)
    try:
        applied = migrate(db)
        if applied:
            log.info("schema migrations applied", extra={"versions": applied})
        for task in STARTUP_TASKS:
            db.write_sync(partial(_run_task, task, settings=settings))
    except BaseException:
        db.close()
        raise
    return db


def _stop_requested(db: Database) -> None:
    log.info("stop requested: cancelling queued database and password work")
    db.cancel_queued()
    passwords.POOL.cancel_queued()


def loop_first(rt: RuntimeSettings) -> str:
    """The loop thread before everything heavy (dros.runtime.priority): real-time where the process
    may; the imaging chain's pool at a lower priority; the GIL handed over sooner. Returns the loop's
    scheduling."""
    sys.setswitchinterval(rt.gil_switch_interval_ms / 1000)
    scheduling = raise_loop_thread(rt.loop_realtime_priority)
    pool = imaging.pool_thread_ids()
    lowered = lower_threads(pool)
    log.info(
        "event loop scheduling: %s; imaging pool: %d threads, %d at background priority",
        scheduling,
        len(pool),
        lowered,
    )
    return scheduling


def warn_default_passwords(names: list[str]) -> None:
    if names:
        log.warning(
            "users still have the default password: %s; change them (settings/password) before clinical use",
            ", ".join(names),
        )


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    tune_allocator()  # before the threads that allocate frames start (dros.runtime.allocator)
    db = open_store(settings)
    state = app.state
    state.db = db
    state.tokens = TokenService(load_or_create_secret(settings.data_path))
    state.users = user_store.UserDirectory(db.read_sync(user_store.load_users))
    state.throttle = LoginThrottle(
        settings.auth.login_max_failures,
        settings.auth.login_failure_window_s,
        settings.auth.login_lockout_s,
        max_entries=settings.auth.login_throttle_max_entries,
    )
    warn_default_passwords(state.users.with_default_password())
    stored = db.read_sync(lambda c: system_settings.get(c, system_settings.LANGUAGE))
    state.system_language = (
        Locale(stored) if stored is not None and stored in Locale.__members__ else settings.default_language
    )
    state.serial = db.read_sync(lambda c: system_settings.get(c, system_settings.SERIAL))
    state.build_info = collect_build_info()
    state.started_monotonic = time.monotonic()
    rt = settings.runtime
    state.loop_lag = LoopLagProbe(
        rt.loop_lag_interval_ms / 1000, window_s=rt.loop_lag_window_s, warn_ms=rt.loop_lag_warn_ms
    )
    if state.get("service_process", False):
        # Everything alive after start-up (modules, routes, catalog) stays for the process's life:
        # move it out of the collector's sight so a full collection no longer walks it while a
        # request waits (80-150 ms per full collection otherwise, measured as loop stalls during
        # login bursts). Only in the served worker: an in-process app (tests) is not for life.
        gc.collect()
        gc.freeze()
    state.loop_lag.start()
    state.loop_scheduling = loop_first(rt)
    on_stop_signal(asyncio.get_running_loop(), partial(_stop_requested, db))
    state.study_service = StudyService(db, settings)
    state.mqtt = MqttPublisher(db, settings.mqtt)
    await state.mqtt.start()
    # generator/detector drivers (and in-process simulators): links kept from here on
    state.devices = await build_devices(settings)
    await state.devices.start()
    log.info("DROS ready", extra={"data_dir": str(settings.data_path), "product": str(settings.product)})
    try:
        yield
    finally:
        await state.devices.stop(timeout_s=1.0)
        await state.mqtt.stop()
        state.loop_lag.stop()
        # bounded: queued database work is cancelled, running work interrupted after the budget
        db.close(timeout=max(1.0, rt.shutdown_timeout_s - 2.0))
