"""RIS test settings: our AE title DROS, fast MPPS retries, no DICOM listener."""

from __future__ import annotations

from pathlib import Path

import pytest

from dros.settings import Settings


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings.load(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "host": "127.0.0.1",
            "log_level": "WARNING",
            "dicom": {"ae_title": "DROS", "scp_port": 0},
            "pacs": {"timeout_s": 3.0, "retry_base_s": 0.2, "retry_cap_s": 1.0, "poll_s": 0.1, "reply_wait_s": 5.0},
            "ris": {
                "worklist_timeout_s": 3.0,
                "mpps_timeout_s": 2.0,
                "mpps_retry_base_s": 0.2,
                "mpps_retry_cap_s": 0.5,
                "mpps_poll_s": 0.1,
            },
        },
    )
