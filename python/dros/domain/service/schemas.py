from __future__ import annotations

import msgspec

from dros.domain.study.schemas import QuarantineEntry
from dros.runtime.loop_lag import LoopLagSnapshot


class ServiceHealth(msgspec.Struct, kw_only=True):
    """`GET auth/service/health`. Extend by adding fields with defaults (keyword-only), so every
    part of the service can report here without touching the others."""

    pid: int  # the worker process serving the API
    supervisor_pid: int | None  # `dros serve`, the worker's parent (None when run in-process)
    uptime_s: float
    data_dir: str
    # event-loop lag: how late the loop woke a 5 ms timer (anything above a few ms means blocking work)
    loop_lag: LoopLagSnapshot
    # how the event loop's thread is scheduled: "fifo 1" (real-time, runtime.loop_realtime_priority)
    # or "normal" (not permitted or switched off)
    loop_scheduling: str = "normal"
    # login users that still have the installation's default password (change it on installation)
    default_password_users: list[str] = msgspec.field(default_factory=list)
    # image files the start-up repair found no row for, moved to <data_dir>/quarantine (never
    # deleted): service decides whether to restore or remove them (newest first)
    quarantine: list[QuarantineEntry] = msgspec.field(default_factory=list)
