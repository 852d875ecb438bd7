"""Bodies and replies of task/inspection/* (§15)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Uid = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
RejectReason = Literal[
    "positioning",
    "patient_motion",
    "artefact",
    "exposure_too_high",
    "exposure_too_low",
    "equipment",
    "test",
    "other",
]


class StartBody(msgspec.Struct, frozen=True):
    instance_uid: Uid


class JudgeBody(msgspec.Struct, frozen=True):
    instance_uid: Uid
    accept: bool
    # only for a reject; a reject without a reason is recorded as "other"
    reason: RejectReason | None = None


class LeaveBody(msgspec.Struct, frozen=True):
    study_id: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    study_status: Literal["InProgress", "Completed"]


class TaskGlobalStatusReply(msgspec.Struct, frozen=True, kw_only=True):
    type_: str = msgspec.field(default="type.googleapis.com/dr.task.TaskGlobalStatus", name="@type")
    gen_status: str
    gen_ready: bool
    fpd_status: str
    fpd_ready: bool
    insp_status: str
    insp_ready: bool
    all_ready: bool
