"""The send queue's worker: a dispatcher thread claims due tasks from DuckDB and hands them, a batch
per association, to a pool of sender threads (at most `params.associations` open associations per
node). Nothing here runs on the event loop. Every state change is committed before and after the
network work, so a SIGKILL at any point leaves each task PENDING, SENDING (sent again on the next
start) or finished."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from pynetdicom import evt

from dros.dicomnet import scu
from dros.dicomnet.commitment import (
    CommitmentResult,
    accepts_commitment,
    answer_report,
    new_transaction_uid,
    request_commitment,
)
from dros.dicomnet.log import DcmtkLog
from dros.domain.pacs import repo
from dros.domain.pacs.schemas import Node
from dros.store.db import Conn, Database

log = logging.getLogger("dros.pacs.queue")

MAX_BATCH = 64  # images per association
_MAX_OUTPUT = 16384


@dataclass(frozen=True)
class QueuePolicy:
    timeout_s: float = 30.0
    retry_base_s: float = 10.0
    retry_cap_s: float = 600.0
    max_attempts: int = 12
    poll_s: float = 1.0
    uid_root: str = "2.25"

    def backoff(self, attempts: int) -> float:
        """Delay before attempt `attempts + 1`: base·2^(attempts−1), capped."""
        return float(min(self.retry_cap_s, self.retry_base_s * 2 ** max(0, attempts - 1)))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_OUTPUT else text[: _MAX_OUTPUT // 2] + "\n...\n" + text[-_MAX_OUTPUT // 2 :]


class SendWorker:
    def __init__(self, db: Database, policy: QueuePolicy, resolve: Callable[[repo.Claimed], Path | None]) -> None:
        self.db = db
        self.policy = policy
        self.resolve = resolve  # where a claimed task's file is (None: gone)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active: dict[int, int] = {}  # node id → open associations
        self._assocs: set[Any] = set()
        # commitment transactions whose tasks are not marked yet → a report that came early
        self._inflight: dict[str, CommitmentResult | None] = {}
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pacs-send")
        self._thread = threading.Thread(target=self._run, name="pacs-dispatch", daemon=True)

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        n = self.db.write_sync(lambda c: repo.reset_interrupted(c, datetime.now(UTC)))
        if n:
            log.warning("send tasks interrupted by a stop were queued again", extra={"tasks": n})
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 1.0) -> None:
        """Abort open associations and wait at most `timeout` s in all; an unfinished task stays
        SENDING in the database and is sent again on the next start."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        with self._lock:
            assocs = list(self._assocs)
        for a in assocs:
            try:
                a.abort()
            except Exception:
                pass
        if self._thread.is_alive():
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)
        while time.monotonic() < deadline and not self.idle():
            time.sleep(0.02)

    def idle(self) -> bool:
        with self._lock:
            return not any(self._active.values())

    # -- dispatch ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._dispatch()
            except Exception:  # the worker survives a bad moment of the database or a bug in one batch
                log.exception("send queue dispatch failed")
                wait = self.policy.poll_s
            self._wake.wait(wait)
            self._wake.clear()

    def _dispatch(self) -> float:
        now = datetime.now(UTC)
        due = self.db.read_sync(lambda c: repo.due_counts(c, now))
        for node_id, count in due.items():
            node = self.db.read_sync(partial(repo.get_node, node_id=node_id))
            if node is None:
                continue
            with self._lock:
                free = node.params.associations - self._active.get(node_id, 0)
            if free <= 0:
                continue
            per = min(MAX_BATCH, max(1, math.ceil(count / free)))
            for _ in range(free):
                batch = self.db.write_sync(partial(repo.claim, node_id=node_id, limit=per, now=datetime.now(UTC)))
                if not batch:
                    break
                with self._lock:
                    self._active[node_id] = self._active.get(node_id, 0) + 1
                self._pool.submit(self._send_batch, node, batch)
        nxt = self.db.read_sync(repo.next_due)
        if nxt is None:
            return self.policy.poll_s
        return max(0.05, min(self.policy.poll_s, nxt - time.time()))

    # -- one association -----------------------------------------------------------------------
    def _send_batch(self, node: Node, batch: list[repo.Claimed]) -> None:
        try:
            self._send(node, batch)
        except Exception as exc:  # never leave a task SENDING while the service runs
            log.exception("send batch failed", extra={"node": node.name})
            self._finish_all(batch, scu.Sent(False, scu.Failure.FAILED, f"internal error: {exc}"), "")
        finally:
            with self._lock:
                self._active[node.id] = max(0, self._active.get(node.id, 0) - 1)
            self._wake.set()

    def _send(self, node: Node, batch: list[repo.Claimed]) -> None:
        logbook = DcmtkLog(verbose=node.params.verbose, debug=node.params.debug)
        files: list[scu.FileInfo] = []
        by_path: dict[Path, repo.Claimed] = {}
        for task in batch:
            path = self.resolve(task)
            if path is None or not path.is_file():
                self._finish(
                    task,
                    scu.Sent(False, scu.Failure.FAILED, "the image or its file no longer exists", permanent=True),
                    "",
                )
                continue
            try:
                info = scu.file_info(path)
            except Exception as exc:
                self._finish(
                    task, scu.Sent(False, scu.Failure.FAILED, f"unreadable DICOM file: {exc}", permanent=True), ""
                )
                continue
            files.append(info)
            by_path[path] = task
        if not files:
            return
        peer = scu.Peer(node.address, node.port, node.aet, node.aec)
        contexts = scu.store_contexts(files, commitment=node.params.storage_commitment)
        # a PACS may report commitment on this association before we release it
        on_report: list[Any] = [(evt.EVT_N_EVENT_REPORT, partial(answer_report, on_report=self.apply_report))]
        assoc, outcome = scu.associate(
            peer,
            contexts,
            logbook,
            self.policy.timeout_s,
            handlers=on_report if node.params.storage_commitment else None,
        )
        if assoc is None:
            self._finish_all(list(by_path.values()), scu.Sent(False, outcome.failure, outcome.reason), logbook.text())
            return
        with self._lock:
            self._assocs.add(assoc)
        txn, note = "", ""
        try:
            result = scu.send_c_stores(assoc, files, logbook, self.policy.timeout_s)
            stored = [f for f in files if result.sent[f.path].ok]
            if node.params.storage_commitment and stored and assoc.is_established:
                if accepts_commitment(assoc):
                    txn = new_transaction_uid(self.policy.uid_root)
                    with self._lock:
                        self._inflight[txn] = None  # a report arriving before the marks below waits here
                    note = request_commitment(assoc, stored, txn, logbook)
                    if note:
                        with self._lock:
                            self._inflight.pop(txn, None)
                        txn = ""
                else:
                    note = "storage commitment not available: the node did not accept the Storage Commitment SOP class"
            if assoc.is_established:
                logbook.info("Releasing Association")
                assoc.release()
        finally:
            with self._lock:
                self._assocs.discard(assoc)
        self._finish_many(
            [(by_path[f.path], result.sent[f.path]) for f in files], logbook.text(), commit_uid=txn, note=note
        )
        with self._lock:
            early = self._inflight.pop(txn, None) if txn else None
        if early is not None:
            self.apply_report(early)

    # -- outcomes ------------------------------------------------------------------------------
    def _finish_all(self, tasks: list[repo.Claimed], sent: scu.Sent, output: str) -> None:
        self._finish_many([(t, sent) for t in tasks], output)

    def _finish(self, task: repo.Claimed, sent: scu.Sent, output: str) -> None:
        self._finish_many([(task, sent)], output)

    def _finish_many(
        self, outcomes: list[tuple[repo.Claimed, scu.Sent]], output: str, *, commit_uid: str = "", note: str = ""
    ) -> None:
        """All outcomes of one association in one transaction."""
        now = datetime.now(UTC)
        out = _clip(output)

        def write(conn: Conn) -> None:
            stored: dict[str, list[str]] = {}
            for task, sent in outcomes:
                if sent.ok:
                    stored.setdefault(sent.transfer_syntax, []).append(task.task_id)
                    continue
                error = f"{sent.failure}: {sent.reason}" if sent.failure else sent.reason
                if sent.permanent or task.attempts >= self.policy.max_attempts:
                    if not sent.permanent:
                        error += f" (gave up after {task.attempts} attempts)"
                    repo.mark_failed(conn, task.task_id, error, out, now)
                else:
                    next_at = now + timedelta(seconds=self.policy.backoff(task.attempts))
                    repo.mark_retry(conn, task.task_id, error, out, next_at, now)
            for syntax, ids in stored.items():
                repo.mark_completed(conn, ids, syntax, out, now, commit_uid, note)

        self.db.write_sync(write)

    # -- storage commitment reports ------------------------------------------------------------
    def apply_report(self, result: CommitmentResult) -> None:
        with self._lock:
            if result.transaction_uid in self._inflight:
                self._inflight[result.transaction_uid] = result
                return
        self.db.write_sync(
            lambda c: repo.apply_commitment(
                c, result.transaction_uid, result.committed, result.failed, datetime.now(UTC)
            )
        )
