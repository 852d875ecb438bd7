"""Logging of the service: stderr always (journald keeps it under systemd, with its own size
bounds), plus an optional size-bounded rotating file (`runtime.log_file`), so no log grows
without bound on a host that runs for years."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from dros.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_FILE_HANDLER_NAME = "dros-rotating-file"


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    # like logging.basicConfig: a host that configured logging already (a test runner) keeps it
    if not root.handlers:
        root.setLevel(settings.log_level.upper())
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stderr)
    rt = settings.runtime
    if rt.log_file and not any(h.get_name() == _FILE_HANDLER_NAME for h in root.handlers):
        path = Path(rt.log_file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # at most (log_backups + 1) × log_max_bytes on disk
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=rt.log_max_bytes, backupCount=rt.log_backups, encoding="utf-8"
        )
        handler.set_name(_FILE_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
