"""Shared benchmark set-up: benchmarks only mean something on the release build."""

from __future__ import annotations

import pytest

from dros import _core
from dros.runtime.allocator import tune_allocator

# The served worker tunes glibc's allocator before its first thread allocates a frame; benchmarks
# that start the app in-process have threads (rayon's, from phantoms) before the app starts, so the
# process is tuned here, before any of them.
tune_allocator()


@pytest.fixture(scope="session", autouse=True)
def _release_build_only() -> None:
    # A debug build of the Rust core is 10–50x slower: its figures would be meaningless.
    if _core.build_profile != "release":
        pytest.fail(
            f"dros._core is a {_core.build_profile} build; benchmarks need the release build "
            "(./scripts/setup builds it)",
            pytrace=False,
        )
