"""One lock per study, shared by the study service (delete to the bin, purge) and the document
services (report save, post_proc): a delete that comes in while a document is being written waits
for it, so the document is saved whole and then travels with the study (and is purged with it)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dros.domain.document.service as document_service
from dros.domain.report.service import ReportService
from dros.domain.study.locks import StudyLocks
from tests.documents.test_report import SEED_HUMAN
from tests.documents.tools import png_bytes, study_files
from tests.studies import expose, images_of, register

AUTH = "/dr/api/v1/auth"


def gate(monkeypatch, owner, name, *, is_async: bool):
    """Wraps `owner.name` so the request stops there until released; returns (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(owner, name)
    if is_async:

        async def wrapped(*args, **kwargs):
            entered.set()
            await asyncio.to_thread(release.wait, 20)
            return await original(*args, **kwargs)
    else:

        def wrapped(*args, **kwargs):
            entered.set()
            release.wait(20)
            return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)
    return entered, release


def race(first, second, entered, release):
    """Starts `first`; once it is inside the gate starts `second`, checks that `second` is still
    waiting a moment later, then opens the gate. Returns both responses and whether `second` waited."""
    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(first)
        assert entered.wait(20), "the first request never reached the gate"
        b = pool.submit(second)
        try:
            b.result(timeout=0.5)
            waited = False
        except TimeoutError:
            waited = True
        release.set()
        return a.result(timeout=30), b.result(timeout=30), waited


def test_report_save_vs_delete_and_purge(client, auth_headers, app, settings, monkeypatch):
    h = auth_headers()
    study = register(client, h)
    sid = study["study_id"]
    entered, release = gate(monkeypatch, ReportService, "_render", is_async=True)
    saved, deleted, waited = race(
        lambda: client.post(f"{AUTH}/study/{sid}/report", headers=h, json=SEED_HUMAN),
        lambda: client.request("DELETE", f"{AUTH}/study", headers=h, json=[sid]),
        entered,
        release,
    )
    assert waited, "the delete did not wait for the report being saved"
    assert saved.status_code == 200 and deleted.status_code == 200, (saved.text, deleted.text)
    sop = saved.json()["data"]["sop_instance_uid"]
    # the report went to the bin with the study: nothing was left behind or written beside it
    assert not (settings.data_path / "studies" / sid).exists()
    in_bin = {p.name for p in (settings.data_path / "recycle_bin" / sid).iterdir()}
    assert {f"{sop}.dcm", f"{sop}.pdf", f"{sop}.webp"} <= in_bin
    assert client.request("DELETE", f"{AUTH}/recycle_bin/study", headers=h, json=[sid]).status_code == 200
    assert not (settings.data_path / "recycle_bin" / sid).exists()
    left = app.state.db.read_sync(
        lambda c: c.execute("SELECT count(*) FROM report_version WHERE study_id = ?", [sid]).fetchone()[0]
    )
    assert left == 0


def test_post_proc_vs_delete(client, auth_headers, app, settings, monkeypatch):
    h = auth_headers()
    study = register(client, h)
    sid = study["study_id"]
    image = images_of(study)[0]
    expose(app, study, image)
    entered, release = gate(monkeypatch, document_service, "derived_dx", is_async=False)
    form = {"instance_uid": image["sop_instance_uid"], "window_center": "128", "window_wdith": "256"}
    png = png_bytes(np.tile(np.arange(256, dtype=np.uint8), (64, 1)))
    made, deleted, waited = race(
        lambda: client.post(
            f"{AUTH}/image/post_proc", headers=h, data=form, files={"data": ("p.png", png, "image/png")}
        ),
        lambda: client.request("DELETE", f"{AUTH}/study", headers=h, json=[sid]),
        entered,
        release,
    )
    assert waited, "the delete did not wait for the post-processed image being written"
    assert made.status_code == 200 and deleted.status_code == 200, (made.text, deleted.text)
    assert not study_files(settings.data_path, sid)
    in_bin = {p.name for p in (settings.data_path / "recycle_bin" / sid).iterdir()}
    assert made.json()["data"]["path"] in in_bin
    binned = client.get(f"{AUTH}/recycle_bin/study/{sid}", headers=h).json()["data"]
    assert sum(i["image_type"] == "post_proc" for i in images_of(binned)) == 1


def test_locks_of_a_batch_are_taken_in_one_order_and_dropped_when_free():
    async def scenario() -> list[str]:
        locks = StudyLocks()
        order: list[str] = []

        async def batch(name: str, ids: list[str]) -> None:
            async with locks.hold(ids):
                order.append(name)
                await asyncio.sleep(0.01)

        # opposite orders of the same studies: without one global order these two could deadlock
        await asyncio.wait_for(asyncio.gather(batch("a", ["s1", "s2"]), batch("b", ["s2", "s1"])), 5)
        assert not locks.busy("s1") and not locks.busy("s2")
        return order

    assert sorted(asyncio.run(scenario())) == ["a", "b"]


@pytest.mark.parametrize("cancel_while", ["waiting", "holding"])
def test_a_cancelled_holder_or_waiter_releases_its_study(cancel_while):
    async def scenario() -> None:
        locks = StudyLocks()
        inside = asyncio.Event()

        async def hold_forever() -> None:
            async with locks.hold(["s"]):
                inside.set()
                await asyncio.sleep(60)

        holder = asyncio.create_task(hold_forever())
        await inside.wait()
        inside.clear()
        waiter = asyncio.create_task(hold_forever())
        await asyncio.sleep(0.01)
        assert not inside.is_set()  # the waiter waits
        (waiter if cancel_while == "waiting" else holder).cancel()
        await asyncio.sleep(0.01)
        if cancel_while == "holding":
            await asyncio.wait_for(inside.wait(), 1)  # the waiter got in
        for t in (holder, waiter):
            t.cancel()
        await asyncio.gather(holder, waiter, return_exceptions=True)
        assert not locks.busy("s")

    asyncio.run(scenario())
