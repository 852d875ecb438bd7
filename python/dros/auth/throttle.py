"""Failed-login throttling per (user name, client address).

In memory on purpose: one process serves the console (single granian worker), and a restart
clearing a lockout is acceptable — the lockout only slows guessing, it is not an audit trail.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    def __init__(self, max_failures: int, window_s: float, lockout_s: float, clock=time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until a login may be tried again; 0 when allowed."""
        with self._lock:
            until = self._locked_until.get((user, address), 0.0)
            return max(0.0, until - self._clock())

    def failed(self, user: str, address: str) -> None:
        key = (user, address)
        now = self._clock()
        with self._lock:
            q = self._failures.setdefault(key, deque())
            q.append(now)
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_s
                q.clear()

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop((user, address), None)
            self._locked_until.pop((user, address), None)
