"""Service engineer's view of the running process: `auth/service/health` (loop lag, default
passwords, process), readable by service and admin (`service:read`)."""

from __future__ import annotations

import os
import time
from typing import Any

from litestar import Controller, Request, get, post

from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.deps import DbDep, SettingsDep
from dros.domain.service.schemas import ServiceHealth
from dros.domain.study.repo import list_quarantine
from dros.envelope import Envelope, ok
from dros.runtime.loop_lag import LoopLagProbe, LoopLagSnapshot
from dros.runtime.parent_watch import SUPERVISOR_PID_ENV


class ServiceController(Controller):
    path = "/auth/service"
    tags = ["service"]
    guards = [requires(Permission.SERVICE_READ)]

    @get("/health")
    async def health(
        self, request: Request[Any, Any, Any], settings: SettingsDep, db: DbDep
    ) -> Envelope[ServiceHealth]:
        state = request.app.state
        probe: LoopLagProbe = state.loop_lag
        supervisor = os.environ.get(SUPERVISOR_PID_ENV, "")
        return ok(
            ServiceHealth(
                pid=os.getpid(),
                supervisor_pid=int(supervisor) if supervisor.isdigit() else None,
                uptime_s=round(time.monotonic() - state.started_monotonic, 3),
                data_dir=str(settings.data_path),
                loop_lag=probe.snapshot(),
                loop_scheduling=state.get("loop_scheduling", "normal"),
                default_password_users=state.users.with_default_password(),
                quarantine=await db.read(list_quarantine),
            )
        )

    @post("/loop_lag/reset", status_code=200)
    async def reset_loop_lag(self, request: Request[Any, Any, Any]) -> Envelope[LoopLagSnapshot]:
        """Start the loop-lag figures afresh (e.g. before watching a procedure); answers the figures
        as they were."""
        probe: LoopLagProbe = request.app.state.loop_lag
        before = probe.snapshot()
        probe.reset()
        return ok(before)
