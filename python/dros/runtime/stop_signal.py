"""Run a callback the moment the worker is asked to stop, before granian drains its requests.

On SIGTERM granian's worker stops accepting and then waits for every request in flight to finish
before the ASGI lifespan shutdown runs. Requests queued behind slow work (argon2, DuckDB) would
keep it running past any bound, so the service cancels that queued work as soon as the signal
arrives: the callback runs first, then granian's own handler.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

log = logging.getLogger("dros.runtime")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_stop_signal(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    """Chain `callback` in front of the loop's SIGTERM/SIGINT handlers (granian installs them with
    `loop.add_signal_handler`). False when the loop does not expose them; granian's kill timeout
    still bounds the stop then."""
    handlers = getattr(loop, "_signal_handlers", None)
    if not isinstance(handlers, dict):
        log.warning("event loop %s does not expose its signal handlers; queued work is not cancelled early", loop)
        return False
    fired = False

    def make(sig: int, previous: asyncio.Handle | None) -> Callable[[], None]:
        def handler() -> None:
            nonlocal fired
            if not fired:
                fired = True
                try:
                    callback()
                except Exception:
                    log.exception("stop callback failed")
            if previous is not None and not previous.cancelled():
                previous._run()

        return handler

    try:
        for sig in STOP_SIGNALS:
            previous = handlers.get(sig)
            loop.add_signal_handler(sig, make(sig, previous))
    except (ValueError, RuntimeError):  # not the main thread's loop (an in-process test client)
        return False
    return True
