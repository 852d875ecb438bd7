"""Against the real server: 20 concurrent clients registering, editing, adding views to and
deleting studies for 30 s while two more page through the worklist — nothing is lost, no study is
left half-written, every page agrees with its count; and clients racing on one study (lock vs
delete vs edit, restore vs purge) end in a state some serial order of their requests explains."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import duckdb
import httpx

from tests.conftest import start_server, stop_server
from tests.studies import HUMAN, body

CLIENTS = 20
LISTERS = 2
SECONDS = 30
ROUNDS = 12
VIEWS = HUMAN["views"]


@dataclass
class Expected:
    name: str
    images: int
    deleted: bool = False


@dataclass
class ClientLog:
    studies: dict[str, Expected] = field(default_factory=dict)
    ops: int = 0
    errors: list[str] = field(default_factory=list)


def tech_token(base: str) -> dict[str, str]:
    """One login shared by every client: the test is about studies, not 22 argon2 checks at once."""
    r = httpx.post(f"{base}/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"}, timeout=60)
    return {"Authorization": f"Bearer {r.json()['data']['token']}"}


async def worker(base: str, h: dict[str, str], n: int, deadline: float) -> ClientLog:
    log = ClientLog()
    rnd = random.Random(n)
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        while time.monotonic() < deadline:
            live = [sid for sid, e in log.studies.items() if not e.deleted]
            action = rnd.random()
            if action < 0.45 or not live:
                views = rnd.sample(VIEWS, rnd.randint(1, 3))
                name = f"C{n}^{log.ops}"
                r = await c.post("/dr/api/v1/auth/study", headers=h, json=body(HUMAN, patient_name=name, views=views))
                if r.status_code == 200:
                    log.studies[r.json()["data"]["study_id"]] = Expected(name, len(views))
                else:
                    log.errors.append(f"register {r.status_code} {r.text[:200]}")
            elif action < 0.7:
                sid = rnd.choice(live)
                name = f"E{n}^{log.ops}"
                upd = {
                    "accession_number": "X",
                    "patient_id": "P",
                    "patient_name": name,
                    "patient_size": "Small",
                    "patient_sex": "O",
                }
                r = await c.put(f"/dr/api/v1/auth/study/{sid}", headers=h, json=upd)
                if r.status_code == 200:
                    log.studies[sid].name = name
                else:
                    log.errors.append(f"edit {r.status_code} {r.text[:200]}")
            elif action < 0.85:
                sid = rnd.choice(live)
                r = await c.post("/dr/api/v1/auth/image", headers=h, json={"study_id": sid, "views": [VIEWS[2]]})
                if r.status_code == 200:
                    log.studies[sid].images += 1
                else:
                    log.errors.append(f"add {r.status_code} {r.text[:200]}")
            else:
                sid = rnd.choice(live)
                r = await c.request("DELETE", "/dr/api/v1/auth/study", headers=h, json=[sid])
                if r.status_code == 200:
                    log.studies[sid].deleted = True
                else:
                    log.errors.append(f"delete {r.status_code} {r.text[:200]}")
            log.ops += 1
    return log


async def lister(base: str, h: dict[str, str], n: int, deadline: float) -> ClientLog:
    """Pages through the worklist while the others write: each page holds exactly the studies its
    count leaves for it (count and page come from one snapshot), newest first."""
    log = ClientLog()
    rnd = random.Random(1000 + n)
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        while time.monotonic() < deadline:
            page_size = rnd.choice([1, 7, 10, 50, 10000])
            page = rnd.randint(1, 6)
            status = rnd.choice(["Arrived,InProgress", "Arrived", "Arrived,InProgress,Completed"])
            r = await c.get(
                "/dr/api/v1/auth/study/", headers=h, params={"page": page, "page_size": page_size, "status": status}
            )
            if r.status_code != 200:
                log.errors.append(f"list {r.status_code} {r.text[:200]}")
                continue
            data = r.json()["data"]
            want = max(0, min(page_size, data["count"] - (page - 1) * page_size))
            starts = [s["study_start_datetime"] for s in data["studies"]]
            if len(data["studies"]) != want or starts != sorted(starts, reverse=True):
                log.errors.append(f"list page {page}x{page_size}: count {data['count']}, {len(starts)} studies")
            log.ops += 1
    return log


def test_concurrent_clients_lose_nothing(tmp_path):
    server = start_server(tmp_path / "data")
    try:
        h = tech_token(server.base_url)
        deadline = time.monotonic() + SECONDS

        async def run():
            return await asyncio.gather(
                *(worker(server.base_url, h, n, deadline) for n in range(CLIENTS)),
                *(lister(server.base_url, h, n, deadline) for n in range(LISTERS)),
            )

        everything = asyncio.run(run())
    finally:
        stop_server(server)
    logs, lists = everything[:CLIENTS], everything[CLIENTS:]
    assert not [e for log in everything for e in log.errors]
    assert all(log.ops > 20 for log in lists)  # the listers listed throughout
    expected = {sid: e for log in logs for sid, e in log.studies.items()}
    assert sum(log.ops for log in logs) > 200 and len(expected) > 50

    conn = duckdb.connect(str(tmp_path / "data" / "dros.duckdb"), read_only=True)
    try:
        rows = {r[0]: r[1:] for r in conn.execute("SELECT study_id, patient_name, is_deleted FROM study").fetchall()}
        counts = dict(
            conn.execute("SELECT study_id, count(*) FROM image WHERE NOT is_deleted GROUP BY study_id").fetchall()
        )
        assert set(rows) == set(expected)  # nothing lost, nothing invented
        for sid, e in expected.items():
            assert rows[sid] == (e.name, e.deleted), sid
            assert counts.get(sid, 0) == e.images, sid
        # no half-written study: every image has its series and study, every series a study and an image
        assert (
            conn.execute(
                "SELECT count(*) FROM image i LEFT JOIN series s USING (series_instance_uid) WHERE s.study_id IS NULL"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM series s LEFT JOIN study t USING (study_id) WHERE t.study_id IS NULL"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM series s WHERE NOT EXISTS (SELECT 1 FROM image i WHERE i.series_instance_uid = s.series_instance_uid)"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM (SELECT study_id, sort FROM image WHERE NOT is_deleted GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()


# ---- two and three clients racing on one study ---------------------------------------------


async def _clients(base: str, n: int) -> tuple[list[httpx.AsyncClient], dict[str, str]]:
    """n clients on their own connections (admin: may purge), sharing one token."""
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(n)]
    r = await clients[0].post("/dr/api/v1/pub/login", json={"username": "admin", "password": "123456"})
    return clients, {"Authorization": f"Bearer {r.json()['data']['token']}"}


def _code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["code"]


OK, NOT_FOUND, LOCKED = (200, "0x000000"), (404, "0x030001"), (409, "0x030003")


def test_lock_delete_edit_race_on_one_study(tmp_path):
    """Lock, delete and edit the same study at once from three clients, ROUNDS times. The only
    serial orders: delete first-or-after-edit (then the lock finds nothing: 404), or lock before
    delete (delete refused as locked; the edit succeeds only if it came before the lock)."""
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    seen: set[tuple[tuple[int, str], ...]] = set()

    async def run() -> None:
        clients, h = await _clients(server.base_url, 3)
        try:
            for i in range(ROUNDS):
                r = await clients[0].post(
                    "/dr/api/v1/auth/study", headers=h, json=body(HUMAN, patient_name=f"Race^{i}", views=VIEWS[:1])
                )
                sid = r.json()["data"]["study_id"]
                folder = data_dir / "studies" / sid
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "marker.dcm").write_bytes(b"image of " + sid.encode())
                upd = {
                    "accession_number": "X",
                    "patient_id": "P",
                    "patient_name": f"Edited^{i}",
                    "patient_size": "Small",
                    "patient_sex": "O",
                }
                lock, delete, edit = await asyncio.gather(
                    clients[0].put(f"/dr/api/v1/auth/study/{sid}/lock", headers=h, json={"lock": "Locked"}),
                    clients[1].request("DELETE", "/dr/api/v1/auth/study", headers=h, json=[sid]),
                    clients[2].put(f"/dr/api/v1/auth/study/{sid}", headers=h, json=upd),
                )
                outcome = (_code(lock), _code(delete), _code(edit))
                seen.add(outcome)
                live = await clients[0].get(f"/dr/api/v1/auth/study/{sid}", headers=h)
                binned = await clients[0].get(f"/dr/api/v1/auth/recycle_bin/study/{sid}", headers=h)
                if _code(delete) == OK:
                    # delete won before the lock; the edit came before the delete or found nothing
                    assert _code(lock) == NOT_FOUND and _code(edit) in (OK, NOT_FOUND), outcome
                    assert live.status_code == 404 and binned.status_code == 200
                    final = binned.json()["data"]
                    assert final["study_lock"] == "Unlocked"
                    assert (data_dir / "recycle_bin" / sid / "marker.dcm").exists() and not folder.exists()
                else:
                    # the lock came first: delete refused as locked, nothing moved
                    assert _code(delete) == LOCKED and _code(lock) == OK and _code(edit) in (OK, LOCKED), outcome
                    assert live.status_code == 200 and binned.status_code == 404
                    final = live.json()["data"]
                    assert final["study_lock"] == "Locked" and (folder / "marker.dcm").exists()
                # the edit is in the final state exactly when it was answered 200
                assert (final["patient_name"] == f"Edited^{i}") == (_code(edit) == OK), outcome
        finally:
            for c in clients:
                await c.aclose()

    try:
        asyncio.run(run())
    finally:
        stop_server(server)
    assert seen  # which interleavings happened is up to the scheduler; each was checked


def test_restore_purge_race_on_one_study(tmp_path):
    """Restore and purge the same binned study at once, ROUNDS times: exactly one wins, the other
    answers 404, and rows and files follow the winner (purged: nothing left, not even in quarantine)."""
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    winners: list[str] = []

    async def run() -> None:
        clients, h = await _clients(server.base_url, 2)
        try:
            for i in range(ROUNDS):
                r = await clients[0].post(
                    "/dr/api/v1/auth/study", headers=h, json=body(HUMAN, patient_name=f"Bin^{i}", views=VIEWS[:1])
                )
                sid = r.json()["data"]["study_id"]
                folder = data_dir / "studies" / sid
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "marker.dcm").write_bytes(b"image of " + sid.encode())
                r = await clients[0].request("DELETE", "/dr/api/v1/auth/study", headers=h, json=[sid])
                assert r.status_code == 200
                restore, purge = await asyncio.gather(
                    clients[0].post("/dr/api/v1/auth/recycle_bin/study", headers=h, json=[sid]),
                    clients[1].request("DELETE", "/dr/api/v1/auth/recycle_bin/study", headers=h, json=[sid]),
                )
                outcome = (_code(restore), _code(purge))
                live = await clients[0].get(f"/dr/api/v1/auth/study/{sid}", headers=h)
                binned = await clients[0].get(f"/dr/api/v1/auth/recycle_bin/study/{sid}", headers=h)
                assert binned.status_code == 404
                if outcome == (OK, NOT_FOUND):
                    winners.append("restore")
                    assert live.status_code == 200 and (folder / "marker.dcm").exists()
                else:
                    assert outcome == (NOT_FOUND, OK), outcome
                    winners.append("purge")
                    assert live.status_code == 404 and not folder.exists()
                    assert not (data_dir / "recycle_bin" / sid).exists()
        finally:
            for c in clients:
                await c.aclose()

    try:
        asyncio.run(run())
    finally:
        stop_server(server)
    assert len(winners) == ROUNDS
    assert not (data_dir / "quarantine").exists()
