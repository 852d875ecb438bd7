"""POST task/inspection/start, trigger, judge, leave and GET status (§15). Decisions (§17.11 items
70–72) are in README "Acquisition"; the state machine is `dros.acquisition.service`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from dros.acquisition.service import AcquisitionService
from dros.auth.guards import requires
from dros.auth.roles import Permission
from dros.domain.inspection.schemas import JudgeBody, LeaveBody, StartBody, TaskGlobalStatusReply
from dros.envelope import EMPTY, Envelope, ProtoEmpty, ok


def _task(request: Request[Any, Any, Any]) -> AcquisitionService:
    service: AcquisitionService = request.app.state.acquisition
    return service


class InspectionController(Controller):
    path = "/auth/task/inspection"
    tags = ["acquisition"]
    guards = [requires(Permission.ACQUIRE)]

    @post("/start", status_code=200)
    async def start(self, request: Request[Any, Any, Any], data: JSONBody[StartBody]) -> Envelope[ProtoEmpty]:
        await _task(request).start_inspection(data.instance_uid)
        return ok(EMPTY)

    @get("/status")
    async def status(self, request: Request[Any, Any, Any]) -> Envelope[TaskGlobalStatusReply]:
        st = _task(request).status()
        return ok(
            TaskGlobalStatusReply(
                gen_status=st.gen_status,
                gen_ready=st.gen_ready,
                fpd_status=st.fpd_status,
                fpd_ready=st.fpd_ready,
                insp_status=st.insp_status,
                insp_ready=st.insp_ready,
                all_ready=st.all_ready,
            )
        )

    @post("/trigger", status_code=200)
    async def trigger(self, request: Request[Any, Any, Any]) -> Envelope[dict[str, Any]]:
        await _task(request).trigger()
        return ok({})

    @post("/judge", status_code=200)
    async def judge(self, request: Request[Any, Any, Any], data: JSONBody[JudgeBody]) -> Envelope[ProtoEmpty]:
        await _task(request).judge(data.instance_uid, data.accept, data.reason or "other")
        return ok(EMPTY)

    @post("/leave", status_code=200)
    async def leave(self, request: Request[Any, Any, Any], data: JSONBody[LeaveBody]) -> Envelope[ProtoEmpty]:
        await _task(request).leave(data.study_id, data.study_status)
        return ok(EMPTY)
