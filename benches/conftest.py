"""Shared benchmark set-up: benchmarks only mean something on the release build."""

from __future__ import annotations

import pytest

from dros import _core


@pytest.fixture(scope="session", autouse=True)
def _release_build_only() -> None:
    # A debug build of the Rust core is 10–50x slower: its figures would be meaningless.
    if _core.build_profile != "release":
        pytest.fail(
            f"dros._core is a {_core.build_profile} build; benchmarks need the release build "
            "(./scripts/setup builds it)",
            pytrace=False,
        )
