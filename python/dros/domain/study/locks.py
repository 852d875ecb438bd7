"""One asyncio lock per study, for everything that writes into a study's folder or moves it.

The study service (delete to the recycle bin, restore, purge, save_as, deleting a view) and the
document services (report save, portrait, post_proc) check the study in the database, work on its
files, then commit. Without a common lock a report saved while the study is purged could write
into a folder that is being removed, or next to one that is being moved to the bin. Holding the
study's lock from the first check to the commit makes each of them see the study as it is.

The registry belongs to the database (one per app): both services reach it from the `Database`
they are given, so neither has to know the other.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from dros.store.db import Database


class StudyLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # holders and waiters: a lock nobody needs is dropped

    @asynccontextmanager
    async def hold(self, study_ids: Iterable[str]) -> AsyncIterator[None]:
        """Holds the locks of `study_ids` (a batch takes them in sorted order, so two batches that
        share studies never wait on each other in a cycle)."""
        ids = sorted(set(study_ids))
        for sid in ids:
            self._users[sid] = self._users.get(sid, 0) + 1
            self._locks.setdefault(sid, asyncio.Lock())
        held: list[str] = []
        try:
            for sid in ids:
                await self._locks[sid].acquire()
                held.append(sid)
            yield
        finally:
            for sid in reversed(held):
                self._locks[sid].release()
            for sid in ids:
                self._users[sid] -= 1
                if not self._users[sid]:
                    del self._users[sid], self._locks[sid]

    def busy(self, study_id: str) -> bool:
        """Someone holds or waits for the study's lock."""
        return study_id in self._users


_REGISTRY: weakref.WeakKeyDictionary[Database, StudyLocks] = weakref.WeakKeyDictionary()


def study_locks(db: Database) -> StudyLocks:
    """The registry of the app that owns `db`."""
    locks = _REGISTRY.get(db)
    if locks is None:
        locks = _REGISTRY[db] = StudyLocks()
    return locks
