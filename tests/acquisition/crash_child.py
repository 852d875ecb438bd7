"""Child process of the SIGKILL tests: starts the service on a data dir, selects the image, triggers, and
SIGKILLs itself at the named point of the exposure.

    after_readout     the frame is in memory, nothing of it on disk yet
    raw_kept          the raw frame is fsynced and its row committed (TASK_RecvRaw queued)
    mid_processing    inside the imaging chain (worker thread)
    after_dicom       DX and thumbnail renamed into place, the image row not committed
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from dros.acquisition import repo, worker
from dros.app import create_app
from dros.simulators.detector_frames import PanelResponse
from tests.acquisition.conftest import acq_settings, device_builder
from tests.conftest import login
from tests.mqtt_peers import Broker


def die(*_args: Any, **_kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(data_dir: str, port: int, point: str, sop: str) -> None:
    mp = pytest.MonkeyPatch()
    mp.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    if point == "after_readout":
        mp.setattr(worker, "keep_raw", die)
    elif point == "raw_kept":
        record_raw = repo.record_raw

        def record_then_die(conn: Any, *args: Any) -> None:
            record_raw(conn, *args)
            conn.execute("COMMIT")
            die()

        mp.setattr(repo, "record_raw", record_then_die)
    elif point == "mid_processing":
        mp.setattr(worker, "process", die)
    elif point == "after_dicom":
        mp.setattr(repo, "commit_image", die)
    else:
        raise SystemExit(f"unknown point {point}")
    broker = Broker(Path(data_dir).parent / "unused", port)
    app = create_app(acq_settings(Path(data_dir), broker))
    with TestClient(app, base_url="http://127.0.0.1", timeout=30) as c:
        h = {"Authorization": f"Bearer {login(c, 'tech')}", "Product": "DROS"}
        r = c.post("/dr/api/v1/auth/task/inspection/start", headers=h, json={"instance_uid": sop})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 20
        while not c.get("/dr/api/v1/auth/task/inspection/status", headers=h).json()["data"]["all_ready"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        print("triggering", flush=True)
        r = c.post("/dr/api/v1/auth/task/inspection/trigger", headers=h)
        time.sleep(30)  # the patched point kills the process long before
    raise SystemExit("the crash point was never reached")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
