"""manage/pacs (list, add, modify, delete) and scp/pacs: validation, default flag, deletion with
queued work refused."""

from __future__ import annotations

from datetime import UTC, datetime

from dros.domain.pacs import repo
from tests.pacs.dx_files import attach
from tests.pacs.helpers import API, add_node
from tests.studies import images_of, register

NODE = {
    "name": "pacs1",
    "type": "PACS",
    "address": "192.168.1.3",
    "port": 6299,
    "aet": "testscp",
    "aec": "testscu",
    "is_enabled": True,
    "is_default": False,
}


def _post(client, h, **changes):
    return client.post(f"{API}/manage/pacs", headers=h, json={**NODE, **changes})


def test_add_list_modify_delete(client, auth_headers) -> None:
    h = auth_headers()
    assert _post(client, h).json() == {"code": "0x000000", "description": "Success", "solution": "", "data": {}}
    assert _post(client, h, name="pacs2", address="192.168.1.4", is_enabled=False, is_default=True).status_code == 200
    listed = client.get(f"{API}/manage/pacs", headers=h).json()["data"]
    assert listed["@type"] == "type.googleapis.com/dr.study.ScpList"
    assert [n["name"] for n in listed["scp"]] == ["pacs2", "pacs1"]  # newest first, as the reference lists
    first = listed["scp"][1]
    assert first == {
        "id": first["id"],
        **NODE,
        "params": {
            "verbose": False,
            "debug": False,
            "associations": 2,
            "storage_commitment": False,
            "roles": ["storage"],
        },
    }
    # scp/pacs: the nodes one can send to (enabled)
    assert [n["name"] for n in client.get(f"{API}/scp/pacs", headers=h).json()["data"]["scp"]] == ["pacs1"]
    r = client.put(
        f"{API}/manage/pacs/{first['id']}",
        headers=h,
        json={**NODE, "port": 104, "is_default": True, "params": {"associations": 4, "verbose": True}},
    )
    assert r.status_code == 200, r.text
    node = next(n for n in client.get(f"{API}/manage/pacs", headers=h).json()["data"]["scp"] if n["id"] == first["id"])
    assert (node["port"], node["is_default"], node["params"]["associations"], node["params"]["verbose"]) == (
        104,
        True,
        4,
        True,
    )
    # several defaults may coexist (archive + backup): setting one leaves the other
    assert sum(n["is_default"] for n in client.get(f"{API}/manage/pacs", headers=h).json()["data"]["scp"]) == 2
    assert client.delete(f"{API}/manage/pacs/{first['id']}", headers=h).json()["data"] == {}
    assert [n["name"] for n in client.get(f"{API}/manage/pacs", headers=h).json()["data"]["scp"]] == ["pacs2"]
    assert client.delete(f"{API}/manage/pacs/{first['id']}", headers=h).status_code == 404
    assert client.put(f"{API}/manage/pacs/99999", headers=h, json=NODE).status_code == 404


BAD_VALUES = [
    ("name", "ab"),
    ("name", "a" * 17),
    ("name", "bad/name"),
    ("name", " lead"),
    ("address", "0.0.0.0"),
    ("address", "10.0.0"),
    ("address", "10.0.0.01"),
    ("address", "pacs.example.org"),
    ("address", "::1"),
    ("port", 0),
    ("port", 65536),
    ("aet", ""),
    ("aet", "X" * 17),
    ("aec", "A\\B"),
    ("aec", "tab\there"),
    ("type", "WORKLIST"),
    ("is_enabled", "yes"),
]


def test_node_validation_names_the_field(client, auth_headers) -> None:
    h = auth_headers()
    for field, value in BAD_VALUES:
        r = _post(client, h, **{field: value})
        assert r.status_code == 400, (field, value, r.text)
        body = r.json()
        assert body["code"] in ("0x010001", "0x010002"), (field, value, body)
        assert field in body["description"], (field, value, body)
        # PUT validates the same way
        assert client.put(f"{API}/manage/pacs/1", headers=h, json={**NODE, field: value}).status_code == 400
    assert client.get(f"{API}/manage/pacs", headers=h).json()["data"]["scp"] == []


def test_missing_field_and_unknown_params_key(client, auth_headers) -> None:
    h = auth_headers()
    body = dict(NODE)
    del body["aet"]
    assert "aet" in client.post(f"{API}/manage/pacs", headers=h, json=body).json()["description"]
    r = _post(client, h, params={"associations": 99})
    assert r.status_code == 400 and "associations" in r.json()["description"]


def test_names_are_unique_ignoring_case(client, auth_headers) -> None:
    h = auth_headers()
    assert _post(client, h).status_code == 200
    r = _post(client, h, name="PACS1")
    assert r.status_code == 409 and "name" in r.json()["description"]
    assert _post(client, h, name="pacs2").status_code == 200
    ids = {n["name"]: n["id"] for n in client.get(f"{API}/manage/pacs", headers=h).json()["data"]["scp"]}
    assert client.put(f"{API}/manage/pacs/{ids['pacs2']}", headers=h, json={**NODE, "name": "Pacs1"}).status_code == 409
    # renaming a node to its own name in another case is fine
    assert client.put(f"{API}/manage/pacs/{ids['pacs1']}", headers=h, json={**NODE, "name": "PACS1"}).status_code == 200


def test_managing_needs_pacs_manage_listing_for_senders(client, auth_headers) -> None:
    tech = auth_headers("tech")
    assert _post(client, tech).status_code == 403
    assert client.get(f"{API}/manage/pacs", headers=tech).status_code == 403
    assert client.get(f"{API}/scp/pacs", headers=tech).status_code == 200
    assert _post(client, auth_headers("service")).status_code == 200


def test_deleting_a_node_with_queued_work_is_refused(client, app, auth_headers, settings) -> None:
    """Refused while tasks for it are queued or sending (nothing is dropped silently); finished
    tasks stay in the queue's history under the node's name."""
    h = auth_headers()
    node = add_node(client, h, "paused", 104, enabled=False)  # a disabled node's tasks wait
    study = register(client, h)
    img = images_of(study)[0]
    attach(app.state.db, settings.data_path, study, img)
    db = app.state.db
    [queued] = db.write_sync(
        lambda c: repo.enqueue(
            c, [img["sop_instance_uid"]], repo.get_node(c, node["id"]), repo.MANUAL, datetime.now(UTC)
        )
    )
    r = client.delete(f"{API}/manage/pacs/{node['id']}", headers=h)
    assert r.status_code == 409, r.text
    assert r.json()["data"]["queued_tasks"] == 1 and "DELETE scp/task" in r.json()["description"]
    assert (
        client.request("DELETE", f"{API}/scp/task", headers=h, json={"task_ids": [queued.task_id]}).status_code == 200
    )
    assert client.delete(f"{API}/manage/pacs/{node['id']}", headers=h).status_code == 200


def test_sending_to_a_disabled_or_unknown_node_is_refused(client, app, auth_headers, settings) -> None:
    h = auth_headers()
    add_node(client, h, "paused", 104, enabled=False)
    study = register(client, h)
    img = images_of(study)[0]
    attach(app.state.db, settings.data_path, study, img)
    body = {"sop_instance_uid": img["sop_instance_uid"], "pacs_name": "paused"}
    r = client.post(f"{API}/scp/store", headers=h, json=body)
    assert r.status_code == 422 and "pacs_name" in r.json()["description"]
    r = client.post(f"{API}/scp/store", headers=h, json={**body, "pacs_name": "nowhere"})
    assert r.status_code == 404 and "pacs_name" in r.json()["description"]
