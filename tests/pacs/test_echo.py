"""scp/echo: success, and each kind of failure told apart, in plain words, within a bounded time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.pacs.helpers import API
from tests.pacs.peers import SilentPeer
from tests.ports import free_port

BOUND_S = 1.5 + 2.5  # pacs.echo_timeout_s in these tests, plus slack for a loaded machine


def _echo(client, headers, port: int, aet: str = "STORESCP", **flags: bool) -> tuple[dict, float]:
    body = {"verbose": False, "debug": False, "address": "127.0.0.1", "port": port, "aet": aet, "aec": "DROS", **flags}
    t0 = time.monotonic()
    r = client.post(f"{API}/scp/echo", headers=headers, json=body)
    elapsed = time.monotonic() - t0
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["@type"] == "type.googleapis.com/dr.task.EchoReply"
    return data, elapsed


def test_echo_success_has_the_dcmtk_style_log(client, auth_headers, storescp) -> None:
    scp = storescp()
    data, _ = _echo(client, auth_headers("tech"), scp.port)
    assert data["ok"] is True and data["failure"] == ""
    lines = data["output"].splitlines()
    assert lines[0] == "I: Requesting Association"
    assert lines[1].startswith("I: Association Accepted (Max Send PDV: ")
    assert lines[2:] == [
        "I: Sending Echo Request (MsgID 1)",
        "I: Received Echo Response (Success)",
        "I: Releasing Association",
    ]


def test_echo_debug_adds_dimse_dumps(client, auth_headers, storescp) -> None:
    scp = storescp()
    data, _ = _echo(client, auth_headers(), scp.port, debug=True)
    assert data["ok"] is True
    assert "D: ===================== OUTGOING DIMSE MESSAGE ====================" in data["output"]
    assert "D: ======================= END DIMSE MESSAGE =======================" in data["output"]
    assert "C-ECHO-RQ" in data["output"] and "C-ECHO-RSP" in data["output"]


def test_closed_port_is_refused(client, auth_headers) -> None:
    data, elapsed = _echo(client, auth_headers(), free_port())
    assert (data["ok"], data["failure"]) == (False, "refused")
    assert "connection refused" in data["reason"]
    assert "E: Association Request Failed" in data["output"]
    assert elapsed < BOUND_S


def test_storescp_refuse_is_rejected_with_reason(client, auth_headers, storescp) -> None:
    scp = storescp("--refuse")
    data, elapsed = _echo(client, auth_headers(), scp.port)
    assert (data["ok"], data["failure"]) == (False, "rejected")
    assert "Rejected Permanent" in data["reason"] and "No reason given" in data["reason"]
    assert "E: Association Rejected:" in data["output"]
    assert elapsed < BOUND_S


def test_orthanc_wrong_called_ae_is_rejected_with_reason(client, auth_headers, orthanc) -> None:
    data, elapsed = _echo(client, auth_headers(), orthanc.dicom_port, aet="NOT_ORTHANC")
    assert (data["ok"], data["failure"]) == (False, "rejected")
    assert "Called AE title not recognised" in data["reason"]
    assert elapsed < BOUND_S
    ok, _ = _echo(client, auth_headers(), orthanc.dicom_port, aet=orthanc.aet)
    assert ok["ok"] is True


def test_silent_peer_times_out_within_the_bound(client, auth_headers) -> None:
    peer = SilentPeer()
    try:
        data, elapsed = _echo(client, auth_headers(), peer.port)
    finally:
        peer.close()
    assert (data["ok"], data["failure"]) == (False, "timeout")
    assert "did not answer" in data["reason"]
    assert 1.2 < elapsed < BOUND_S


@pytest.fixture
def hang_up_peer() -> Iterator[int]:
    """Reads the association request, then closes the connection without a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        t.join()
        sock.close()


def test_peer_hanging_up_is_aborted(client, auth_headers, hang_up_peer) -> None:
    data, elapsed = _echo(client, auth_headers(), hang_up_peer)
    assert (data["ok"], data["failure"]) == (False, "aborted")
    assert elapsed < BOUND_S


def test_echo_validation_names_the_field(client, auth_headers) -> None:
    h = auth_headers()
    bad = [
        ("address", "0.0.0.0"),
        ("address", "localhost"),
        ("address", "256.1.1.1"),
        ("port", 0),
        ("port", 65536),
        ("aet", ""),
        ("aet", "A" * 17),
        ("aet", "BAD\\AE"),
        ("aec", "   "),
    ]
    for field, value in bad:
        body = {
            "verbose": False,
            "debug": False,
            "address": "127.0.0.1",
            "port": 104,
            "aet": "PACS",
            "aec": "DROS",
            field: value,
        }
        r = client.post(f"{API}/scp/echo", headers=h, json=body)
        assert r.status_code == 400, (field, value, r.text)
        assert field in r.json()["description"], (field, value, r.json())
