"""`tests.ports.free_port`: never a port that a peer on its defaults binds."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from tests import ports


def test_free_port_skips_the_dicom_default_in_its_band(monkeypatch: pytest.MonkeyPatch) -> None:
    # The second xdist worker's band is 11000-11999; the draw lands on 11112 first, then on 11113.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setattr(ports, "_ephemeral_low", lambda: 32768)
    monkeypatch.setattr(ports, "_taken", set())
    draws: Iterator[int] = iter([112, 113])
    monkeypatch.setattr(random, "randrange", lambda _n: next(draws))
    assert ports.free_port() == 11113
