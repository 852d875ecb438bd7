"""The MPPS messages of a study's state changes, queued by the acquisition's hooks
(`dros.acquisition.hooks`) inside the very transaction that commits the change: the N-CREATE
"IN PROGRESS" with the study's first exposed image, the N-SET "COMPLETED"/"DISCONTINUED" with the
leave that completes it. A SIGKILL therefore finds either both the change and its queued message or
neither, never one without the other; `mpps_queue.MppsWorker` delivers what is queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dros.dicomnet import mpps
from dros.domain.study.values import new_uid
from dros.domain.worklist import repo
from dros.store.db import Conn


class MppsEvents:
    def __init__(self, station: mpps.Station, uid_root: str, queued: Callable[[], None] = lambda: None) -> None:
        self.station = station
        self.uid_root = uid_root
        self._queued = queued  # told that a message will be committed with the running transaction

    def on_exposed(self, conn: Conn, study_id: str, now: datetime) -> None:
        """The study's first exposed image opens its performed procedure step (later ones do nothing)."""
        if repo.step_of(conn, study_id) is not None:
            return
        nodes = repo.role_nodes(conn, "mpps")
        if not nodes:
            return
        uid = new_uid(self.uid_root)
        ds = mpps.n_create(
            repo.study_row(conn, study_id), repo.order_of(conn, study_id), self.station, study_id[-16:],
            repo.first_exposure(conn, study_id),
        )  # fmt: skip
        repo.insert_step(conn, study_id, uid, now)
        repo.enqueue(conn, study_id, uid, [n[0] for n in nodes], "N-CREATE", mpps.IN_PROGRESS, ds.to_json(), now)
        self._queued()

    def on_completed(self, conn: Conn, study_id: str, now: datetime) -> None:
        """Leaving the study Completed ends its step: DISCONTINUED when a reason was recorded for this
        leave, COMPLETED otherwise, with the performed series, images and dose."""
        step = repo.step_of(conn, study_id)
        reason = repo.discontinue_reason(conn, study_id)
        repo.clear_discontinue_reason(conn, study_id)
        if step is None or step[1] != mpps.IN_PROGRESS:
            return
        uid = step[0]
        study = repo.study_row(conn, study_id)
        status = mpps.DISCONTINUED if reason else mpps.COMPLETED
        ds = mpps.n_set(
            status, study["end_time"], repo.performed_series(conn, study_id), self.station, study["operator_name"],
            reason,
        )  # fmt: skip
        repo.end_step(conn, study_id, status, now)
        repo.enqueue(conn, study_id, uid, repo.create_nodes(conn, uid), "N-SET", status, ds.to_json(), now)
        self._queued()
