"""Failed-login throttling per (user name, client address).

In memory on purpose: one process serves the console (single granian worker), and a restart
clearing a lockout is acceptable — the lockout only slows guessing, it is not an audit trail.

Bounded: a client can invent any number of user names, so the table keeps at most `max_entries`
pairs. Pairs whose failures have left the window and whose lockout has ended are forgotten first;
beyond the cap the least recently failed pair that is not locked out goes (a locked pair is evicted
only when every pair near the old end is locked). Filling the cap costs one argon2 verification per
invented name, which is what keeps flooding from being a cheap way to lift a lockout.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

# how many of the oldest pairs are looked at for one that is not locked out before evicting the oldest
_EVICTION_SCAN = 64


@dataclass
class _Entry:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        lockout_s: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_entries: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.max_entries = max_entries
        self._clock = clock
        # least recently failed first
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until a login may be tried again; 0 when allowed."""
        with self._lock:
            entry = self._entries.get((user, address))
            return max(0.0, entry.locked_until - self._clock()) if entry else 0.0

    def failed(self, user: str, address: str) -> None:
        key = (user, address)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
            else:
                self._entries.move_to_end(key)
            q = entry.failures
            q.append(now)
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.max_failures:
                entry.locked_until = now + self.lockout_s
                q.clear()
            self._prune(now)

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._entries.pop((user, address), None)

    def _expired(self, entry: _Entry, now: float) -> bool:
        return entry.locked_until <= now and (not entry.failures or now - entry.failures[-1] > self.window_s)

    def _prune(self, now: float) -> None:
        # forget what no longer matters, oldest first (the order is by last failure)
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if not self._expired(entry, now):
                break
            del self._entries[key]
        while len(self._entries) > self.max_entries:
            victim = next(iter(self._entries))
            for n, (key, entry) in enumerate(self._entries.items()):
                if n >= _EVICTION_SCAN:
                    break
                if entry.locked_until <= now:
                    victim = key
                    break
            del self._entries[victim]
