"""Start and stop of the RIS side: the MPPS worker (bounded stop) and the `WorklistService`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from dros.dicomnet.mpps import Station
from dros.dicomnet.mpps_queue import MppsPolicy, MppsWorker
from dros.domain.worklist.service import WorklistService
from dros.settings import Settings


def mpps_worker(app: Litestar) -> MppsWorker:
    settings: Settings = app.state.settings
    r, d = settings.ris, settings.dicom
    return MppsWorker(
        app.state.db,
        MppsPolicy(
            timeout_s=r.mpps_timeout_s,
            retry_base_s=r.mpps_retry_base_s,
            retry_cap_s=r.mpps_retry_cap_s,
            poll_s=r.mpps_poll_s,
            uid_root=d.uid_root,
        ),
        Station(d.ae_title, d.station_name, d.institution_name),
    )


@asynccontextmanager
async def ris_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.worklist_service = WorklistService(app.state.db, settings, app.state.study_service)
    worker = mpps_worker(app) if settings.ris.mpps_worker else None
    app.state.mpps_worker = worker
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop(timeout=1.0)
