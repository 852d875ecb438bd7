"""PACS nodes (§7), echo and the send queue (§9) as the reference shows them, and the bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

NodeName = Annotated[str, msgspec.Meta(min_length=3, max_length=16)]
AeTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Address = Annotated[str, msgspec.Meta(min_length=7, max_length=15)]
# The reference writes 1~65536; 65536 is no TCP port.
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Uid = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
TaskId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]

SCP_LIST = "type.googleapis.com/dr.study.ScpList"
ECHO_REPLY = "type.googleapis.com/dr.task.EchoReply"
STORE_REPLY = "type.googleapis.com/dr.task.StoreReply"

TASK_STATUSES = ("PENDING", "SENDING", "COMPLETED", "COMMITTED", "FAILED")
NodeRole = Literal["storage", "worklist", "mpps"]


class NodeParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`params` of a node. The reference returns it without saying how to set it; POST/PUT accept it
    as an optional extension (absent = these defaults)."""

    verbose: bool = False
    debug: bool = False
    # parallel associations the send queue opens to this node
    associations: Annotated[int, msgspec.Meta(ge=1, le=8)] = 2
    # request storage commitment (N-ACTION) after each successful store
    storage_commitment: bool = False
    # what the node serves (extension, README "RIS"): storage (the send queue), worklist (C-FIND of
    # the Modality Worklist), mpps (performed procedure steps); absent = storage, as before roles existed
    roles: Annotated[list[NodeRole], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: ["storage"]
    )


class NodeBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: NodeName
    type: Literal["PACS"] = "PACS"
    address: Address
    port: Port
    aet: AeTitle
    aec: AeTitle
    is_enabled: bool
    is_default: bool
    params: NodeParams | None = None


class Node(msgspec.Struct, kw_only=True):
    id: int
    name: str
    type: str
    address: str
    port: int
    aet: str
    aec: str
    is_enabled: bool
    is_default: bool
    params: NodeParams


class ScpList(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=SCP_LIST, name="@type")
    scp: list[Node]


class EchoBody(msgspec.Struct, kw_only=True):
    verbose: bool = False
    debug: bool = False
    address: Address
    port: Port
    aet: AeTitle
    aec: AeTitle


class EchoReply(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=ECHO_REPLY, name="@type")
    ok: bool
    output: str
    # extensions: why it failed in one word (refused, unreachable, rejected, timeout, aborted,
    # no-context, failed) and in plain words; "" on success
    failure: str = ""
    reason: str = ""


class StoreBody(msgspec.Struct, kw_only=True):
    sop_instance_uid: Uid
    pacs_name: NodeName


class StudyStoreBody(msgspec.Struct, kw_only=True):
    # described as study_id; a Study Instance UID is accepted too
    instance_uid: Uid
    pacs_name: NodeName


class RetryBody(msgspec.Struct, kw_only=True):
    instance_uid: TaskId


class TaskDelete(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    task_ids: Annotated[list[TaskId], msgspec.Meta(min_length=1, max_length=10000)]


class StoreReply(msgspec.Struct, kw_only=True):
    type_: str = msgspec.field(default=STORE_REPLY, name="@type")
    ok: bool
    output: str
    # extensions: the queue entries this request created or reused, and where they stand
    task_ids: list[str] = msgspec.field(default_factory=list)
    status: list[str] = msgspec.field(default_factory=list)


class QueueEntry(msgspec.Struct, kw_only=True):
    task_id: str
    patient_name: str
    patient_id: str
    priority: str
    status: str
    destination: str
    start_time: str
    # extensions (the UI's retry-count column and what a technologist needs to act on a failure)
    sop_instance_uid: str
    study_id: str
    retry_count: int
    error: str
    transfer_syntax: str
    end_time: str | None
    next_attempt_time: str | None


def node_params(raw: str) -> NodeParams:
    return msgspec.json.decode(raw.encode(), type=NodeParams)


def params_json(params: NodeParams) -> str:
    return msgspec.json.encode(params).decode()


def as_dict(params: NodeParams) -> dict[str, Any]:
    return msgspec.structs.asdict(params)
