"""SIGKILL at four points of an exposure; on restart each exposure is finished from its raw frame or
marked failed with its reason (TASK_Failure) — never silently gone, never a half-written file served."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient

from dros.app import create_app
from tests.acquisition.conftest import acq_settings, device_builder
from tests.acquisition.test_loop import Listener, dciodvfy_errors
from tests.conftest import REPO, login
from tests.mqtt_peers import Broker
from tests.studies import images_of, register


def _register(data_dir: Path, broker: Broker) -> tuple[str, str]:
    app = create_app(acq_settings(data_dir, broker))
    with TestClient(app, base_url="http://127.0.0.1", timeout=30) as c:
        h = {"Authorization": f"Bearer {login(c, 'tech')}", "Product": "DROS"}
        study = register(c, h)
    return study["study_id"], images_of(study)[0]["sop_instance_uid"]


@pytest.mark.parametrize("point", ["after_readout", "raw_kept", "mid_processing", "after_dicom"])
def test_sigkill_during_an_exposure_then_restart(
    point: str, data_dir: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dros.simulators.detector_frames import PanelResponse

    study_id, sop = _register(data_dir, broker)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.acquisition.crash_child", str(data_dir), str(broker.port), point, sop],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == -signal.SIGKILL, out.decode(errors="replace")[-3000:]
    folder = data_dir / "studies" / study_id

    # restart: recovery runs at start; a console listens
    listener = Listener(broker.port)
    monkeypatch.setattr("dros.lifespan.build_devices", device_builder(PanelResponse(width=512, height=512)))
    try:
        app = create_app(acq_settings(data_dir, broker))
        with TestClient(app, base_url="http://127.0.0.1", timeout=30) as c:
            end = listener.wait_end(sop, timeout=60)
            deadline = time.monotonic() + 10
            while app.state.acquisition._busy:  # recovery finishing its commit
                assert time.monotonic() < deadline
                time.sleep(0.02)
            state = app.state.db.read_sync(
                lambda conn: conn.execute(
                    "SELECT e.state, e.failure, i.expose_status, i.image_file FROM exposure e "
                    "JOIN image i USING (sop_instance_uid) WHERE e.sop_instance_uid = ?",
                    [sop],
                ).fetchall()
            )
            assert len(state) == 1, state
            ex_state, failure, expose_status, image_file = state[0]
            if point == "after_readout":
                assert end["status"] == "TASK_Failure" and "before the raw frame was kept" in end["message"]
                assert (ex_state, expose_status, image_file) == ("failed", "Unexposed", "")
                assert failure == end["message"]
            else:
                assert end == {"status": "TASK_Success", "sop": sop, "message": "", "dcm": f"{sop}.dcm",
                               "thumbnail": f"{sop}.webp"}  # fmt: skip
                assert (ex_state, expose_status, image_file) == ("done", "Exposed", f"{sop}.dcm")
                assert dciodvfy_errors(str(folder / f"{sop}.dcm")) == []
                h = {"Authorization": f"Bearer {login(c, 'tech')}"}
                assert c.get(f"/dr/api/v1/auth/f/dcm/{sop}.dcm", headers=h).status_code == 200
            assert not [*folder.glob(".*.part"), *folder.glob(".*.tmp")], "no temporary file is left behind"
    finally:
        listener.close()
