"""Hooks other areas attach to the acquisition's state changes. Each runs inside the transaction that
makes the change, so whatever it writes (a queue row, say) commits or rolls back with it: a SIGKILL
cannot leave the change without its consequence, or the consequence without the change. The
acquisition only calls them; it knows nothing of who listens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dros.store.db import Conn

#: (conn, study_id, now) inside the caller's transaction
StudyHook = Callable[[Conn, str, datetime], None]


@dataclass
class StudyHooks:
    exposed: list[StudyHook] = field(default_factory=list)  # an image of the study was committed Exposed
    completed: list[StudyHook] = field(default_factory=list)  # the study was left Completed

    def image_exposed(self, conn: Conn, study_id: str, now: datetime) -> None:
        for hook in self.exposed:
            hook(conn, study_id, now)

    def study_completed(self, conn: Conn, study_id: str, now: datetime) -> None:
        for hook in self.completed:
            hook(conn, study_id, now)
