"""PACS test settings (fast retries, our SCP on a free loopback port) and the real peers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dros.settings import Settings
from tests.pacs.peers import Orthanc, StoreScp
from tests.ports import free_port

OUR_AET = "DROS"


def pacs_overrides(scp_port: int) -> dict[str, Any]:
    return {
        "dicom": {"ae_title": OUR_AET, "scp_port": scp_port, "scp_host": "127.0.0.1"},
        "pacs": {
            "echo_timeout_s": 1.5,
            "timeout_s": 3.0,
            "retry_base_s": 0.2,
            "retry_cap_s": 1.0,
            "max_attempts": 6,
            "poll_s": 0.1,
            "reply_wait_s": 10.0,
        },
    }


@pytest.fixture(scope="module")
def scp_port() -> int:
    """Our storage-commitment SCP's port, fixed per module so the module's Orthanc can name it."""
    return free_port()


@pytest.fixture
def settings(data_dir: Path, scp_port: int) -> Settings:
    return Settings.load(
        environ={},
        overrides={"data_dir": str(data_dir), "host": "127.0.0.1", "log_level": "WARNING", **pacs_overrides(scp_port)},
    )


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, scp_port: int) -> Iterator[Orthanc]:
    """One Orthanc per module (start-up takes seconds): checks the called AE title, and knows us
    as a modality so it can send storage-commitment reports to our SCP."""
    peer = Orthanc(tmp_path_factory.mktemp("orthanc"), modalities={"dros": [OUR_AET, "127.0.0.1", scp_port]})
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def storescp(tmp_path: Path) -> Iterator[Callable[..., StoreScp]]:
    started: list[StoreScp] = []

    def start(*args: str, port: int | None = None, name: str = "storescp") -> StoreScp:
        peer = StoreScp(tmp_path / f"{name}-{len(started)}", port=port, args=args)
        started.append(peer)
        return peer

    try:
        yield start
    finally:
        for p in started:
            p.stop()
