"""Ports for the peers a test starts (mosquitto, storescp, Orthanc, `dros serve`, simulators).

A port the kernel hands out for port 0 lies in its ephemeral range, which is also where it picks the
source port of every outgoing connection. Between asking for a port and the peer binding it, a
connection (readiness polls included: a poll of a port nobody listens on yet can connect to itself)
may take it. So the ports come from below that range, one band per xdist worker, and never twice
in one process. Nor a port that a peer started with its defaults binds: the DICOM port 11112, which
every test that runs the app on default settings listens on (it lies in the second worker's band).
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

_BAND = 1000
_taken: set[int] = set()
# dicom.scp_port's default (dros.settings): the app listens there unless a test sets another port
_DEFAULT_PORTS = frozenset({11112})


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _worker() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def free_port() -> int:
    top = min(_ephemeral_low(), 32768)
    bands = max((top - 10000) // _BAND, 0)
    if bands == 0:  # a kernel configured with an unusually wide ephemeral range
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    base = 10000 + (_worker() % bands) * _BAND
    for _ in range(4 * _BAND):
        port = base + random.randrange(_BAND)
        if port in _taken or port in _DEFAULT_PORTS:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in {base}..{base + _BAND - 1}")
