"""Real DICOM peers on loopback for the PACS tests: DCMTK storescp, Orthanc (temporary JSON config)
and a socket that accepts and never answers. Each runs in its own process group and is stopped
with it, so no test leaves a process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.ports import free_port

STORESCP = "/usr/bin/storescp"  # DCMTK's, not the pynetdicom app of the same name in the venv
STORESCU = "/usr/bin/storescu"
ORTHANC = "/usr/sbin/Orthanc"


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"peer exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


class StoreScp:
    def __init__(self, out_dir: Path, port: int | None = None, args: Sequence[str] = (), aet: str = "STORESCP") -> None:
        self.out_dir = out_dir
        self.port = port or free_port()
        self.aet = aet
        out_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [STORESCP, "-aet", aet, "-od", str(out_dir), "--max-pdu", "131072", *args, str(self.port)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)

    def files(self) -> list[Path]:
        return sorted(p for p in self.out_dir.iterdir() if p.is_file())

    def stop(self) -> None:
        stop(self.proc)


class SilentPeer:
    """Accepts TCP connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                continue

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()


class Orthanc:
    def __init__(
        self,
        root: Path,
        *,
        aet: str = "ORTHANC",
        modalities: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.dicom_port = free_port()
        self.http_port = free_port()
        self.aet = aet
        config = {
            "Name": "dros-test",
            "StorageDirectory": str(root / "db"),
            "IndexDirectory": str(root / "db"),
            "DicomAet": aet,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomServerEnabled": True,
            "DicomCheckCalledAet": True,
            "DicomModalities": modalities or {},
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "UnknownSopClassAccepted": False,
            "HttpDescribeErrors": True,
            "Plugins": [],
            "ConcurrentJobs": 1,
            "DicomScuTimeout": 5,
            **(extra or {}),
        }
        cfg = root / "orthanc.json"
        cfg.write_text(json.dumps(config))
        self.log = open(root / "orthanc.log", "wb")
        self.proc = subprocess.Popen(
            [ORTHANC, str(cfg)], start_new_session=True, stdout=self.log, stderr=subprocess.STDOUT, cwd=root
        )
        self.base = f"http://127.0.0.1:{self.http_port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {(root / 'orthanc.log').read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.base + "/system", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        wait_port(self.dicom_port, self.proc)

    def instances(self) -> list[str]:
        return list(httpx.get(self.base + "/instances", timeout=10).json())

    def sop_uids(self) -> list[str]:
        out = []
        for oid in self.instances():
            tags = httpx.get(f"{self.base}/instances/{oid}/simplified-tags", timeout=10).json()
            out.append(tags["SOPInstanceUID"])
        return out

    def file_of(self, sop_uid: str) -> bytes:
        for oid in self.instances():
            tags = httpx.get(f"{self.base}/instances/{oid}/simplified-tags", timeout=10).json()
            if tags["SOPInstanceUID"] == sop_uid:
                return httpx.get(f"{self.base}/instances/{oid}/file", timeout=30).content
        raise KeyError(sop_uid)

    def clear(self) -> None:
        for pid in httpx.get(self.base + "/patients", timeout=10).json():
            httpx.delete(f"{self.base}/patients/{pid}", timeout=10)

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()
