"""The embedded broker: `dros serve` starts mosquitto beside the API unless `mqtt.url` names another one.

Config and log live under `<data_dir>/mqtt/`. The log is size-bounded: mosquitto writes it to its
stdout, which this process copies into a rotating file (`runtime.log_max_bytes` × `runtime.log_backups`
+ 1 at most) — mosquitto's own `log_dest file` only grows. Two listeners on `mqtt.listen_host` (loopback unless
configured): MQTT over TCP on the port of `mqtt.url`, MQTT over WebSocket on `mqtt.ws_port` (0 = none)
for browser consoles. Anonymous access: the broker only carries status for the consoles of this
room; bind it to a LAN address only on a closed network. No persistence: the service republishes
its retained status on every connect, and undelivered progress messages wait in its own outbox.

The broker runs in its own process group and dies with the process that started it (Linux
parent-death signal), so a killed service never leaves a broker holding the port.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import ctypes
import getpass
import ipaddress
import logging
import logging.handlers
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from dros.mqtt.publisher import broker_address
from dros.runtime.procfs import open_targets
from dros.settings import Settings

log = logging.getLogger("dros.mqtt.broker")

_PR_SET_PDEATHSIG = 1


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mosquitto_config(host: str, port: int, ws_port: int, log_file: Path | None = None) -> str:
    """`log_file` None: the log goes to stdout, for `BrokerLog` to bound."""
    lines = [
        "# written by dros serve on every start; edit the DROS mqtt.* settings instead",
        # run as whoever started it: mosquitto started by root would switch to its own user, which
        # clears the parent-death signal and cannot write under the data dir
        f"user {getpass.getuser()}",
        "per_listener_settings false",
        "allow_anonymous true",
        "persistence false",
        f"log_dest file {log_file}" if log_file else "log_dest stdout",
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"listener {port} {host}",
        "protocol mqtt",
    ]
    if ws_port:
        lines += [f"listener {ws_port} {host}", "protocol websockets"]
    return "\n".join(lines) + "\n"


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class BrokerLog(threading.Thread):
    """Copies the broker's output, line by line, into a size-bounded rotating file. It drains the
    pipe whatever happens to the file (a full disk loses log lines, never stalls the broker on a
    full pipe) and keeps the last lines for the message of a broker that exits at start."""

    def __init__(self, stream: IO[bytes], path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(name="mosquitto-log", daemon=True)
        self._stream = stream
        self._handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self.tail: collections.deque[str] = collections.deque(maxlen=20)

    def run(self) -> None:
        try:
            for raw in iter(self._stream.readline, b""):
                line = raw.decode(errors="replace").rstrip()
                self.tail.append(line)
                # handle() routes write errors to handleError, which never raises here
                self._handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
        finally:
            self._handler.close()


class EmbeddedBroker:
    def __init__(
        self,
        conf_dir: Path,
        host: str,
        port: int,
        ws_port: int = 0,
        *,
        log_max_bytes: int = 10 * 1024 * 1024,
        log_backups: int = 5,
    ) -> None:
        self.conf_dir = conf_dir
        self.host = host
        self.port = port
        self.ws_port = ws_port
        self.log_max_bytes = log_max_bytes
        self.log_backups = log_backups
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: BrokerLog | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> EmbeddedBroker | None:
        """The broker `dros serve` should start, or None when `mqtt.url` names an external one."""
        host, port = broker_address(settings.mqtt.url)
        if not settings.mqtt.embedded or not is_loopback(host):
            return None
        rt = settings.runtime
        return cls(
            settings.data_path / "mqtt",
            settings.mqtt.listen_host,
            port,
            settings.mqtt.ws_port,
            log_max_bytes=rt.log_max_bytes,
            log_backups=rt.log_backups,
        )

    def start(self, timeout_s: float = 5.0, *, die_with_parent: bool = True) -> None:
        exe = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if os.path.exists(p)), None
        )
        if exe is None:
            raise RuntimeError("mosquitto is not installed (scripts/setup installs it)")
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        conf = self.conf_dir / "mosquitto.conf"
        conf.write_text(mosquitto_config(self.host, self.port, self.ws_port))
        self.proc = subprocess.Popen(
            [exe, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # start-up errors come before the log is set up
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
        assert self.proc.stdout is not None
        self._log = BrokerLog(self.proc.stdout, self.conf_dir / "mosquitto.log", self.log_max_bytes, self.log_backups)
        self._log.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                self._log.join(1.0)
                err = " / ".join(self._log.tail)
                raise RuntimeError(f"mosquitto exited at start: {err.strip() or 'see mosquitto.log'}")
            pid = self.proc.pid
            if _listens(pid, self.port) and (not self.ws_port or _listens(pid, self.ws_port)):
                log.info("embedded MQTT broker on %s: tcp %s, websocket %s", self.host, self.port, self.ws_port)
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout_s} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(3)
        log_thread, self._log = self._log, None
        if log_thread is not None:
            log_thread.join(2.0)  # the pipe ends with the broker: the last lines reach the file


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` itself holds a listening TCP socket on `port`. A connect probe cannot
    tell: another process may hold the port while mosquitto fails to bind it, and a probe of a port
    in the ephemeral range that nobody listens on yet may connect to itself."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local address "ADDR:PORT" in hex, state 0A = LISTEN, inode in column 10
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return False
    return any(link.startswith("socket:[") and link[8:-1] in inodes for link in open_targets(pid))


def start_embedded_broker(settings: Settings) -> EmbeddedBroker | None:
    """Start the broker `settings` ask for (stopped at exit, or by the parent-death signal when this
    process is killed). A broker that cannot start is logged, not fatal: the API works without it and
    the publisher keeps retrying."""
    broker = EmbeddedBroker.for_settings(settings)
    if broker is None:
        return None
    try:
        broker.start()
    except RuntimeError as exc:
        print(f"dros serve: embedded MQTT broker not started: {exc}", file=sys.stderr)
        return None
    atexit.register(broker.stop)
    return broker
