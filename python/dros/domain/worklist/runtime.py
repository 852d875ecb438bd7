"""Start and stop of the RIS side: the MPPS hooks on the acquisition's transactions, the MPPS
delivery worker (bounded stop) and the `WorklistService`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from dros.acquisition.hooks import StudyHooks
from dros.dicomnet.mpps import Station
from dros.dicomnet.mpps_events import MppsEvents
from dros.dicomnet.mpps_queue import MppsPolicy, MppsWorker
from dros.domain.worklist.service import WorklistService
from dros.settings import Settings


def mpps_worker(app: Litestar) -> MppsWorker:
    r = app.state.settings.ris
    return MppsWorker(
        app.state.db,
        MppsPolicy(
            timeout_s=r.mpps_timeout_s,
            retry_base_s=r.mpps_retry_base_s,
            retry_cap_s=r.mpps_retry_cap_s,
            poll_s=r.mpps_poll_s,
        ),
    )


def attach_mpps(hooks: StudyHooks, settings: Settings, worker: MppsWorker | None) -> MppsEvents:
    """N-CREATE with the first exposure, N-SET with the completing leave, queued in their transactions."""
    d = settings.dicom
    events = MppsEvents(
        Station(d.ae_title, d.station_name, d.institution_name),
        d.uid_root,
        queued=worker.queued if worker is not None else lambda: None,
    )
    hooks.exposed.append(events.on_exposed)
    hooks.completed.append(events.on_completed)
    return events


@asynccontextmanager
async def ris_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.worklist_service = WorklistService(app.state.db, settings, app.state.study_service)
    worker = mpps_worker(app) if settings.ris.mpps_worker else None
    app.state.mpps_worker = worker
    events = attach_mpps(app.state.acquisition.hooks, settings, worker)
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        hooks: StudyHooks = app.state.acquisition.hooks
        hooks.exposed.remove(events.on_exposed)
        hooks.completed.remove(events.on_completed)
        if worker is not None:
            worker.stop(timeout=1.0)
