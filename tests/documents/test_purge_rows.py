"""A permanent delete (recycle-bin purge or clear) takes every row keyed by the study with it: report
versions, PACS send tasks (history included), exposure records, worklist/MPPS bookkeeping. An MPPS
message the RIS has not received yet is kept until the queue delivers it (README, recycle bin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dros.domain.pacs import repo as pacs_repo
from dros.domain.pacs.schemas import NodeParams
from tests.documents.test_report import SEED_HUMAN
from tests.documents.tools import photo, png_b64, study_files
from tests.studies import expose, images_of, register

AUTH = "/dr/api/v1/auth"
# (table, key column) of every row this test gives a study
KEYED = [
    ("image", "study_id"),
    ("series", "study_id"),
    ("report_version", "study_id"),
    ("send_task", "study_id"),
    ("exposure", "study_id"),
    ("worklist_study", "study_id"),
    ("mpps_step", "study_id"),
    ("mpps_discontinue", "study_id"),
    ("study", "study_id"),
]


def rows_of(app, study_id: str) -> dict[str, int]:
    def read(conn):
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t} WHERE {k} = ?", [study_id]).fetchone()[0] for t, k in KEYED
        }
        for state in ("PENDING", "SENT"):
            counts[f"mpps_message:{state}"] = conn.execute(
                "SELECT count(*) FROM mpps_message WHERE study_id = ? AND state = ?", [study_id, state]
            ).fetchone()[0]
        return counts

    return app.state.db.read_sync(read)


def full_study(client, h, app) -> dict:
    """A study with an exposed image, a saved report, a portrait, a queued send task of each image
    for a (disabled) node, an exposure record and worklist/MPPS rows."""
    study = register(client, h)
    sid = study["study_id"]
    image = images_of(study)[0]
    expose(app, study, image)
    assert client.post(f"{AUTH}/study/{sid}/report", headers=h, json=SEED_HUMAN).status_code == 200
    portrait = {"instance_uid": sid, "data": png_b64(photo())}
    assert client.post(f"{AUTH}/study/portrait", headers=h, json=portrait).status_code == 200
    now = datetime.now(UTC)

    def write(conn):
        name = f"n{sid[-10:]}"
        fields = {"name": name, "type": "PACS", "address": "127.0.0.1", "port": 9, "aet": "PEER", "aec": "DROS"}
        node_id = pacs_repo.insert_node(conn, {**fields, "is_enabled": False, "is_default": False}, NodeParams(), now)
        node = pacs_repo.get_node(conn, node_id)
        sops = [r[0] for r in conn.execute("SELECT sop_instance_uid FROM image WHERE study_id = ?", [sid]).fetchall()]
        pacs_repo.enqueue(conn, sops, node, pacs_repo.MANUAL, now)
        conn.execute(
            "INSERT INTO exposure (exposure_id, sop_instance_uid, study_id, state, acquired_at) VALUES (?, ?, ?, 'done', ?)",
            [f"ex-{sid}", image["sop_instance_uid"], sid, now],
        )
        conn.execute("INSERT INTO worklist_study VALUES (?, '{}', ?)", [sid, now])
        conn.execute(
            "INSERT INTO mpps_step (study_id, mpps_uid, status, start_time) VALUES (?, '1.2.3', 'COMPLETED', ?)",
            [sid, now],
        )
        conn.execute("INSERT INTO mpps_discontinue VALUES (?, 'patient left', ?)", [sid, now])
        for state in ("SENT", "PENDING"):
            conn.execute(
                "INSERT INTO mpps_message (study_id, mpps_uid, node_id, kind, pps_status, dataset_json, state, "
                "next_attempt_at, create_time) VALUES (?, '1.2.3', ?, 'N-SET', 'COMPLETED', '{}', ?, ?, ?)",
                [sid, node_id, state, now + timedelta(days=1), now],  # not due: the MPPS queue leaves it alone
            )

    app.state.db.write_sync(write)
    before = rows_of(app, sid)
    assert all(before.values()), before  # every kind of row is there to be purged
    return study


def test_purge_removes_every_row_keyed_by_the_study(client, auth_headers, app, settings):
    h = auth_headers()
    study = full_study(client, h, app)
    sid = study["study_id"]
    assert client.request("DELETE", f"{AUTH}/study", headers=h, json=[sid]).status_code == 200
    assert client.request("DELETE", f"{AUTH}/recycle_bin/study", headers=h, json=[sid]).status_code == 200
    after = rows_of(app, sid)
    assert after.pop("mpps_message:PENDING") == 1  # still owed to the RIS
    assert not any(after.values()), after
    assert not study_files(settings.data_path, sid) and not (settings.data_path / "recycle_bin" / sid).exists()
    queue = client.get(f"{AUTH}/scp/store", headers=h).json()["data"]
    assert sid not in {t["study_id"] for t in queue}


def test_clearing_the_bin_removes_them_too(client, auth_headers, app, settings):
    h = auth_headers()
    study = full_study(client, h, app)
    sid = study["study_id"]
    assert client.request("DELETE", f"{AUTH}/study", headers=h, json=[sid]).status_code == 200
    assert client.delete(f"{AUTH}/recycle_bin/clear", headers=h).status_code == 200
    after = rows_of(app, sid)
    assert after.pop("mpps_message:PENDING") == 1
    assert not any(after.values()), after
    assert not study_files(settings.data_path, sid) and not (settings.data_path / "recycle_bin" / sid).exists()


def test_a_purged_report_view_keeps_its_number_but_not_its_text(client, auth_headers, app, settings):
    """A deleted report instance purged with the bin: its version row keeps the number (numbers
    never repeat) and loses the report's text; its send tasks go."""
    h = auth_headers()
    study = full_study(client, h, app)
    sid = study["study_id"]
    version = app.state.db.read_sync(
        lambda c: c.execute("SELECT sop_instance_uid FROM report_version WHERE study_id = ?", [sid]).fetchone()[0]
    )
    assert client.delete(f"{AUTH}/image/{version}", headers=h).status_code == 200
    # the version's PDF goes to the bin with its DICOM instance (it stayed in the study's folder)
    assert not {f"{version}.dcm", f"{version}.pdf"} & study_files(settings.data_path, sid)
    views = settings.data_path / "recycle_bin" / "views"
    assert (views / f"{version}.pdf").is_file()
    assert client.delete(f"{AUTH}/recycle_bin/clear", headers=h).status_code == 200
    assert not list(views.glob(f"{version}.*"))
    content, tasks = app.state.db.read_sync(
        lambda c: (
            c.execute("SELECT content, author FROM report_version WHERE sop_instance_uid = ?", [version]).fetchone(),
            c.execute("SELECT count(*) FROM send_task WHERE sop_instance_uid = ?", [version]).fetchone()[0],
        )
    )
    assert content == ("", "") and tasks == 0
    again = client.post(f"{AUTH}/study/{sid}/report", headers=h, json=SEED_HUMAN)
    assert again.status_code == 200 and again.json()["data"]["version"] == 2, again.text
