"""Child process of the MPPS SIGKILL test: starts the console on a data dir, exposes the image and
SIGKILLs itself the moment the exposure's transaction has committed (the MPPS N-CREATE queued in it,
not yet sent)."""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from dros.app import create_app
from dros.simulators.detector_frames import PanelResponse
from tests.acquisition.conftest import device_builder
from tests.conftest import login
from tests.mqtt_peers import Broker
from tests.ris.test_mpps import console_settings


def commit_then_die(conn: Any, _study_id: str, _now: datetime) -> None:
    """Runs last among the exposure hooks, inside the exposure's transaction."""
    conn.execute("COMMIT")
    os.kill(os.getpid(), signal.SIGKILL)


def main(data_dir: str, port: int, sop: str) -> None:
    mp = pytest.MonkeyPatch()
    mp.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    broker = Broker(Path(data_dir).parent / "unused", port)
    app = create_app(console_settings(Path(data_dir), broker))
    with TestClient(app, base_url="http://127.0.0.1", timeout=30) as c:
        app.state.acquisition.hooks.exposed.append(commit_then_die)
        h = {"Authorization": f"Bearer {login(c, 'tech')}", "Product": "DROS"}
        deadline = time.monotonic() + 20
        while not c.get("/dr/api/v1/auth/task/inspection/status", headers=h).json()["data"]["fpd_ready"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        r = c.post("/dr/api/v1/auth/task/inspection/start", headers=h, json={"instance_uid": sop})
        assert r.status_code == 200, r.text
        while not c.get("/dr/api/v1/auth/task/inspection/status", headers=h).json()["data"]["all_ready"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        c.post("/dr/api/v1/auth/task/inspection/trigger", headers=h)
        time.sleep(30)  # the hook kills the process long before
    raise SystemExit("the exposure never committed")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
