"""Worklist at scale: 100,000 registered studies in DuckDB on this 2-core machine.

Targets: an uncached list with page_size 10 — median ≤ 5 ms in-process (fuzzy name, default
filter, and any page); register a 4-view study — median ≤ 20 ms; over HTTP against the granian
server ≥ 1,000 list requests/s for a repeated (cached) query and ≥ 300 requests/s when every
request asks for another page. Timing targets are asserted only with --benchmark-enable; the
figures go to extra_info and README "Benchmarks"."""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.conftest import group_members, start_server, stop_server

from benches.seed_studies import seed
from dros.domain.study.repo import ListFilter
from dros.domain.study.schemas import StudyCreate, ViewRef
from dros.domain.study.service import StudyService
from dros.lifespan import open_store
from dros.settings import Locale, Product, Settings

N_STUDIES = 100_000
LIST_TARGET_MS = 5.0
UNCACHED_TARGET_RPS = 300


def assert_median(benchmark, target_ms: float) -> None:
    if benchmark.enabled:
        median_ms = benchmark.stats.stats.median * 1000
        assert median_ms <= target_ms, f"median {median_ms:.2f} ms > {target_ms} ms"


@pytest.fixture(scope="module")
def seeded_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench-store") / "data"
    settings = Settings.load(environ={}, overrides={"data_dir": str(path), "log_level": "WARNING"})
    db = open_store(settings)
    try:
        seed(db, N_STUDIES)
        assert db.read_sync(lambda c: c.execute("SELECT count(*) FROM study").fetchone()[0]) == N_STUDIES
        db.read_sync(lambda c: c.execute("CHECKPOINT"))
    finally:
        db.close()
    return path


@pytest.fixture
def service(seeded_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    settings = Settings.load(environ={}, overrides={"data_dir": str(data), "log_level": "WARNING"})
    db = open_store(settings)
    loop = asyncio.new_event_loop()
    try:
        yield StudyService(db, settings), loop
    finally:
        loop.close()
        db.close()


def test_list_fuzzy_name_100k(benchmark, service):
    svc, loop = service
    f = ListFilter(name="zhang^wei", statuses=("Arrived", "InProgress"))
    result = benchmark(
        lambda: loop.run_until_complete(svc.list_studies(f, deleted=False, page=1, page_size=10, cached=False))
    )
    assert len(result.studies) == 10 and result.count > 10
    assert all("zhang^wei" in s.patient_name.lower() for s in result.studies)
    benchmark.extra_info.update(studies=N_STUDIES, matches=result.count, target_median_ms=LIST_TARGET_MS)
    assert_median(benchmark, LIST_TARGET_MS)


def test_list_default_worklist_100k(benchmark, service):
    svc, loop = service
    f = ListFilter(statuses=("Arrived", "InProgress"))
    result = benchmark(
        lambda: loop.run_until_complete(svc.list_studies(f, deleted=False, page=1, page_size=10, cached=False))
    )
    starts = [s.study_start_datetime for s in result.studies]
    assert starts == sorted(starts, reverse=True) and result.count == 66_667
    benchmark.extra_info.update(studies=N_STUDIES, matches=result.count, target_median_ms=LIST_TARGET_MS)
    assert_median(benchmark, LIST_TARGET_MS)


def test_list_any_page_100k(benchmark, service):
    """A console paging: a different page of the default worklist each time (pages 1-6,000 of
    6,667), so deep offsets count as much as the first page."""
    svc, loop = service
    f = ListFilter(statuses=("Arrived", "InProgress"))
    pages = iter(random.Random(7).randint(1, 6000) for _ in range(100_000))
    result = benchmark(
        lambda: loop.run_until_complete(
            svc.list_studies(f, deleted=False, page=next(pages), page_size=10, cached=False)
        )
    )
    assert len(result.studies) == 10 and result.count == 66_667
    benchmark.extra_info.update(studies=N_STUDIES, target_median_ms=LIST_TARGET_MS)
    assert_median(benchmark, LIST_TARGET_MS)


def test_register_4_views_100k(benchmark, service):
    svc, loop = service
    data = StudyCreate(
        accession_number="BENCH",
        patient_id="B-1",
        patient_name="Bench^Mark",
        patient_size="Medium",
        patient_type="Human",
        study_type="Normal",
        patient_dob="1970-01-01",
        views=[
            ViewRef("View_DX_T_A_SK_AP_00", "P0-0002"),
            ViewRef("View_DX_T_A_SK_LAT_00", "P0-0002"),
            ViewRef("View_DX_T_A_CH_PA_00", ""),
            ViewRef("View_DX_T_A_CH_LAT_00", ""),
        ],
    )
    study = benchmark(lambda: loop.run_until_complete(svc.register(data, Product.DROS, Locale.en_US)))
    assert sum(len(s.images) for s in study.series) == 4
    benchmark.extra_info.update(studies=N_STUDIES, views=4, target_median_ms=20)


# Every request a different page: no two requests share a cached reply.
VARYING_PAGES = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?page=" .. (counter % 6000 + 1))
end
"""


def _wrk(url: str, token: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, float]:
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            *extra,
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p50.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps,
        "requests": requests,
        "p50_ms": float(p50.group(1)) * scale,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    ticks = 0
    for pid in group_members(pgid):
        try:
            fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize(
    "query", ["", "?name=zhang", "varying-pages"], ids=["worklist", "fuzzy-name", "uncached-pages"]
)
def test_http_list_throughput_100k(benchmark, seeded_dir, tmp_path, query):
    """A console polling its worklist repeats one query (served from the generation cache until a
    write); `uncached-pages` asks for a different page every time, so every request hits DuckDB."""
    script = None
    if query == "varying-pages":
        script = tmp_path / "pages.lua"
        script.write_text(VARYING_PAGES)
        query = ""
    data = tmp_path / "data"
    shutil.copytree(seeded_dir, data)
    server = start_server(data)
    try:
        with httpx.Client(base_url=server.base_url) as c:
            token = c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"}).json()["data"][
                "token"
            ]
            r = c.get(f"/dr/api/v1/auth/study/{query}", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and len(r.json()["data"]["studies"]) == 10
        seconds = 10 if benchmark.enabled else 2
        cpu0 = _group_cpu_s(server.proc.pid)
        stats = benchmark.pedantic(
            lambda: _wrk(f"{server.base_url}/dr/api/v1/auth/study/{query}", token, seconds, 16, script),
            rounds=1,
            iterations=1,
        )
        # where a request's time goes: the server's own CPU per request (wrk runs outside its group),
        # and the load the figure was taken at (two shared cores)
        stats["server_cpu_ms_per_request"] = round(
            1000 * (_group_cpu_s(server.proc.pid) - cpu0) / max(1, stats["requests"]), 3
        )
        stats["load_average"] = round(os.getloadavg()[0], 2)
        assert stats["non_2xx"] == 0
        target = 1000 if script is None else UNCACHED_TARGET_RPS
        benchmark.extra_info.update(
            studies=N_STUDIES, seconds=seconds, connections=16, target_rps=target, cached=script is None, **stats
        )
        if benchmark.enabled:
            assert stats["rps"] >= target, f"{stats['rps']:.0f} requests/s < {target}"
    finally:
        stop_s = stop_server(server)
    # after the load the server stops by itself within its 5 s bound and leaves no process behind
    # (requests still queued for DuckDB are cancelled on SIGTERM)
    assert group_members(server.proc.pid) == []
    assert stop_s <= 5.0, stop_s
    benchmark.extra_info["stop_s"] = round(stop_s, 2)
