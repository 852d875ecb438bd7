"""`dros` command line: `serve` (the API under granian), plus the imaging commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _serve(args: argparse.Namespace) -> int:
    from dros.settings import Settings, SettingsError

    overrides = {"host": args.host, "port": args.port, "data_dir": args.data_dir}
    try:
        settings = Settings.load(args.config, overrides=overrides)
    except SettingsError as exc:
        print(f"dros serve: {exc}", file=sys.stderr)
        return 2
    settings.data_path.mkdir(parents=True, exist_ok=True)

    from dros.runtime.datadir_lock import DataDirBusy, DataDirLock

    # Before anything opens DuckDB: one owner per data directory. The forked worker shares this
    # lock, so it stays taken until the last of supervisor and worker has exited.
    lock = DataDirLock(settings.data_path)
    try:
        lock.acquire(orphan_wait_s=settings.runtime.shutdown_timeout_s + 3.0)  # an orphan's bound, and a margin
    except DataDirBusy as exc:
        print(f"dros serve: {exc}", file=sys.stderr)
        return 2

    from granian import Granian
    from granian.constants import Interfaces

    from dros.runtime.parent_watch import SUPERVISOR_PID_ENV
    from dros.serving import export_settings

    export_settings(settings)
    os.environ[SUPERVISOR_PID_ENV] = str(os.getpid())  # the worker dies with this process
    # One worker: the process owns the DuckDB file (DuckDB allows one read-write process), the
    # serial ports, the one-exposure-at-a-time interlock and the DICOM ports. More workers would
    # each try to open them. Throughput comes from async I/O and the Rust core, not processes.
    from dros.mqtt.broker import start_embedded_broker

    start_embedded_broker(settings)  # unless mqtt.url names another broker; stops when this process ends
    server = Granian(
        "dros.serving:app_factory",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_access=False,
        # the hard bound of a graceful stop: the worker is killed if it has not exited by then
        workers_kill_timeout=settings.runtime.shutdown_timeout_s,
    )
    try:
        server.serve()
    finally:
        lock.release()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dros", description="DROS / VETDROS acquisition-console backend")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API (default port 7700)")
    serve.add_argument("--host", help="bind address (DROS_HOST, default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="TCP port (DROS_PORT, default 7700)")
    serve.add_argument("--data-dir", help="data directory (DROS_DATA_DIR, default ./data)")
    serve.add_argument("--config", help="TOML settings file (DROS_CONFIG)")
    serve.set_defaults(func=_serve)
    try:
        from dros import imaging_cli
    except ImportError:
        imaging_cli = None  # type: ignore[assignment]
    if imaging_cli is not None:
        imaging_cli.register(sub)
    from dros.simulators import cli as simulators_cli

    simulators_cli.register(sub)  # dros simulate generator|detector
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
