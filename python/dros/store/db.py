"""The one DuckDB database of the service.

Connection rule (DuckDB allows one read-write process, and a connection object is not
thread-safe): this object owns the single connection. Every write runs on ONE writer thread,
inside BEGIN … COMMIT (rolled back on any exception), so each request's writes are atomic and
writes never interleave. Reads run on a small pool of reader threads, each with its own
`cursor()` of the same connection, and see committed data only. Nothing queries on the event
loop thread: async callers `await db.read(fn)` / `await db.write(fn)`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb

T = TypeVar("T")
Conn = duckdb.DuckDBPyConnection


class Database:
    def __init__(self, path: Path | str, *, readers: int = 4) -> None:
        self.path = str(path)
        self._conn = duckdb.connect(self.path)
        self._local = threading.local()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb-writer")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="duckdb-reader")
        self._cursors: list[Conn] = []
        self._cursor_lock = threading.Lock()
        self._closed = False
        # bumped after every committed write: readers cache results against it (see generation)
        self._generation = 0

    # -- sync API (start-up, migrations, tests, benchmarks) -------------------------------
    def read_sync(self, fn: Callable[[Conn], T]) -> T:
        return fn(self._cursor())

    def write_sync(self, fn: Callable[[Conn], T]) -> T:
        return self._writer.submit(self._transaction, fn).result()

    # -- async API (request handlers) ------------------------------------------------------
    async def read(self, fn: Callable[[Conn], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, fn)

    async def write(self, fn: Callable[[Conn], T]) -> T:
        return await asyncio.wrap_future(self._writer.submit(self._transaction, fn))

    @property
    def generation(self) -> int:
        """Changes after every committed write, whatever it wrote: a result read at generation g is
        still current while the generation is g."""
        return self._generation

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._cursor_lock:
            for cur in self._cursors:
                try:
                    cur.close()
                except duckdb.Error:
                    pass
        self._conn.close()

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
        cur.execute("COMMIT")
        self._generation += 1
        return result
