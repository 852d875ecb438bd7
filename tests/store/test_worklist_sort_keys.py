"""Deep worklist pages reuse the filter's sort keys while nothing is written, read again after any
write, and count and page still come from one state when a write commits during a keyed read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dros.domain.study import repo
from dros.domain.study.service import StudyService
from dros.lifespan import open_store
from dros.settings import Settings
from dros.store.db import Conn, Database
from tests.store.test_worklist_query import N, plain

DEEP_PAGE = repo.HEAP_DEPTH // 10 + 5  # page size 10: ranks past the DuckDB heap


def _insert(conn: Conn, first: int, count: int) -> None:
    conn.execute(
        """
        INSERT INTO study (study_id, study_instance_uid, product, accession_number, patient_id, patient_name, patient_size, patient_type,
                           study_type, study_start_datetime, create_time, study_status, is_deleted,
                           search_id, search_name, search_acc)
        SELECT printf('%015d', 300000000000000 + i), '2.25.7' || i, 'DROS', 'ACC' || i, 'PID' || i, 'Name^' || i, 'Medium',
               'Human', 'Normal', TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i // 2),
               TIMESTAMPTZ '2025-01-01 00:00:00+00', 'Arrived', false, lower('PID' || i), lower('Name^' || i), lower('ACC' || i)
        FROM range(?, ?) t(i)
        """,
        [first, first + count],
    )
    repo.refresh_stale_list_rows(conn)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[StudyService, Database]]:
    settings = Settings.load(environ={}, overrides={"data_dir": str(tmp_path / "data"), "log_level": "WARNING"})
    db = open_store(settings)
    db.write_sync(lambda c: _insert(c, 0, N))
    try:
        yield StudyService(db, settings), db
    finally:
        db.close()


def _page(svc: StudyService, page: int) -> tuple[int, list[str]]:
    reply = asyncio.run(svc.list_studies(repo.ListFilter(), deleted=False, page=page, page_size=10, cached=False))
    return reply.count, [s.study_id for s in reply.studies]


def _want(db: Database, page: int) -> tuple[int, list[str]]:
    return db.read_sync(lambda c: plain(c, repo.ListFilter(), False, page, 10))


def _count_key_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    original = repo.sort_keys

    def counted(conn: Conn, f: repo.ListFilter, *, deleted: bool) -> repo.SortKeys:
        reads.append(1)
        return original(conn, f, deleted=deleted)

    monkeypatch.setattr(repo, "sort_keys", counted)
    return reads


def test_deep_pages_reuse_the_sort_keys_until_a_write(
    service: tuple[StudyService, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, db = service
    reads = _count_key_reads(monkeypatch)
    for page in (DEEP_PAGE, DEEP_PAGE + 1, DEEP_PAGE + 7, N // 10):
        assert _page(svc, page) == _want(db, page)
    assert len(reads) == 1, "every deep page fetched the keys again"
    assert _page(svc, 2) == _want(db, 2)  # shallow pages rank in DuckDB
    assert len(reads) == 1

    db.write_sync(lambda c: _insert(c, 10_000, 3))  # newer than all: every deep page shifts by three rows
    assert _page(svc, DEEP_PAGE) == _want(db, DEEP_PAGE)
    assert _page(svc, DEEP_PAGE)[0] == N + 3
    assert len(reads) == 2, "the keys of before the write were used after it"


def test_a_write_during_a_keyed_read_is_read_again_in_one_snapshot(
    service: tuple[StudyService, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, db = service
    assert _page(svc, DEEP_PAGE) == _want(db, DEEP_PAGE)  # keeps the keys
    calls: list[bool] = []
    original = repo.list_studies

    def racing(conn: Conn, *args: Any, keys: repo.SortKeys | None = None, **kwargs: Any) -> repo.StudyPage:
        calls.append(keys is not None)
        found = original(conn, *args, keys=keys, **kwargs)
        if keys is not None:  # a registration commits while the page is being read
            db.write_sync(lambda c: _insert(c, 20_000, 2))
        return found

    monkeypatch.setattr(repo, "list_studies", racing)
    count, ids = _page(svc, DEEP_PAGE + 1)
    assert calls == [True, False], "the keyed read was not checked against the commit"
    assert (count, ids) == _want(db, DEEP_PAGE + 1)
    assert count == N + 2


def test_a_commit_moves_the_generation_twice(service: tuple[StudyService, Database]) -> None:
    """Odd while a commit is under way (readers compare two even readings), even once it is done."""
    _, db = service
    g0 = db.generation
    seen: list[int] = []
    db.write_sync(lambda c: seen.append(db.generation))
    assert seen == [g0] and g0 % 2 == 0
    assert db.generation == g0 + 2
