"""The MPPS worker: one thread that delivers the queued performed-procedure-step messages (queued by
`mpps_events` in the transactions of the study's state changes), per node strictly in order,
retrying without limit (with a capped back-off) while the RIS is down. It reads committed rows only,
so a SIGKILL loses nothing: a message not yet acknowledged is sent again after the restart (a
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
from dros.domain.worklist import repo
from dros.store.db import Database

log = logging.getLogger("dros.ris.mpps")


@dataclass(frozen=True)
class MppsPolicy:
    timeout_s: float = 10.0
    retry_base_s: float = 5.0
    retry_cap_s: float = 300.0
    poll_s: float = 1.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.retry_cap_s, self.retry_base_s * 2 ** max(0, attempts - 1)))


class MppsWorker:
    def __init__(self, db: Database, policy: MppsPolicy) -> None:
        self.db = db
        self.policy = policy
        # a message is being queued by a transaction that commits after this generation (-1: none)
        self._expected_after = -1
        self._expected_until = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mpps", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def queued(self) -> None:
        """Called inside the transaction that queues a message: it is readable only once that
        transaction commits (the generation moves on), so the worker looks again until then."""
        self._expected_after = self.db.generation
        self._expected_until = time.monotonic() + self.policy.poll_s
        self._wake.set()

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.deliver()
            except Exception:  # the worker survives a bad moment of the database or a peer
                log.exception("MPPS worker step failed")
                wait = self.policy.poll_s
            if self.db.generation <= self._expected_after and time.monotonic() < self._expected_until:
                wait = min(wait, 0.01)  # the queuing transaction has not committed yet
            self._wake.wait(wait)
            self._wake.clear()

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
