"""`enqueue_completed_study`: what the acquisition step calls inside the transaction that
completes a study — accepted images to the enabled default nodes, once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dros.domain.pacs import repo
from dros.domain.pacs.schemas import NodeParams
from tests.pacs.dx_files import attach
from tests.studies import images_of, register


def _node(conn, name: str, *, default: bool, enabled: bool = True) -> int:
    return repo.insert_node(
        conn,
        {
            "name": name,
            "type": "PACS",
            "address": "127.0.0.1",
            "port": 104,
            "aet": "PACS",
            "aec": "DROS",
            "is_enabled": enabled,
            "is_default": default,
        },
        NodeParams(),
        datetime.now(UTC),
    )


def test_accepted_images_go_to_enabled_default_nodes_once(client, app, auth_headers, settings) -> None:
    db = app.state.db
    study = register(client, auth_headers())
    imgs = images_of(study)
    attach(db, settings.data_path, study, imgs[0], judged="Accept")
    attach(db, settings.data_path, study, imgs[1], judged="Reject")
    attach(db, settings.data_path, study, imgs[2], judged="NotJudged")
    default = db.write_sync(lambda c: _node(c, "archive", default=True))
    db.write_sync(lambda c: _node(c, "other", default=False))
    db.write_sync(lambda c: _node(c, "offline", default=True, enabled=False))

    assert db.write_sync(lambda c: repo.enqueue_completed_study(c, study["study_id"])) == 1
    tasks = db.read_sync(lambda c: repo.list_tasks(c, None, None))
    assert [(t.sop_instance_uid, t.destination, t.status) for t in tasks] == [
        (imgs[0]["sop_instance_uid"], "archive", "PENDING")
    ]
    assert tasks[0].patient_id == study["patient_id"]
    # completing again (e.g. after a reopen) queues nothing twice
    assert db.write_sync(lambda c: repo.enqueue_completed_study(c, study["study_id"])) == 0
    assert len(db.read_sync(lambda c: repo.list_tasks(c, None, None))) == 1
    sent = db.read_sync(
        lambda c: c.execute(
            "SELECT sop_instance_uid, send_status FROM image WHERE study_id = ? ORDER BY sort", [study["study_id"]]
        ).fetchall()
    )
    assert dict(sent)[imgs[0]["sop_instance_uid"]] == "Sending"
    assert dict(sent)[imgs[1]["sop_instance_uid"]] == "Unsent"
    assert default > 0


def test_rolls_back_with_the_completing_transaction(client, app, auth_headers, settings) -> None:
    db = app.state.db
    study = register(client, auth_headers())
    attach(db, settings.data_path, study, images_of(study)[0])
    db.write_sync(lambda c: _node(c, "archive", default=True))

    class Boom(Exception):
        pass

    def complete_then_fail(conn) -> None:
        assert repo.enqueue_completed_study(conn, study["study_id"]) == 1
        raise Boom

    try:
        db.write_sync(complete_then_fail)
    except Boom:
        pass
    assert db.read_sync(lambda c: repo.list_tasks(c, None, None)) == []


def test_no_default_node_or_deleted_study_queues_nothing(client, app, auth_headers, settings) -> None:
    db = app.state.db
    study = register(client, auth_headers())
    attach(db, settings.data_path, study, images_of(study)[0])
    assert db.write_sync(lambda c: repo.enqueue_completed_study(c, study["study_id"])) == 0
    db.write_sync(lambda c: _node(c, "archive", default=True))
    assert db.write_sync(lambda c: repo.enqueue_completed_study(c, "999999999999999")) == 0
    assert isinstance(settings.data_path, Path)
