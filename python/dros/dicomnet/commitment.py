"""Storage commitment, push model (PS3.4 Annex J, IHE RAD-10).

SCU side: after the images of an association are stored, `request_commitment` sends an N-ACTION
(Request Storage Commitment) for them on the same association. SCP side: `CommitmentScp` listens on
our own port and AE title for the N-EVENT-REPORT the PACS sends later (usually on a new association)
and hands the result to a callback; only then are the images committed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import StorageCommitmentPushModel, Verification  # type: ignore[attr-defined]
from pynetdicom.transport import ThreadedAssociationServer

from dros.dicomnet.log import DcmtkLog
from dros.dicomnet.scu import MAX_PDU, FileInfo

log = logging.getLogger("dros.pacs.commitment")

# the well-known SOP Instance of the Storage Commitment Push Model
COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"

# Failure Reason values (PS3.3 C.14.1.1 / PS3.4 J.3.3.1.1)
FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0112: "no such object instance",
    0x0119: "class / instance conflict",
    0x0122: "referenced SOP class not supported",
    0x0131: "duplicate transaction UID",
    0x0213: "resource limitation",
}


def new_transaction_uid(uid_root: str) -> str:
    prefix = uid_root.rstrip(".") + "."
    return str(generate_uid(prefix=None if prefix == "2.25." else prefix))


def accepts_commitment(assoc: Association) -> bool:
    return any(c.abstract_syntax == StorageCommitmentPushModel for c in assoc.accepted_contexts)


def request_commitment(assoc: Association, files: Sequence[FileInfo], txn: str, log_: DcmtkLog) -> str:
    """Send the N-ACTION on an open association; "" when the peer accepted the request, else why not.
    The caller records the transaction UID first: the report may arrive before this returns."""
    if not accepts_commitment(assoc):
        return "the node does not accept Storage Commitment Push Model"
    ds = Dataset()
    ds.TransactionUID = txn
    refs = []
    for f in files:
        item = Dataset()
        item.ReferencedSOPClassUID = f.sop_class_uid
        item.ReferencedSOPInstanceUID = f.sop_instance_uid
        refs.append(item)
    ds.ReferencedSOPSequence = refs
    log_.info(f"Sending Storage Commitment Request (N-ACTION, {len(refs)} instances)")
    status, _ = assoc.send_n_action(ds, 1, StorageCommitmentPushModel, COMMITMENT_INSTANCE)
    if "Status" not in status:
        log_.error("No response to the storage commitment request")
        return "no response to the storage commitment request"
    if status.Status != 0x0000:
        log_.error(f"Storage Commitment Request refused (0x{status.Status:04X})")
        return f"storage commitment request refused with status 0x{status.Status:04X}"
    log_.info("Storage Commitment Request accepted; waiting for the N-EVENT-REPORT")
    return ""


@dataclass(frozen=True)
class CommitmentResult:
    transaction_uid: str
    committed: list[str]
    failed: dict[str, str]  # SOP Instance UID → reason


def parse_report(info: Dataset) -> CommitmentResult:
    committed = [str(i.ReferencedSOPInstanceUID) for i in info.get("ReferencedSOPSequence", [])]
    failed = {}
    for item in info.get("FailedSOPSequence", []):
        code = int(item.get("FailureReason", 0x0110))
        failed[str(item.ReferencedSOPInstanceUID)] = f"0x{code:04X} {FAILURE_REASONS.get(code, 'failure')}"
    return CommitmentResult(str(info.get("TransactionUID", "")), committed, failed)


class CommitmentScp:
    """Our listening AE (dicom.ae_title on dicom.scp_port): Storage Commitment reports and echo."""

    def __init__(self, ae_title: str, host: str, port: int, on_report: Callable[[CommitmentResult], None]) -> None:
        self.ae = AE(ae_title=ae_title)
        self.ae.maximum_pdu_size = MAX_PDU
        self.ae.network_timeout = 30
        self.ae.require_called_aet = True
        syntaxes = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
        # the PACS is the SCP of the push model and says so by role selection on its association
        self.ae.add_supported_context(StorageCommitmentPushModel, syntaxes, scu_role=False, scp_role=True)
        self.ae.add_supported_context(Verification, syntaxes)
        self.host = host
        self.port = port
        self.on_report = on_report
        self._server: Any = None

    def start(self) -> None:
        handlers: list[Any] = [(evt.EVT_N_EVENT_REPORT, self._report)]
        server = self.ae.make_server(
            (self.host, self.port), evt_handlers=handlers, server_class=ThreadedAssociationServer
        )
        self.ae._servers.append(server)
        # a short poll (pynetdicom's own thread polls every 0.5 s) so that stop() returns at once
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="dicom-scp"
        ).start()
        self._server = server

    @property
    def bound_port(self) -> int:
        return int(self._server.server_address[1]) if self._server else self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def _report(self, event: Any) -> Dataset:
        return answer_report(event, self.on_report)


def answer_report(event: Any, on_report: Callable[[CommitmentResult], None]) -> Dataset:
    """Handle an N-EVENT-REPORT (on our SCP, or on the sending association when the PACS reports
    before we release it) and answer its status."""
    status = Dataset()
    try:
        result = parse_report(event.event_information)
        log.info(
            "storage commitment report",
            extra={
                "transaction": result.transaction_uid,
                "committed": len(result.committed),
                "failed": len(result.failed),
            },
        )
        on_report(result)
        status.Status = 0x0000
    except Exception:  # the peer gets a processing failure, the service keeps running
        log.exception("cannot apply a storage commitment report")
        status.Status = 0x0110
    return status
