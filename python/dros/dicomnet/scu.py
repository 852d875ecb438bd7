"""DICOM SCU towards PACS nodes through pynetdicom: C-ECHO and C-STORE (from the file, without
decoding pixel data), each failure classified in plain words. Blocking; callers run it on a thread."""

from __future__ import annotations

import enum
import errno
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless
from pynetdicom import AE, _config, evt
from pynetdicom.association import Association
from pynetdicom.pdu import A_ASSOCIATE_RJ
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.sop_class import StorageCommitmentPushModel, Verification  # type: ignore[attr-defined]

from dros.dicomnet.log import DcmtkLog

# Send a file's encoded bytes in PDU-sized chunks: no pixel decoding, flat memory per association.
_config.STORE_SEND_CHUNKED_DATASET = True

UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
TS_NAMES = {
    ExplicitVRLittleEndian: "Explicit VR Little Endian",
    ImplicitVRLittleEndian: "Implicit VR Little Endian",
    RLELossless: "RLE Lossless",
}
# the largest P-DATA we announce (what we receive: N-EVENT-REPORTs, C-STORE responses)
MAX_PDU = 262144


class Failure(enum.StrEnum):
    REFUSED = "refused"  # nothing listens on the port (TCP connection refused)
    UNREACHABLE = "unreachable"  # no route / host down
    REJECTED = "rejected"  # the peer answered A-ASSOCIATE-RJ
    TIMEOUT = "timeout"  # no answer within the time limit
    ABORTED = "aborted"  # the peer aborted or closed the association
    NO_CONTEXT = "no-context"  # association accepted, but not for what we need
    FAILED = "failed"  # the peer answered with a failure status


@dataclass(frozen=True)
class Peer:
    address: str
    port: int
    called_aet: str
    calling_aet: str


@dataclass
class Outcome:
    ok: bool
    failure: Failure | None = None
    reason: str = ""


class _Watch:
    """What happened on the wire, from the association's notification events."""

    def __init__(self) -> None:
        self.connected = False
        self.received = False
        self.rejection: Any = None

    def handlers(self) -> list[Any]:
        return [(evt.EVT_CONN_OPEN, self._open), (evt.EVT_PDU_RECV, self._pdu), (evt.EVT_ACSE_RECV, self._acse)]

    def _open(self, event: Any) -> None:
        self.connected = True

    def _pdu(self, event: Any) -> None:
        self.received = True
        # the A-ASSOCIATE-RJ PDU itself: a peer that closes the socket right after rejecting (storescp
        # --refuse) makes pynetdicom report an abort, and the ACSE event never fires
        if isinstance(event.pdu, A_ASSOCIATE_RJ):
            self.rejection = event.pdu

    def _acse(self, event: Any) -> None:
        prim = event.primitive
        if getattr(prim, "result", None) in (0x01, 0x02):
            self.rejection = prim


_RJ_RESULT = {1: "Rejected Permanent", 2: "Rejected Transient"}
_RJ_SOURCE = {1: "Service User", 2: "Service Provider (ACSE)", 3: "Service Provider (Presentation)"}
_RJ_REASON = {
    (1, 1): "No reason given",
    (1, 2): "Application context name not supported",
    (1, 3): "Calling AE title not recognised",
    (1, 7): "Called AE title not recognised",
    (2, 1): "No reason given",
    (2, 2): "Protocol version not supported",
    (3, 1): "Temporary congestion",
    (3, 2): "Local limit exceeded",
}


def rejection_text(rj: Any) -> tuple[str, str, str]:
    """PS3.8 Table 9-21 wording, from the A-ASSOCIATE-RJ PDU or primitive."""
    result = int(getattr(rj, "result", 0) or 0)
    source = int(getattr(rj, "source", None) or getattr(rj, "result_source", 0) or 0)
    reason = int(getattr(rj, "reason_diagnostic", None) or getattr(rj, "diagnostic", 0) or 0)
    return (
        _RJ_RESULT.get(result, f"result {result}"),
        _RJ_SOURCE.get(source, f"source {source}"),
        _RJ_REASON.get((source, reason), f"reason {reason}"),
    )


def _tcp_diagnosis(peer: Peer, timeout: float) -> tuple[Failure, str]:
    """Why the TCP connection failed, from a second plain connect (pynetdicom keeps the OSError)."""
    try:
        with socket.create_connection((peer.address, peer.port), timeout=timeout):
            return Failure.ABORTED, "the connection was closed before the association request"
    except ConnectionRefusedError:
        return Failure.REFUSED, f"connection refused: nothing listens on {peer.address}:{peer.port}"
    except TimeoutError:
        return Failure.TIMEOUT, f"no TCP connection to {peer.address}:{peer.port} within {timeout:g} s"
    except OSError as exc:
        if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
            return Failure.UNREACHABLE, f"{peer.address} is unreachable ({exc.strerror})"
        return Failure.UNREACHABLE, f"cannot connect to {peer.address}:{peer.port}: {exc.strerror or exc}"


def make_ae(calling_aet: str, timeout: float) -> AE:
    ae = AE(ae_title=calling_aet)
    ae.maximum_pdu_size = MAX_PDU
    ae.connection_timeout = timeout
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    return ae


def associate(
    peer: Peer,
    contexts: Sequence[PresentationContext],
    log: DcmtkLog,
    timeout: float,
    ext_neg: list[Any] | None = None,
    handlers: list[Any] | None = None,
) -> tuple[Association | None, Outcome]:
    """Open an association; on failure say which kind in plain words (and in the log)."""
    ae = make_ae(peer.calling_aet, timeout)
    watch = _Watch()
    log.info("Requesting Association")
    log.verbose_info(
        f"Our AE Title: {peer.calling_aet}, Peer AE Title: {peer.called_aet}, Peer: {peer.address}:{peer.port}"
    )
    started = time.monotonic()
    assoc = ae.associate(
        peer.address,
        peer.port,
        contexts=list(contexts),
        ae_title=peer.called_aet,
        max_pdu=MAX_PDU,
        evt_handlers=watch.handlers() + log.handlers() + (handlers or []),
        ext_neg=ext_neg,
    )
    if assoc.is_established:
        max_send = assoc.acceptor.maximum_length
        log.info(f"Association Accepted (Max Send PDV: {max_send - 6 if max_send else 'unlimited'})")
        ours = assoc.requestor.address_info
        if ours is not None:
            log.verbose_info(f"  Our end of the association: {ours.address}:{ours.port}")
        for cx in assoc.accepted_contexts:
            log.verbose_info(
                f"  Accepted Context {cx.context_id}: {UID(cx.abstract_syntax or '').name} "
                f"with {TS_NAMES.get(UID(cx.transfer_syntax[0]), cx.transfer_syntax[0])}"
            )
        return assoc, Outcome(True)
    elapsed = time.monotonic() - started
    if watch.rejection is not None:
        result, source, why = rejection_text(watch.rejection)
        log.error("Association Rejected:")
        log.error(f"Result: {result}, Source: {source}")
        log.error(f"Reason: {why}")
        reason = f"association rejected by {peer.called_aet}: {result}, source {source}: {why}"
        return None, Outcome(False, Failure.REJECTED, reason)
    if not watch.connected:
        failure, reason = _tcp_diagnosis(peer, min(timeout, 2.0))
        if elapsed >= timeout * 0.9 and failure is not Failure.REFUSED:
            failure, reason = Failure.TIMEOUT, f"no TCP connection to {peer.address}:{peer.port} within {timeout:g} s"
        log.error(f"Association Request Failed: TCP Initialization Error: {reason}")
        return None, Outcome(False, failure, reason)
    if not watch.received and elapsed >= timeout * 0.9:
        reason = f"the peer accepted the connection but did not answer the association request within {timeout:g} s"
        log.error(f"Association Request Failed: {reason}")
        return None, Outcome(False, Failure.TIMEOUT, reason)
    if (
        assoc.is_established is False
        and assoc.is_aborted
        and watch.received
        and not assoc.accepted_contexts
        and assoc.rejected_contexts
    ):
        reason = "the peer accepted none of the proposed presentation contexts"
        log.error(f"Association Aborted: {reason}")
        return None, Outcome(False, Failure.NO_CONTEXT, reason)
    reason = "the peer aborted the association request (or closed the connection)"
    log.error(f"Association Aborted: {reason}")
    return None, Outcome(False, Failure.ABORTED, reason)


def echo(peer: Peer, timeout: float, *, verbose: bool = False, debug: bool = False) -> tuple[Outcome, str]:
    log = DcmtkLog(verbose=verbose, debug=debug)
    assoc, outcome = associate(peer, [build_context(Verification)], log, timeout)
    if assoc is None:
        return outcome, log.text()
    try:
        log.info("Sending Echo Request (MsgID 1)")
        status = assoc.send_c_echo(msg_id=1)
        if assoc.is_aborted:
            outcome = Outcome(False, Failure.ABORTED, "the peer aborted the association during the echo")
            log.error("Association Aborted")
        elif "Status" not in status:
            outcome = Outcome(False, Failure.TIMEOUT, f"no echo response within {timeout:g} s")
            log.error(f"Echo Failed: {outcome.reason}")
        elif status.Status != 0x0000:
            outcome = Outcome(False, Failure.FAILED, f"echo answered with status 0x{status.Status:04X}")
            log.error(f"Received Echo Response (Status 0x{status.Status:04X})")
        else:
            log.info("Received Echo Response (Success)")
    finally:
        if assoc.is_established:
            log.info("Releasing Association")
            assoc.release()
    return outcome, log.text()


# -- C-STORE ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileInfo:
    path: Path
    sop_class_uid: UID
    sop_instance_uid: UID
    transfer_syntax: UID


def file_info(path: Path) -> FileInfo:
    """The file meta only: the pixel data is not read."""
    meta = dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"]).file_meta
    return FileInfo(
        path, UID(meta.MediaStorageSOPClassUID), UID(meta.MediaStorageSOPInstanceUID), UID(meta.TransferSyntaxUID)
    )


def store_contexts(files: Sequence[FileInfo], *, commitment: bool = False) -> list[PresentationContext]:
    """Per SOP class: the uncompressed syntaxes in one context, and each stored compressed syntax in a
    context of its own, so a peer that prefers compression (storescp +xa picks JPEG 2000 over
    anything when offered together) can only choose what we already have."""
    wanted: dict[UID, set[UID]] = {}
    for f in files:
        wanted.setdefault(f.sop_class_uid, set()).add(f.transfer_syntax)
    out: list[PresentationContext] = []
    for sop_class, syntaxes in wanted.items():
        out.append(build_context(sop_class, list(UNCOMPRESSED)))
        for ts in sorted(syntaxes - set(UNCOMPRESSED)):
            out.append(build_context(sop_class, [ts]))
    if commitment:
        out.append(build_context(StorageCommitmentPushModel, [ExplicitVRLittleEndian, ImplicitVRLittleEndian]))
    return out[:128]


@dataclass
class Sent:
    ok: bool
    failure: Failure | None = None
    reason: str = ""
    transfer_syntax: str = ""
    permanent: bool = False  # sending again will not help (no retries)


@dataclass
class _Plan:
    send_as: UID | None
    convert: bool
    why: str = ""


def _plan(assoc: Association, f: FileInfo) -> _Plan:
    accepted = [cx for cx in assoc.accepted_contexts if cx.abstract_syntax == f.sop_class_uid]
    syntaxes = [UID(cx.transfer_syntax[0]) for cx in accepted]
    if f.transfer_syntax in syntaxes:
        return _Plan(f.transfer_syntax, False)
    for ts in UNCOMPRESSED:
        if ts in syntaxes:
            return _Plan(ts, True)
    return _Plan(None, False, f"the peer accepted no transfer syntax for {f.sop_class_uid.name}")


def _converted(f: FileInfo, ts: UID) -> Dataset:
    """Only when the peer takes none of what the file holds: decode and re-encode uncompressed."""
    ds = dcmread(f.path)
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.decompress(generate_instance_uid=False)  # the same instance, only re-encoded
    ds.file_meta.TransferSyntaxUID = ts
    return ds


# C-STORE statuses a second try will not fix: SOP class refused, data set does not match,
# cannot understand (PS3.4 Annex B.2.3)
def _permanent(status: int) -> bool:
    return status in (0x0122, 0x0124, 0x0211) or 0xA900 <= status <= 0xA9FF or 0xC000 <= status <= 0xCFFF


def store_on(assoc: Association, f: FileInfo, log: DcmtkLog, msg_id: int, timeout: float) -> Sent:
    plan = _plan(assoc, f)
    if plan.send_as is None:
        log.error(f"Store Failed, file: {f.path.name}: {plan.why}")
        return Sent(False, Failure.NO_CONTEXT, plan.why, permanent=True)
    name = TS_NAMES.get(plan.send_as, str(plan.send_as))
    log.info(
        f"Sending Store Request (MsgID {msg_id}, DX)"
        if "1.1.1" in f.sop_class_uid
        else f"Sending Store Request (MsgID {msg_id})"
    )
    log.verbose_info(
        f"  SOP Instance UID {f.sop_instance_uid}, as {name}"
        + (" (converted from the stored syntax)" if plan.convert else "")
    )
    dataset: Any = _converted(f, plan.send_as) if plan.convert else f.path
    started = time.monotonic()
    status = assoc.send_c_store(dataset, msg_id=msg_id)
    if "Status" not in status:
        # no response: early means the peer aborted or hung up (pynetdicom may not have flagged the
        # association yet), late means the DIMSE timeout ran out; either way it is of no further use
        early = time.monotonic() - started < timeout * 0.9
        if assoc.is_established:
            assoc.abort()
        if early or assoc.is_aborted:
            log.error("Association Aborted")
            return Sent(False, Failure.ABORTED, "the peer aborted the association during the transfer")
        log.error(f"Store Failed: no response within {timeout:g} s")
        return Sent(False, Failure.TIMEOUT, f"no C-STORE response within {timeout:g} s")
    if assoc.is_aborted:
        log.error("Association Aborted")
        return Sent(False, Failure.ABORTED, "the peer aborted the association during the transfer")
    code = int(status.Status)
    if code == 0x0000 or 0xB000 <= code <= 0xBFFF:
        log.info(f"Received Store Response ({'Success' if code == 0 else f'Warning 0x{code:04X}'})")
        return Sent(True, transfer_syntax=name)
    comment = f" ({status.ErrorComment})" if "ErrorComment" in status else ""
    log.error(f"Received Store Response (Failure 0x{code:04X}{comment})")
    return Sent(
        False, Failure.FAILED, f"the peer refused the image: status 0x{code:04X}{comment}", permanent=_permanent(code)
    )


@dataclass
class BatchResult:
    sent: dict[Path, Sent] = field(default_factory=dict)
    association: Outcome = field(default_factory=lambda: Outcome(True))
    commit_uid: str = ""
    commit_error: str = ""


def send_c_stores(assoc: Association, files: Sequence[FileInfo], log: DcmtkLog, timeout: float) -> BatchResult:
    result = BatchResult()
    for i, f in enumerate(files, start=1):
        if not assoc.is_established:
            result.sent[f.path] = Sent(False, Failure.ABORTED, "the association ended before this image")
            continue
        try:
            result.sent[f.path] = store_on(assoc, f, log, i, timeout)
        except (OSError, ValueError, AttributeError) as exc:
            log.error(f"Store Failed, file: {f.path.name}: {exc}")
            result.sent[f.path] = Sent(False, Failure.FAILED, f"cannot send the file: {exc}", permanent=True)
    return result
