"""PACS send-queue benchmarks.

* Throughput: N DX files (50 × 3072², ≈ 19 MB each, with --benchmark-enable) through the real send
  queue (DuckDB tasks → worker → pynetdicom associations, files streamed without decoding) to DCMTK
  storescp on loopback, next to Debian's `storescu` sending the same files to the same storescp in the
  same run. storescp runs with --fork (one process per association, so parallel associations are
  allowed, as a PACS allows them) and --ignore (received, not written: the disk is not measured).
  Target: ours ≥ 0.9 × storescu.
* Listing a queue of 10,000 tasks (GET scp/store without a range: DuckDB renders the JSON array, the
  envelope is encoded around it), uncached — target ≤ 20 ms median — and polled (served from the
  service's generation cache while nothing changes).

With --benchmark-disable (the default suite) the throughput run uses 3 small files once and asserts
only that every task completed; timing targets are asserted only when benchmarks are enabled.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.pacs.dx_files import write_dx
from tests.pacs.peers import STORESCU, StoreScp

from dros.dicomnet.queue_worker import QueuePolicy, SendWorker
from dros.domain.pacs import repo
from dros.domain.pacs.schemas import NodeParams
from dros.domain.pacs.service import PacsService
from dros.envelope import ok
from dros.settings import Settings
from dros.store.db import Database
from dros.store.migrate import migrate

ASSOCIATIONS = 4
THROUGHPUT_RATIO = 0.9
LIST_TARGET_S = 0.020
N_TASKS = 10_000


def _enabled(config: pytest.Config) -> bool:
    # the suite's addopts carry --benchmark-disable; --benchmark-enable on the command line wins
    return bool(config.getoption("benchmark_enable"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> list[Path]:
    n, size = (50, 3072) if _enabled(pytestconfig) else (3, 512)
    root = tmp_path_factory.mktemp("dx")
    study = {"study_instance_uid": "2.25.100", "patient_id": "BENCH", "patient_name": "BENCH^PACS", "study_id": "1"}
    return [
        write_dx(
            root / f"{i}.dcm", study, {"sop_instance_uid": f"2.25.100{i}", "series_instance_uid": "2.25.101"}, size=size
        )
        for i in range(n)
    ]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "bench.duckdb")
    migrate(database)
    try:
        yield database
    finally:
        database.close()


def _node(db: Database, port: int) -> int:
    return db.write_sync(
        lambda c: repo.insert_node(
            c,
            {
                "name": "bench",
                "type": "PACS",
                "address": "127.0.0.1",
                "port": port,
                "aet": "STORESCP",
                "aec": "DROS",
                "is_enabled": True,
                "is_default": False,
            },
            NodeParams(associations=ASSOCIATIONS),
            datetime.now(UTC),
        )
    )


def _insert_tasks(db: Database, node_id: int, sops: list[str], start: datetime) -> None:
    db.write_sync(
        lambda c: c.execute(
            "INSERT INTO send_task (task_id, sop_instance_uid, study_id, node_id, destination, patient_name, patient_id, "
            "origin, status, next_attempt_at, start_time, updated_at) "
            "SELECT 'task-' || i, s.sop, '1', ?, 'bench', 'BENCH^PACS', 'BENCH', 'manual', 'COMPLETED', "
            "?::TIMESTAMPTZ, ?::TIMESTAMPTZ + i * INTERVAL 1 SECOND, ?::TIMESTAMPTZ "
            "FROM (SELECT unnest(?::VARCHAR[]) AS sop, generate_subscripts(?::VARCHAR[], 1) AS i) s",
            [node_id, start, start, start, sops, sops],
        )
    )


def _storescu(port: int, files: list[Path]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [STORESCU, "-aet", "DROS", "-aec", "STORESCP", "127.0.0.1", str(port), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr
    return elapsed


@pytest.mark.benchmark(group="pacs-send")
def test_send_throughput_vs_storescu(
    benchmark: Any, files: list[Path], db: Database, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    enabled = _enabled(pytestconfig)
    scp = StoreScp(tmp_path / "scp", args=["--fork", "--ignore"])
    try:
        node_id = _node(db, scp.port)
        by_sop = {f"2.25.100{i}": p for i, p in enumerate(files)}
        _insert_tasks(db, node_id, list(by_sop), datetime.now(UTC) - timedelta(hours=1))
        worker = SendWorker(db, QueuePolicy(timeout_s=60, poll_s=0.05), lambda t: by_sop[t.sop_instance_uid])
        worker.start()

        def send_all() -> None:
            db.write_sync(
                lambda c: c.execute(
                    "UPDATE send_task SET status = 'PENDING', attempts = 0, next_attempt_at = now() - INTERVAL 1 SECOND"
                )
            )
            worker.wake()
            while True:
                left = db.read_sync(
                    lambda c: c.execute(
                        "SELECT count(*) FILTER (WHERE status <> 'COMPLETED'), count(*) FILTER (WHERE status = 'FAILED') "
                        "FROM send_task"
                    ).fetchone()
                )
                assert left is not None and left[1] == 0, db.read_sync(lambda c: repo.list_tasks(c, None, None))[0]
                if left[0] == 0:
                    return
                time.sleep(0.005)

        rounds = 3 if enabled else 1
        try:
            theirs = []
            ours = []
            for _ in range(rounds):  # interleaved, so both see the same machine load
                theirs.append(_storescu(scp.port, files))
                t = time.perf_counter()
                send_all()
                ours.append(time.perf_counter() - t)
            benchmark.pedantic(send_all, rounds=1, iterations=1)
        finally:
            worker.stop()
    finally:
        scp.stop()
    total_mb = sum(p.stat().st_size for p in files) / 1e6
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    benchmark.extra_info.update(
        files=len(files),
        megabytes=round(total_mb, 1),
        associations=ASSOCIATIONS,
        ours_s=round(ours_s, 3),
        storescu_s=round(theirs_s, 3),
        ours_mb_s=round(total_mb / ours_s, 1),
        storescu_mb_s=round(total_mb / theirs_s, 1),
        ratio=round(theirs_s / ours_s, 3),
    )
    if enabled:
        assert theirs_s / ours_s >= THROUGHPUT_RATIO, benchmark.extra_info


def _queue_of(db: Database, n: int) -> None:
    node_id = _node(db, 104)
    _insert_tasks(db, node_id, [f"2.25.{i}" for i in range(n)], datetime(2025, 10, 11, tzinfo=UTC))
    # each task as the worker leaves it: claimed (SENDING), then marked (COMPLETED), rendered each time
    db.write_sync(lambda c: c.execute("UPDATE send_task SET status = 'SENDING', attempts = 1"))
    db.write_sync(lambda c: repo.render(c, all_=True))
    db.write_sync(lambda c: c.execute("UPDATE send_task SET status = 'COMPLETED', end_time = start_time"))
    db.write_sync(lambda c: repo.render(c, all_=True))


@pytest.mark.benchmark(group="pacs-queue")
def test_list_10000_tasks(benchmark: Any, db: Database, pytestconfig: pytest.Config) -> None:
    """Every request queries DuckDB: what GET scp/store costs after any change of the queue."""
    n = N_TASKS if _enabled(pytestconfig) else 1000  # the suite's single run stays quick
    _queue_of(db, n)
    encoder = msgspec.json.Encoder()

    def listing() -> bytes:
        # what GET scp/store does: the database's JSON array in the reply envelope
        return encoder.encode(ok(msgspec.Raw(db.read_sync(lambda c: repo.list_json(c, None, None)))))

    body = benchmark(listing)
    assert len(msgspec.json.decode(body)["data"]) == n
    if _enabled(pytestconfig):
        assert benchmark.stats.stats.median <= LIST_TARGET_S


@pytest.mark.benchmark(group="pacs-queue")
def test_list_10000_tasks_polled(benchmark: Any, db: Database, tmp_path: Path, pytestconfig: pytest.Config) -> None:
    """A console polling the unchanged queue: the service answers from its generation cache."""
    n = N_TASKS if _enabled(pytestconfig) else 1000
    _queue_of(db, n)
    service = PacsService(db, Settings.load(environ={}, overrides={"data_dir": str(tmp_path)}), None)
    loop = asyncio.new_event_loop()
    try:
        first = loop.run_until_complete(service.queue(None, None))
        again = benchmark(lambda: loop.run_until_complete(service.queue(None, None)))
    finally:
        loop.close()
    assert bytes(again) == bytes(first) and len(msgspec.json.decode(bytes(first))) == n
