"""The contract's topics and payloads (API.md §16), and the service's offline marker.

`MODULE/TASK/STATUS/GLOBAL` carries the task status with the seed's PascalCase keys, retained, so a
console that subscribes late sees the current state at once. The last will on the same topic says
"offline" (every ready flag false, `InspStatus` `TASK_Offline`): a console that only knows the seed's
topic stops offering the exposure button when the service dies.

`MODULE/TASK/IMGPROC/PROGRESS` carries one message per step of one exposure; `sop` is the image's SOP
Instance UID (the produced files are `<sop>.dcm` and `<sop>.webp`).
"""

from __future__ import annotations

import enum

import msgspec

STATUS_TOPIC = "MODULE/TASK/STATUS/GLOBAL"
PROGRESS_TOPIC = "MODULE/TASK/IMGPROC/PROGRESS"


class Progress(enum.StrEnum):
    """`status` values of the progress topic, in the order they are sent."""

    RECV_RAW = "TASK_RecvRaw"
    RECV_MASK = "TASK_RecvMask"
    RECV_ENHANCE = "TASK_RecvEnhance"
    RECV_FOREGROUND = "TASK_RecvForeground"
    RECV_APPLY = "TASK_RecvApply"
    SUCCESS = "TASK_Success"
    FAILURE = "TASK_Failure"


class TaskGlobalStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The task status as REST answers it (`data` of task/inspection/status, snake_case keys)."""

    gen_status: str
    gen_ready: bool
    fpd_status: str
    fpd_ready: bool
    insp_status: str
    insp_ready: bool
    all_ready: bool

    def mqtt_payload(self) -> bytes:
        """The same status with the seed's MQTT keys."""
        return msgspec.json.encode(
            {
                "GENStatus": self.gen_status,
                "GENReady": self.gen_ready,
                "FPDStatus": self.fpd_status,
                "FPDReady": self.fpd_ready,
                "InspStatus": self.insp_status,
                "InspReady": self.insp_ready,
                "AllReady": self.all_ready,
            }
        )


#: What the retained status says while the service is not connected (its last will).
OFFLINE_STATUS = TaskGlobalStatus(
    gen_status="GENERATOR_STATUS_DISCONNECTED",
    gen_ready=False,
    fpd_status="DETECTOR_STATUS_DISCONNECTED",
    fpd_ready=False,
    insp_status="TASK_Offline",
    insp_ready=False,
    all_ready=False,
)


class ProgressMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One message of the progress topic; `dcm`/`thumbnail` only on TASK_Success."""

    status: str
    sop: str
    message: str = ""
    dcm: str | None = None
    thumbnail: str | None = None

    def payload(self) -> bytes:
        # `message` is always present (the seed's examples carry it even when empty)
        data: dict[str, str] = {"message": self.message, "sop": self.sop, "status": self.status}
        if self.dcm is not None:
            data["dcm"] = self.dcm
        if self.thumbnail is not None:
            data["thumbnail"] = self.thumbnail
        return msgspec.json.encode(data)
