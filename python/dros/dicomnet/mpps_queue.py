"""The MPPS worker: one thread that (1) turns study state into performed-procedure-step messages —
an N-CREATE when a study's first image is exposed, an N-SET when the study is completed — and
(2) delivers them, per node strictly in order, retrying without limit (with a capped back-off) while
the RIS is down. Both steps read committed state only, so a SIGKILL anywhere loses nothing: what was
not yet turned into a message is found again, a message not yet acknowledged is sent again (a
repeated N-CREATE answered 0x0111 counts as delivered)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from pydicom.dataset import Dataset

from dros.dicomnet import mpps, scu
from dros.domain.study.values import new_uid
from dros.domain.worklist import repo
from dros.store.db import Conn, Database

log = logging.getLogger("dros.ris.mpps")


@dataclass(frozen=True)
class MppsPolicy:
    timeout_s: float = 10.0
    retry_base_s: float = 5.0
    retry_cap_s: float = 300.0
    poll_s: float = 1.0
    uid_root: str = "2.25"

    def backoff(self, attempts: int) -> float:
        return float(min(self.retry_cap_s, self.retry_base_s * 2 ** max(0, attempts - 1)))


class MppsWorker:
    def __init__(self, db: Database, policy: MppsPolicy, station: mpps.Station) -> None:
        self.db = db
        self.policy = policy
        self.station = station
        self._seen_generation = -1
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mpps", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
                wait = self.deliver()
            except Exception:  # the worker survives a bad moment of the database or a peer
                log.exception("MPPS worker step failed")
                wait = self.policy.poll_s
            self._wake.wait(wait)
            self._wake.clear()

    # -- study state → messages ----------------------------------------------------------------------
    def scan(self) -> None:
        generation = self.db.generation  # before the read: a write during it triggers another scan
        if generation == self._seen_generation:
            return
        self.db.write_sync(self._scan)
        self._seen_generation = generation

    def _scan(self, conn: Conn) -> None:
        nodes = repo.role_nodes(conn, "mpps")
        if not nodes:
            return
        now = datetime.now(UTC)
        since = min(n[7] for n in nodes)  # studies registered before any MPPS node existed are left alone
        for study_id in repo.studies_to_start(conn, since):
            study = repo.study_row(conn, study_id)
            uid = new_uid(self.policy.uid_root)
            ds = mpps.n_create(
                study, repo.order_of(conn, study_id), self.station, study_id[-16:], repo.first_exposure(conn, study_id)
            )
            repo.insert_step(conn, study_id, uid, now)
            repo.enqueue(conn, study_id, uid, [n[0] for n in nodes], "N-CREATE", mpps.IN_PROGRESS, ds.to_json(), now)
        for study_id, uid, reason in repo.studies_to_end(conn):
            study = repo.study_row(conn, study_id)
            status = mpps.DISCONTINUED if reason else mpps.COMPLETED
            ds = mpps.n_set(
                status, study["end_time"], repo.performed_series(conn, study_id), self.station,
                study["operator_name"], reason,
            )  # fmt: skip
            repo.end_step(conn, study_id, status, now)
            repo.enqueue(conn, study_id, uid, repo.create_nodes(conn, uid), "N-SET", status, ds.to_json(), now)
            repo.clear_discontinue_reason(conn, study_id)

    # -- delivery ------------------------------------------------------------------------------------
    def deliver(self) -> float:
        """Send every node's due head message; returns how long to wait before the next round."""
        wait = self.policy.poll_s
        for seq, node_id, kind, uid, ds_json, attempts, due in self.db.read_sync(repo.heads):
            if self._stop.is_set():
                break
            if due > time.time():
                wait = min(wait, max(0.05, due - time.time()))
                continue
            wait = min(wait, self._deliver_one(seq, node_id, kind, uid, ds_json, attempts))
        return wait

    def _deliver_one(self, seq: int, node_id: int, kind: str, uid: str, ds_json: str, attempts: int) -> float:
        target = self.db.read_sync(partial(repo.node_peer, node_id=node_id))
        if target is None:
            self.db.write_sync(partial(repo.mark_failed, seq=seq, error="the node was deleted", now=datetime.now(UTC)))
            return 0.0
        peer = scu.Peer(target[0], target[1], target[2], target[3])
        try:
            result = mpps.send(peer, kind, uid, Dataset.from_json(ds_json), self.policy.timeout_s)
        except Exception as exc:  # a bad data set must not stop the node's queue for good
            log.exception("MPPS send failed")
            result = mpps.Delivery(False, reason=f"internal error: {exc}")
        now = datetime.now(UTC)
        if result.ok:
            self.db.write_sync(partial(repo.mark_sent, seq=seq, now=now))
            return 0.0  # the node's next message may be due now
        if result.permanent:
            log.error("MPPS message refused", extra={"seq": seq, "kind": kind, "reason": result.reason})
            self.db.write_sync(partial(repo.mark_failed, seq=seq, error=result.reason, now=now))
            return 0.0
        delay = self.policy.backoff(attempts + 1)
        log.warning("MPPS message not delivered", extra={"seq": seq, "kind": kind, "reason": result.reason})
        self.db.write_sync(
            partial(repo.mark_retry, seq=seq, error=result.reason, next_at=now + timedelta(seconds=delay))
        )
        return delay
