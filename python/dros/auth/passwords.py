"""Slow salted password hashes (argon2id, argon2-cffi's RFC 9106 low-memory profile).

Hashing and verifying take tens of milliseconds of CPU and 64 MiB each, so request handlers never
run them on the event loop: `verify_password_async` / `hash_password_async` hand them to a small
executor of their own. Its size bounds memory and leaves a core to the event loop and DuckDB; its
threads run at a lower scheduling priority so a burst of logins cannot starve the loop thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dros.runtime.stopping import await_queued, stopping_error

T = TypeVar("T")

_hasher = PasswordHasher()

# one argon2 at a time per spare core (at least one): argon2 itself runs its lanes in parallel
HASH_CONCURRENCY = max(1, (os.cpu_count() or 1) - 1)
HASH_THREAD_NICE = 19


def _lower_priority() -> None:
    # Linux: the nice value is per thread (and inherited by the threads argon2 starts)
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICE)
    except (OSError, AttributeError):
        pass


class HashPool:
    """The executor argon2 runs on; `cancel_queued()` when the service stops."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self.stopping = False

    def cancel_queued(self) -> None:
        """The service is stopping: drop the work still waiting (its callers get the stopping
        error), refuse new work; the one running finishes."""
        self.stopping = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.stopping:
            raise stopping_error()
        fut = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        return await await_queued(fut)


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
