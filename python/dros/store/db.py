"""The one DuckDB database of the service.

Connection rule (DuckDB allows one read-write process, and a connection object is not
thread-safe): this object owns the single connection. Every write runs on ONE writer thread,
inside BEGIN … COMMIT (rolled back on any exception), so each request's writes are atomic and
writes never interleave. Reads run on a small pool of reader threads, each read on a fresh
`cursor()` of the same connection that is closed after it (no transaction outlives its read), and
see committed data only. Nothing queries on the event
loop thread: async callers `await db.read(fn)` / `await db.write(fn)`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb

from dros.runtime.stopping import await_queued, stopping_error

T = TypeVar("T")
log = logging.getLogger("dros.store")
Conn = duckdb.DuckDBPyConnection


class Database:
    def __init__(self, path: Path | str, *, readers: int = 4, threads: int | None = None) -> None:
        self.path = str(path)
        self._conn = duckdb.connect(self.path, config={} if threads is None else {"threads": threads})
        self._local = threading.local()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb-writer")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="duckdb-reader")
        self._cursors: list[Conn] = []  # the writer's (and migrations') long-lived cursors
        self._reading: set[Conn] = set()  # cursors of the reads running now
        self._cursor_lock = threading.Lock()
        self._closed = False
        self._stopping = False  # cancel_queued() was called: new async work is refused
        # bumped after every committed write: readers cache results against it (see generation)
        self._generation = 0

    # -- sync API (start-up, migrations, tests, benchmarks) -------------------------------
    def read_sync(self, fn: Callable[[Conn], T]) -> T:
        # A fresh cursor per read, closed after it (≈ 3 µs): a cursor kept open keeps the
        # transaction of its last result open until its next query — `fetchone()` never drains
        # a result — and one such idle transaction pins every undo version committed after it
        # (DuckDB memory grows with each write) and makes CHECKPOINT refuse to run.
        cur = self._conn.cursor()
        with self._cursor_lock:
            self._reading.add(cur)
        try:
            return fn(cur)
        finally:
            with self._cursor_lock:
                self._reading.discard(cur)
            cur.close()

    def write_sync(self, fn: Callable[[Conn], T]) -> T:
        return self._writer.submit(self._transaction, fn).result()

    # -- async API (request handlers) ------------------------------------------------------
    async def read(self, fn: Callable[[Conn], T]) -> T:
        if self._stopping:
            raise stopping_error()
        loop = asyncio.get_running_loop()
        return await await_queued(loop.run_in_executor(self._readers, self.read_sync, fn))

    async def write(self, fn: Callable[[Conn], T]) -> T:
        if self._stopping:
            raise stopping_error()
        return await await_queued(asyncio.wrap_future(self._writer.submit(self._transaction, fn)))

    @property
    def generation(self) -> int:
        """Changes after every committed write, whatever it wrote: a result read at generation g is
        still current while the generation is g. Odd while a commit is under way: reads that ran
        without a transaction between two equal, even readings saw no commit at all."""
        return self._generation

    def cancel_queued(self) -> None:
        """The service is stopping: cancel the work that has not started (its callers get
        CancelledError) and take no more; what runs now finishes. `close()` follows."""
        self._stopping = True
        self._writer.shutdown(wait=False, cancel_futures=True)
        self._readers.shutdown(wait=False, cancel_futures=True)

    def close(self, timeout: float = 3.0) -> bool:
        """Stop within `timeout`: work still queued is cancelled (its callers get CancelledError),
        work already running gets until the deadline and is then interrupted (a write rolls back).
        Returns False when a query ignored the interrupt; the connection is then left to the
        process exit (DuckDB's WAL keeps every committed write)."""
        if self._closed:
            return True
        self._closed = True
        deadline = time.monotonic() + timeout
        self._writer.shutdown(wait=False, cancel_futures=True)
        self._readers.shutdown(wait=False, cancel_futures=True)
        threads = [*self._writer._threads, *self._readers._threads]
        if not _join_all(threads, deadline):
            with self._cursor_lock:
                for cur in [*self._cursors, *self._reading]:
                    cur.interrupt()
            if not _join_all(threads, time.monotonic() + 1.0):
                log.warning("database work still running after the shutdown bound; not closing the connection")
                return False
        with self._cursor_lock:
            for cur in self._cursors:
                try:
                    cur.close()
                except duckdb.Error:
                    pass
        self._conn.close()
        return True

    # -- internals -------------------------------------------------------------------------
    def _cursor(self) -> Conn:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
            with self._cursor_lock:
                self._cursors.append(cur)
        return cur

    def _transaction(self, fn: Callable[[Conn], T]) -> T:
        cur = self._cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            result = fn(cur)
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        # odd while the commit is under way, so a reader that compares the generation before and
        # after its reads sees every commit that could have become visible to them (a seqlock)
        self._generation += 1
        try:
            cur.execute("COMMIT")
        finally:
            self._generation += 1
        return result


def _join_all(threads: list[threading.Thread], deadline: float) -> bool:
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in threads)
