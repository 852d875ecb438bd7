"""The systemd units as `scripts/install-systemd` installs them: valid for `systemd-analyze
verify`, restart on failure, the whole control group stopped together, data/config/logs in their
conventional places, logs size-bounded; the broker's configuration starts a real mosquitto."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from dros.settings import Settings
from tests.conftest import REPO
from tests.ports import free_port

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("units")
    subprocess.run([str(REPO / "scripts" / "install-systemd"), "--render", str(out)], check=True, timeout=60)
    return out


def _verify(*units: Path) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE, "systemd-analyze missing: scripts/setup installs the systemd package"
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *map(str, units)], capture_output=True, text=True, timeout=60
    )


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_units_pass_systemd_analyze_verify_without_a_warning(rendered: Path) -> None:
    r = _verify(rendered / "dros.service", rendered / "dros-mosquitto.service")
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


def test_verify_would_catch_a_broken_unit(rendered: Path, tmp_path: Path) -> None:
    text = (rendered / "dros.service").read_text()
    broken = tmp_path / "dros.service"
    broken.write_text(text.replace("KillMode=", "KilMode=").replace("Restart=on-failure", "Restart=sometimes"))
    r = _verify(broken)
    assert "KilMode" in r.stderr and "restart specifier" in r.stderr


def test_service_unit_restarts_kills_the_group_and_uses_conventional_places(rendered: Path) -> None:
    svc = _unit(rendered / "dros.service")["Service"]
    assert svc["Restart"] == "on-failure" and svc["KillMode"] == "control-group"
    exec_start = svc["ExecStart"].split()
    assert exec_start[0] == str(REPO / ".venv" / "bin" / "dros") and os.access(exec_start[0], os.X_OK)
    assert exec_start[1:] == ["serve", "--config", "/etc/dros/dros.toml", "--data-dir", "/var/lib/dros"]
    assert svc["StateDirectory"] == "dros" and svc["ConfigurationDirectory"] == "dros"
    assert svc["LogsDirectory"] == "dros"
    # the stop bound outlasts the service's own 5 s graceful stop
    assert int(svc["TimeoutStopSec"]) > Settings().runtime.shutdown_timeout_s
    text = (rendered / "dros.service").read_text()
    assert "Environment=DROS_RUNTIME_LOG_FILE=/var/log/dros/dros.log" in text
    assert (
        "Environment=DROS_RUNTIME_LOG_MAX_BYTES=10485760" in text and "Environment=DROS_RUNTIME_LOG_BACKUPS=5" in text
    )
    broker = _unit(rendered / "dros-mosquitto.service")["Service"]
    assert broker["Restart"] == "on-failure" and broker["KillMode"] == "control-group"
    assert broker["ExecStart"] == "/usr/sbin/mosquitto -c /etc/dros/mosquitto.conf"


def test_journal_is_size_bounded(rendered: Path) -> None:
    journal = _unit(rendered / "journald-dros.conf")["Journal"]
    assert journal["SystemMaxUse"] == "200M" and journal["SystemMaxFileSize"] == "20M"


def test_installed_settings_file_loads_and_uses_the_broker_unit(rendered: Path) -> None:
    settings = Settings.load(rendered / "dros.toml", environ={})
    assert settings.mqtt.embedded is False and settings.mqtt.url == "mqtt://127.0.0.1:1883"
    assert settings.port == 7700


def test_broker_configuration_starts_mosquitto(rendered: Path, tmp_path: Path) -> None:
    tcp, ws = free_port(), free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        (rendered / "mosquitto.conf")
        .read_text()
        .replace("listener 1883 ", f"listener {tcp} ")
        .replace("listener 9001 ", f"listener {ws} ")
    )
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        for port in (tcp, ws):
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"mosquitto did not listen on {port}"
                    time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
