"""20 concurrent clients registering, editing, adding views to and deleting studies for 30 s
against the real server: nothing is lost and no study is left half-written."""

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
SECONDS = 30
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


async def worker(base: str, n: int, deadline: float) -> ClientLog:
    log = ClientLog()
    rnd = random.Random(n)
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": "123456"})
        h = {"Authorization": f"Bearer {r.json()['data']['token']}"}
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


def test_concurrent_clients_lose_nothing(tmp_path):
    server = start_server(tmp_path / "data")
    try:
        deadline = time.monotonic() + SECONDS

        async def run():
            return await asyncio.gather(*(worker(server.base_url, n, deadline) for n in range(CLIENTS)))

        logs = asyncio.run(run())
    finally:
        stop_server(server)
    assert not [e for log in logs for e in log.errors]
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
