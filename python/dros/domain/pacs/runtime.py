"""Start and stop of the PACS side of the service: the send worker and our storage-commitment SCP
(each within a second or two), and the `PacsService` the endpoints use."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar

from dros.dicomnet.commitment import CommitmentScp
from dros.dicomnet.queue_worker import QueuePolicy, SendWorker
from dros.domain.pacs import repo
from dros.domain.pacs.service import PacsService
from dros.settings import Settings
from dros.store.db import Database

log = logging.getLogger("dros.pacs")


def file_resolver(data_dir: Path) -> Callable[[repo.Claimed], Path | None]:
    studies, bin_ = data_dir / "studies", data_dir / "recycle_bin"

    def resolve(task: repo.Claimed) -> Path | None:
        if not task.image_file:
            return None
        return (bin_ if task.in_bin else studies) / task.study_id / task.image_file

    return resolve


def policy(settings: Settings) -> QueuePolicy:
    p = settings.pacs
    return QueuePolicy(
        timeout_s=p.timeout_s,
        retry_base_s=p.retry_base_s,
        retry_cap_s=p.retry_cap_s,
        max_attempts=p.max_attempts,
        poll_s=p.poll_s,
        uid_root=settings.dicom.uid_root,
    )


def start_pacs(db: Database, settings: Settings) -> tuple[SendWorker | None, CommitmentScp | None]:
    worker = None
    if settings.pacs.worker:
        worker = SendWorker(db, policy(settings), file_resolver(settings.data_path))
        worker.start()
    scp = None
    if settings.dicom.scp_port and worker is not None:
        scp = CommitmentScp(
            settings.dicom.ae_title, settings.dicom.scp_host, settings.dicom.scp_port, worker.apply_report
        )
        try:
            scp.start()
        except OSError as exc:
            # the API stays up; only storage-commitment reports cannot arrive
            log.error("DICOM SCP cannot listen", extra={"port": settings.dicom.scp_port, "error": str(exc)})
            scp = None
    return worker, scp


@asynccontextmanager
async def pacs_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    worker, scp = start_pacs(app.state.db, settings)
    app.state.pacs_service = PacsService(app.state.db, settings, worker)
    app.state.pacs_scp = scp
    try:
        yield
    finally:
        if scp is not None:
            scp.stop()
        if worker is not None:
            worker.stop()
