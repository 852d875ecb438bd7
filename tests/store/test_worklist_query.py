"""The worklist query (repo.list_studies) against a plain ORDER BY … LIMIT … OFFSET on the same rows:
every page of every size, shallow (heap) and deep (NumPy) ranks, ties on the sort time broken by
study_id, the recycle bin's order, every status set — and count and page from one snapshot while
another thread writes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from itertools import combinations

import pytest

from dros.domain.study import repo
from dros.domain.study.schemas import STUDY_STATUSES
from dros.lifespan import open_store
from dros.store.db import Database

N = 700  # deeper than repo.HEAP_DEPTH, so both ways of ranking run


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    from dros.settings import Settings

    path = tmp_path_factory.mktemp("worklist") / "data"
    database = open_store(Settings.load(environ={}, overrides={"data_dir": str(path), "log_level": "WARNING"}))

    def seed(conn):
        # three studies share each start second and five share each deletion second: ties everywhere
        conn.execute(
            """
            INSERT INTO study (study_id, study_instance_uid, product, accession_number, patient_id, patient_name,
                               patient_size, patient_type, study_type, study_start_datetime, create_time, study_status,
                               is_deleted, deleted_at, search_id, search_name, search_acc)
            SELECT printf('%015d', 200000000000000 + (i * 7919) % 100000), '2.25.9' || i, ['DROS', 'VETDROS'][1 + i % 2],
                   'ACC' || i, 'PID' || i, 'Name^' || (i % 11), 'Medium', 'Human', 'Normal',
                   TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i // 3),
                   TIMESTAMPTZ '2025-01-01 00:00:00+00', ['Arrived', 'InProgress', 'Completed'][1 + i % 3],
                   i % 4 = 0, CASE WHEN i % 4 = 0 THEN TIMESTAMPTZ '2025-02-01 00:00:00+00' + to_seconds(i // 20) END,
                   lower('PID' || i || chr(31)), lower('Name^' || (i % 11) || chr(31) || chr(31)), lower('ACC' || i)
            FROM range(?) t(i)
            """,
            [N],
        )

    database.write_sync(seed)
    yield database
    database.close()


def plain(conn, f: repo.ListFilter, deleted: bool, page: int, page_size: int) -> tuple[int, list[str]]:
    """The obvious query the fast one must equal."""
    where, params = ["is_deleted = ?"], [deleted]
    if f.name:
        where.append("search_name LIKE '%' || ? || '%'")
        params.append(f.name.lower())
    if f.statuses is not None:
        where.append("study_status::VARCHAR IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.statuses))
    if f.product:
        where.append("product = ?")
        params.append(f.product)
    order = "deleted_at DESC, study_id DESC" if deleted else "study_start_datetime DESC, study_id DESC"
    rows = conn.execute(f"SELECT study_id FROM study WHERE {' AND '.join(where)} ORDER BY {order}", params).fetchall()
    offset = (page - 1) * page_size
    return len(rows), [r[0] for r in rows[offset : offset + page_size]]


def check(db: Database, f: repo.ListFilter, deleted: bool, page: int, page_size: int) -> None:
    def both(conn):
        fast = repo.list_studies(conn, f, deleted=deleted, page=page, page_size=page_size)
        # and against the filter's sort keys as the service keeps them for deep pages
        keyed = repo.list_studies(
            conn, f, deleted=deleted, page=page, page_size=page_size, keys=repo.sort_keys(conn, f, deleted=deleted)
        )
        return (
            (fast.total, [s.study_id for s in fast.studies]),
            (keyed.total, [s.study_id for s in keyed.studies]),
            plain(conn, f, deleted, page, page_size),
        )

    got, keyed, want = db.read_sync(both)
    assert got == want, (f, deleted, page, page_size)
    assert keyed == want, ("with sort keys", f, deleted, page, page_size)


@pytest.mark.parametrize("page_size", [1, 7, 10, 64])
def test_every_page_equals_order_by_offset(db, page_size):
    f = repo.ListFilter(statuses=("Arrived", "InProgress"))
    total = db.read_sync(lambda c: plain(c, f, False, 1, 1)[0])
    last = -(-total // page_size)
    pages = {
        1,
        2,
        3,
        repo.HEAP_DEPTH // page_size,
        repo.HEAP_DEPTH // page_size + 1,
        last // 2,
        last - 1,
        last,
        last + 1,
    }
    for page in sorted(p for p in pages if p >= 1):
        check(db, f, False, page, page_size)


@pytest.mark.parametrize("page", [1, 2, 5, 9, 30])
def test_recycle_bin_order_with_ties_on_the_deletion_time(db, page):
    check(db, repo.ListFilter(), True, page, 6)


@pytest.mark.parametrize(
    "statuses", [s for n in range(1, len(STUDY_STATUSES) + 1) for s in combinations(STUDY_STATUSES, n)]
)
def test_every_status_set(db, statuses):
    for page in (1, 40):
        check(db, repo.ListFilter(statuses=statuses), False, page, 5)


@pytest.mark.parametrize("product", ["DROS", "VETDROS"])
def test_product_and_name_filters(db, product):
    for page in (1, 3, 20):
        check(db, repo.ListFilter(name="name^1", statuses=("Arrived",), product=product), False, page, 4)
        check(db, repo.ListFilter(product=product), False, page, 10)


def test_status_domain_is_the_enum_of_the_schema(db):
    """The `=`/`<>` rewrite of a status set is exact only while the column's domain is STUDY_STATUSES."""
    values = db.read_sync(lambda c: c.execute("SELECT enum_range(NULL::study_status_t)").fetchone()[0])
    assert tuple(values) == STUDY_STATUSES
    with pytest.raises(Exception, match="Could not convert"):
        db.write_sync(
            lambda c: c.execute(
                "UPDATE study SET study_status = 'Scheduled' WHERE study_id = (SELECT min(study_id) FROM study)"
            )
        )


def test_count_and_page_come_from_one_snapshot(tmp_path):
    """A writer adds and bins studies as fast as it can while lists run: a whole-list page always
    holds exactly `count` studies (two snapshots would disagree whenever a commit fell between)."""
    from dros.settings import Settings

    database = open_store(
        Settings.load(environ={}, overrides={"data_dir": str(tmp_path / "d"), "log_level": "WARNING"})
    )
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1

            def add(conn, i=i):
                repo.insert_study(
                    conn,
                    {
                        "study_id": f"S{i:09d}",
                        "study_instance_uid": f"2.25.{i}",
                        "product": "DROS",
                        "patient_type": "Human",
                        "study_type": "Normal",
                        "study_start_datetime": datetime.now(UTC),
                        "create_time": datetime.now(UTC),
                        "accession_number": "A",
                        "patient_id": f"P{i}",
                        "patient_name": "N",
                        "patient_english_name": "",
                        "patient_former_name": "",
                        "patient_size": "Medium",
                    },
                )
                if i % 3 == 0:
                    repo.set_in_bin(conn, [f"S{i - 1:09d}"], True, datetime.now(UTC))

            database.write_sync(add)
            written[0] = i

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        f = repo.ListFilter(statuses=("Arrived", "InProgress"))
        lists = 0
        deadline = time.monotonic() + 6
        while written[0] < 150 and time.monotonic() < deadline:
            for deleted in (False, True):
                count, studies, *_ = database.read_sync(
                    lambda c, d=deleted: repo.list_studies(
                        c, f if not d else repo.ListFilter(), deleted=d, page=1, page_size=10000
                    )
                )
                assert len(studies) == count, (deleted, count, len(studies))
            lists += 1
    finally:
        stop.set()
        thread.join()
        database.close()
    assert written[0] >= 50 and lists > 20  # lists overlapped many commits
