"""Slow salted password hashes (argon2id, argon2-cffi's RFC 9106 low-memory profile).

Hashing and verifying take tens of milliseconds of CPU and 64 MiB each, so request handlers never
run them on the event loop: `verify_password_async` / `hash_password_async` hand them to a small
executor of their own. Its size bounds memory and leaves a core to the event loop and DuckDB; its
threads run at a lower scheduling priority so a burst of logins cannot starve the loop thread.
"""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dros.runtime.priority import lower_this_thread
from dros.runtime.stopping import await_queued, stopping_error

T = TypeVar("T")

_hasher = PasswordHasher()

# one argon2 at a time per spare core (at least one): argon2 itself runs its lanes in parallel
HASH_CONCURRENCY = max(1, (os.cpu_count() or 1) - 1)
HASH_THREAD_NICE = 19


class HashPool:
    """Daemon threads that run argon2; `cancel_queued()` when the service stops.

    Own threads rather than a ThreadPoolExecutor: those are joined at interpreter exit, so a stop
    would wait for a hash still running at the lowest priority; these are daemons, and a stop
    answers every caller at once (queued or running) and leaves a running hash to the exit."""

    def __init__(self, workers: int = HASH_CONCURRENCY) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any]] | None] = queue.SimpleQueue()
        self._pending: set[asyncio.Future[Any]] = set()
        self.stopping = False
        for n in range(workers):
            threading.Thread(target=self._work, name=f"argon2-{n}", daemon=True).start()

    def _work(self) -> None:
        lower_this_thread(HASH_THREAD_NICE)  # and the threads argon2 starts inherit it
        while (item := self._queue.get()) is not None:
            call, fut = item
            if fut.cancelled():
                continue
            result: Any = None
            error: BaseException | None = None
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting request
                error = exc
            try:
                fut.get_loop().call_soon_threadsafe(_settle, fut, result, error)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

    def cancel_queued(self) -> None:
        """The service is stopping: every caller waiting for a hash (queued or running) gets the
        stopping error now; new work is refused."""
        self.stopping = True
        for fut in list(self._pending):
            fut.cancel()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.stopping:
            raise stopping_error()
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)
        self._queue.put((functools.partial(fn, *args), fut))
        return await await_queued(fut)


def _settle(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


POOL = HashPool()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """`hash_password` off the event loop."""
    return await POOL.run(hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    """`verify_password` off the event loop."""
    return await POOL.run(verify_password, password_hash, password)


# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
DUMMY_HASH = _hasher.hash("not-a-password")
