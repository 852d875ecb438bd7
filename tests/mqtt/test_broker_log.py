"""The embedded mosquitto's log is size-bounded: it rotates at runtime.log_max_bytes and keeps
runtime.log_backups old files, however many clients come and go."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from dros.mqtt.broker import EmbeddedBroker
from dros.settings import Settings
from tests.ports import free_port

MAX_BYTES = 4096
BACKUPS = 2
CONNECTIONS = 400  # each logs "New connection from …" and "Client <unknown> closed …": ≈ 50 KB in all


def _log_files(conf_dir: Path) -> list[Path]:
    return sorted(conf_dir.glob("mosquitto.log*"))


def _log_text(conf_dir: Path) -> str:
    """What the log files hold now; the broker may rotate one away between the listing and its read."""
    parts = []
    for p in _log_files(conf_dir):
        try:
            parts.append(p.read_text(errors="replace"))
        except FileNotFoundError:
            continue
    return "".join(parts)


def test_broker_log_rotates_and_stays_within_its_bound(tmp_path: Path) -> None:
    port = free_port()
    conf_dir = tmp_path / "mqtt"
    b = EmbeddedBroker(conf_dir, "127.0.0.1", port, log_max_bytes=MAX_BYTES, log_backups=BACKUPS)
    b.start(die_with_parent=False)
    try:
        assert "log_dest stdout" in (conf_dir / "mosquitto.conf").read_text()
        for _ in range(CONNECTIONS):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        # the broker logs each closed connection; wait until the last ones have reached the files
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = _log_text(conf_dir)
            if text.count("New connection from 127.0.0.1") >= 40 and len(_log_files(conf_dir)) == BACKUPS + 1:
                break
            time.sleep(0.1)
    finally:
        b.stop()
    files = _log_files(conf_dir)
    assert [p.name for p in files] == ["mosquitto.log", "mosquitto.log.1", "mosquitto.log.2"]
    for p in files:
        # a file rotates before the line that would take it over the bound
        assert p.stat().st_size <= MAX_BYTES, (p.name, p.stat().st_size)
    # the broker's own lines, not an empty file. Which of them a rotated file holds depends on how the
    # broker batched the burst: connections and closes may each fill a whole file.
    newest = (conf_dir / "mosquitto.log.1").read_text()
    lines = newest.splitlines()
    assert lines and all(("New connection from 127.0.0.1" in ln or "closed its connection" in ln) for ln in lines), (
        newest[:300]
    )
    assert sum(p.stat().st_size for p in files) <= (BACKUPS + 1) * MAX_BYTES


def test_service_settings_bound_the_broker_log() -> None:
    s = Settings.load(
        environ={},
        overrides={
            "mqtt": {"url": "mqtt://127.0.0.1:1999"},
            "runtime": {"log_max_bytes": 128 * 1024, "log_backups": 3},
        },
    )
    b = EmbeddedBroker.for_settings(s)
    assert b is not None and (b.log_max_bytes, b.log_backups) == (128 * 1024, 3)


def test_a_broker_that_cannot_start_reports_mosquittos_reason(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is no address of this host: mosquitto cannot bind and exits at once
    b = EmbeddedBroker(tmp_path / "mqtt", "192.0.2.1", free_port())
    try:
        b.start(timeout_s=5, die_with_parent=False)
    except RuntimeError as exc:
        # its own words, read from the pipe the log goes through
        assert "mosquitto exited at start" in str(exc) and "address" in str(exc).lower(), exc
    else:
        b.stop()
        raise AssertionError("mosquitto started on an address this host does not have")
