"""Version and build facts of this service and its parts, for pub/software_info."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import msgspec

from dros import __version__


class ServerEntry(msgspec.Struct, frozen=True):
    build: str
    desc: str
    submodule: list[str]
    version: str


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def _git_describe(source: Path) -> str | None:
    if not (source / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(source), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def collect_build_info() -> dict[str, ServerEntry]:
    """One entry per backend area, with the same keys the seed's software_info shows."""
    from dros import _core

    source = Path(__file__).resolve().parents[2]
    described = _git_describe(source)
    app_version = (
        f"{__version__}-g{described}"
        if described and not described.startswith(__version__)
        else (described or __version__)
    )
    commit = _core.git_commit[:8]
    core_build = _core.build_time or datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def entry(desc: str, *parts: str, ver: str = app_version) -> ServerEntry:
        return ServerEntry(build=core_build, desc=desc, submodule=[f"{commit}[{p}]" for p in parts], version=ver)

    return {
        "auth": entry(
            f"Authentication (PyJWT {_dist_version('PyJWT')}, argon2-cffi {_dist_version('argon2-cffi')})", "auth"
        ),
        "dcmtk": entry(
            f"DICOM network (pynetdicom {_dist_version('pynetdicom')}, pydicom {_dist_version('pydicom')})", "dicomnet"
        ),
        "imgProc": entry(
            f"Image processing core dros._core {_core.__version__} ({_core.build_profile}, {_core.rustc_version})",
            "auto_wwwl",
            "collimator_circle",
            "collimator_rect",
            "enhance",
            "foreground",
            "apply",
            ver=_core.__version__,
        ),
        "protocol": entry("Protocol catalog", "catalog"),
        "resource": entry("Resources and options", "resource"),
        "study": entry(f"Studies and images (DuckDB {_dist_version('duckdb')})", "store"),
        "task": entry("Acquisition tasks, PACS queue", "task"),
    }
