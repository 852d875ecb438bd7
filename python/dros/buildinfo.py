"""Version and build facts of this service and its parts, for pub/software_info."""

from __future__ import annotations

import importlib.util
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


class Part(msgspec.Struct, frozen=True):
    """One implemented component of an area: its submodule name, the module that implements it, what it is."""

    name: str
    module: str
    label: str


#: software_info's areas (the seed's keys) and the parts of this tree behind each. A part is reported only
#: while its module exists, so the reply never claims a component that is not built yet; a session that adds
#: one (the acquisition task, say) adds its row here.
AREAS: dict[str, tuple[str, list[Part]]] = {
    "auth": ("Authentication", [Part("auth", "dros.auth.tokens", "JWT tokens, argon2 passwords, roles")]),
    "dcmtk": (
        "DICOM network",
        [
            Part("scu", "dros.dicomnet.scu", "C-ECHO/C-STORE to PACS"),
            Part("commitment", "dros.dicomnet.commitment", "storage commitment"),
        ],
    ),
    "protocol": ("Protocol catalog", [Part("catalog", "dros.domain.protocol.service", "views, procedures, APR")]),
    "resource": ("Resources and options", [Part("resource", "dros.domain.resource.service", "option lists")]),
    "study": (
        "Studies and images",
        [
            Part("store", "dros.store.db", "DuckDB store"),
            Part("study", "dros.domain.study.service", "worklist, views, recycle bin"),
        ],
    ),
    "task": (
        "Tasks",
        [
            Part("mqtt", "dros.mqtt.publisher", "live status over MQTT"),
            Part("pacs_queue", "dros.dicomnet.queue_worker", "PACS send queue"),
        ],
    ),
}

#: the Rust core's stages, as `dros.imaging.process` reports them in `timings`
IMAGING_STAGES = (
    "prepare",
    "collimator_rect",
    "collimator_circle",
    "foreground",
    "enhance",
    "apply",
    "auto_wwwl",
    "exposure_index",
)

_VERSIONS = {
    "auth": ("PyJWT", "argon2-cffi"),
    "dcmtk": ("pynetdicom", "pydicom"),
    "study": ("duckdb",),
    "task": ("gmqtt",),
}


def present(part: Part) -> bool:
    try:
        return importlib.util.find_spec(part.module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


def collect_build_info() -> dict[str, ServerEntry]:
    """One entry per backend area, with the same keys the seed's software_info shows; each names only
    the parts that exist in this build."""
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

    def entry(desc: str, parts: list[str], ver: str = app_version) -> ServerEntry:
        return ServerEntry(build=core_build, desc=desc, submodule=[f"{commit}[{p}]" for p in parts], version=ver)

    info: dict[str, ServerEntry] = {}
    for key, (title, parts) in AREAS.items():
        built = [p for p in parts if present(p)]
        versions = ", ".join(f"{d} {_dist_version(d)}" for d in _VERSIONS.get(key, ()))
        what = "; ".join(p.label for p in built) or "none in this build"
        desc = f"{title}: {what}" + (f" ({versions})" if built and versions else "")
        info[key] = entry(desc, [p.name for p in built])
    info["imgProc"] = entry(
        f"Image processing core dros._core {_core.__version__} ({_core.build_profile}, {_core.rustc_version})",
        list(IMAGING_STAGES),
        ver=_core.__version__,
    )
    return dict(sorted(info.items()))
