"""runtime.log_file: a size-bounded rotating log file beside stderr."""

from __future__ import annotations

import logging
from pathlib import Path

from dros.runtime.logs import configure_logging
from dros.settings import Settings


def test_log_file_rotates_and_stays_within_its_bound(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "dros.log"
    settings = Settings.load(
        environ={}, overrides={"runtime": {"log_file": str(log_file), "log_max_bytes": 65536, "log_backups": 2}}
    )
    root = logging.getLogger()
    before = list(root.handlers)
    configure_logging(settings)
    configure_logging(settings)  # idempotent: one file handler
    added = [h for h in root.handlers if h not in before]
    try:
        assert len(added) == 1
        logger = logging.getLogger("dros.test_logs")
        logger.setLevel(logging.INFO)
        for i in range(5000):  # ~0.5 MB of log lines
            logger.info("line %05d %s", i, "x" * 80)
    finally:
        for h in added:
            root.removeHandler(h)
            h.close()
        logging.getLogger("dros.test_logs").setLevel(logging.NOTSET)
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["dros.log", "dros.log.1", "dros.log.2"]
    assert all((log_file.parent / f).stat().st_size <= 65536 for f in files)
    assert "line 04999" in log_file.read_text()
