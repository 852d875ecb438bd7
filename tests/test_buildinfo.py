"""software_info names only what this build has: every submodule it lists is real code."""

from __future__ import annotations

import importlib
import re

import pytest

from dros import _core, imaging
from dros.buildinfo import AREAS, IMAGING_STAGES, Part, collect_build_info


def _names(entry: dict[str, object]) -> list[str]:
    submodules = entry["submodule"]
    assert isinstance(submodules, list)
    return [re.fullmatch(r"[0-9a-f]{8}\[([a-z_]+)\]", s).group(1) for s in submodules]  # type: ignore[union-attr]


def test_every_listed_submodule_is_an_importable_module(client):
    server = client.get("/dr/api/v1/pub/software_info").json()["data"]["server"]
    assert set(server) == {"auth", "dcmtk", "imgProc", "protocol", "resource", "study", "task"}
    for key, entry in server.items():
        if key == "imgProc":
            continue
        parts = {p.name: p for p in AREAS[key][1]}
        for name in _names(entry):
            module = importlib.import_module(parts[name].module)
            assert module.__name__ == parts[name].module
            assert parts[name].label in entry["desc"]


def test_imaging_submodules_are_the_stages_the_core_runs():
    result = imaging.process(_core.phantom(256, 256, seed=3).raw)
    assert set(IMAGING_STAGES) == set(result.timings)
    assert _names({"submodule": collect_build_info()["imgProc"].submodule}) == list(IMAGING_STAGES)


def test_a_component_not_built_yet_is_not_claimed(monkeypatch: pytest.MonkeyPatch):
    title, parts = AREAS["task"]
    future = Part("acquisition", "dros.acquisition_not_built", "acquisition tasks")
    monkeypatch.setitem(AREAS, "task", (title, [*parts, future]))
    task = collect_build_info()["task"]
    assert "acquisition" not in task.desc.lower()
    assert "acquisition" not in _names({"submodule": task.submodule})
    monkeypatch.setitem(AREAS, "task", (title, [future]))
    task = collect_build_info()["task"]
    assert task.desc == "Tasks: none in this build" and task.submodule == []
