"""RIS peers on loopback for the worklist/MPPS tests: DCMTK wlmscpfs serving worklist files made
with dump2dcm, Orthanc with its ModalityWorklists plugin, and a small pynetdicom MPPS SCP that
records every N-CREATE and N-SET. Processes run in their own process group and are stopped with it."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import ModalityPerformedProcedureStep

from tests.pacs.peers import Orthanc, stop, wait_port
from tests.ports import free_port

WLMSCPFS = "/usr/bin/wlmscpfs"
DUMP2DCM = "/usr/bin/dump2dcm"
WORKLIST_PLUGIN = next(
    (
        p
        for p in (
            Path("/usr/share/orthanc/plugins/libModalityWorklists.so"),
            *sorted(Path("/usr/lib/orthanc").glob("libModalityWorklists.so*")),
        )
        if p.exists()
    ),
    Path("/usr/share/orthanc/plugins/libModalityWorklists.so"),
)


@dataclass
class Order:
    accession: str
    patient_id: str
    patient_name: str
    study_uid: str
    date: str  # YYYYMMDD
    charset: str = "ISO_IR 192"
    station_aet: str = "DROS"
    modality: str = "DX"
    code: str = "RPC-CHEST"
    scheme: str = "LOCAL"
    step_id: str = "SPS1"
    time: str = "090000"
    extra: list[str] = field(default_factory=list)


def dump_text(o: Order) -> str:
    return "\n".join(
        [
            f"(0008,0005) CS [{o.charset}]",
            f"(0008,0050) SH [{o.accession}]",
            "(0008,0090) PN [Li^Wei]",
            f"(0010,0010) PN [{o.patient_name}]",
            f"(0010,0020) LO [{o.patient_id}]",
            "(0010,0030) DA [19800101]",
            "(0010,0040) CS [F]",
            f"(0020,000d) UI [{o.study_uid}]",
            "(0032,1060) LO [Chest PA]",
            "(0032,1064) SQ",
            "(fffe,e000) -",
            f"(0008,0100) SH [{o.code}]",
            f"(0008,0102) SH [{o.scheme}]",
            "(0008,0104) LO [Chest PA]",
            "(fffe,e00d) -",
            "(fffe,e0dd) -",
            "(0040,0100) SQ",
            "(fffe,e000) -",
            f"(0008,0060) CS [{o.modality}]",
            f"(0040,0001) AE [{o.station_aet}]",
            f"(0040,0002) DA [{o.date}]",
            f"(0040,0003) TM [{o.time}]",
            "(0040,0006) PN [Zhao^Min]",
            "(0040,0007) LO [Chest PA step]",
            f"(0040,0009) SH [{o.step_id}]",
            "(fffe,e00d) -",
            "(fffe,e0dd) -",
            "(0040,1001) SH [RP1]",
            "(0040,1003) SH [ROUTINE]",
            *o.extra,
        ]
    )


def write_worklist_file(directory: Path, name: str, o: Order) -> Path:
    """dump2dcm copies the dump's bytes as they are: the dump is written in the order's charset."""
    encoding = {"ISO_IR 192": "utf-8", "GB18030": "gb18030"}.get(o.charset, "ascii")
    dump = directory / f"{name}.dump"
    dump.write_bytes(dump_text(o).encode(encoding))
    out = directory / f"{name}.wl"
    subprocess.run([DUMP2DCM, "-q", "-g", str(dump), str(out)], check=True)
    dump.unlink()
    return out


class Wlmscpfs:
    def __init__(self, root: Path, aet: str = "WLMSCP", args: tuple[str, ...] = ("-csk",)) -> None:
        self.aet = aet
        self.dir = root / aet
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "lockfile").touch()
        self.port = free_port()
        self.proc = subprocess.Popen(
            [WLMSCPFS, *args, "-dfp", str(root), str(self.port)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def add(self, name: str, o: Order) -> Path:
        return write_worklist_file(self.dir, name, o)

    def stop(self) -> None:
        stop(self.proc)


def orthanc_worklists(root: Path) -> tuple[Orthanc, Path]:
    db = root / "worklists"
    db.mkdir(parents=True, exist_ok=True)
    peer = Orthanc(
        root / "orthanc",
        aet="ORTHANCWL",
        extra={
            "Plugins": [str(WORKLIST_PLUGIN)],
            "Worklists": {"Enable": True, "Database": str(db)},
            "DefaultEncoding": "Utf8",
            # C-FIND from an AE Orthanc has no modality entry for
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowFindWorklist": True,
        },
    )
    return peer, db


class MppsScp:
    """Records (kind, SOP Instance UID, data set) of every N-CREATE and N-SET; answers Success, or
    refuses while `down` (the association is rejected) to simulate a RIS that is out."""

    def __init__(self, aet: str = "MPPSSCP") -> None:
        self.aet = aet
        self.received: list[tuple[str, str, Dataset]] = []
        self.lock = threading.Lock()
        self.ae = AE(ae_title=aet)
        self.ae.add_supported_context(ModalityPerformedProcedureStep)
        self.port = free_port()
        self.server: Any = None
        self.start()

    def _create(self, event: Any) -> tuple[int, Dataset]:
        ds = event.attribute_list
        uid = event.request.AffectedSOPInstanceUID
        with self.lock:
            self.received.append(("N-CREATE", str(uid), ds))
        return 0x0000, ds

    def _set(self, event: Any) -> tuple[int, Dataset]:
        ds = event.modification_list
        uid = event.request.RequestedSOPInstanceUID
        with self.lock:
            self.received.append(("N-SET", str(uid), ds))
        return 0x0000, ds

    def start(self) -> None:
        self.server = self.ae.start_server(
            ("127.0.0.1", self.port),
            block=False,
            evt_handlers=[(evt.EVT_N_CREATE, self._create), (evt.EVT_N_SET, self._set)],
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    def messages(self) -> list[tuple[str, str, Dataset]]:
        with self.lock:
            return list(self.received)
