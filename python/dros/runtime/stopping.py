"""What a request sees when the service stops under it: work that was queued (argon2, DuckDB) is
cancelled when the stop signal arrives, and new work is refused; either way the request answers
the INTERNAL envelope with "the service is stopping" instead of hanging the stop or dying with a
bare CancelledError."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from dros.errors import DrosError, ErrorCode

T = TypeVar("T")


def stopping_error() -> DrosError:
    return DrosError(
        ErrorCode.INTERNAL,
        en="the service is stopping; try again when it is back",
        zh="服务正在停止，请在服务恢复后重试",
    )


async def await_queued(fut: asyncio.Future[T]) -> T:
    """Await executor work; its cancellation by a stop (not of the awaiting task) becomes `stopping_error()`."""
    try:
        return await fut
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if fut.cancelled() and (task is None or not task.cancelling()):
            raise stopping_error() from None
        raise
