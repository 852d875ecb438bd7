"""Black-box findings on the PACS endpoints, each a client input that was answered badly."""

from __future__ import annotations

API = "/dr/api/v1/auth"
NODE = {
    "name": "pacs1",
    "type": "PACS",
    "address": "127.0.0.1",
    "port": 11112,
    "aet": "PEER",
    "aec": "DROS",
    "is_enabled": False,
    "is_default": False,
}


def test_node_ids_out_of_range_are_refused_naming_id_never_a_500(client, auth_headers):
    """Node ids are 32-bit: a 40-digit id reached DuckDB and answered 500 (PUT and DELETE)."""
    for raw, words in (("9" * 40, ("at most 2147483647", "不能大于")), ("2147483648", ("at most", "不能大于")),
                       ("0", ("at least 1", "不能小于")), ("-3", ("at least 1", "不能小于"))):  # fmt: skip
        for lang, text in zip(("en_US", "zh_CN"), words, strict=True):
            h = auth_headers(language=lang)
            for r in (
                client.put(f"{API}/manage/pacs/{raw}", headers=h, json=NODE),
                client.delete(f"{API}/manage/pacs/{raw}", headers=h),
            ):
                assert r.status_code == 400, (raw, r.text)
                reply = r.json()
                assert reply["code"] == "0x010001" and reply["data"]["field"] == "id" and text in reply["description"]
    # the largest id is still an id: no such node
    assert client.delete(f"{API}/manage/pacs/2147483647", headers=auth_headers()).status_code == 404


def test_an_image_of_a_study_in_the_recycle_bin_cannot_be_sent(client, auth_headers, app):
    """scp/study_store refused a binned study (404) while scp/store queued and sent its images."""
    from tests.studies import expose, images_of, register

    for lang, text in (("en_US", "Not found"), ("zh_CN", "未找到")):
        h = auth_headers(language=lang)
        study = register(client, h)
        image = images_of(study)[0]
        expose(app, study, image)
        name = f"bin{lang[:2]}"
        assert (
            client.post(f"{API}/manage/pacs", headers=h, json={**NODE, "name": name, "is_enabled": True}).status_code
            == 200
        )
        assert client.request("DELETE", f"{API}/study", headers=h, json=[study["study_id"]]).status_code == 200
        r = client.post(
            f"{API}/scp/store", headers=h, json={"sop_instance_uid": image["sop_instance_uid"], "pacs_name": name}
        )
        assert r.status_code == 404, r.text
        reply = r.json()
        assert reply["data"]["field"] == "sop_instance_uid" and text in reply["description"]
        queue = client.get(f"{API}/scp/store", headers=h).json()["data"]
        assert image["sop_instance_uid"] not in {t["sop_instance_uid"] for t in queue}


def test_queue_range_written_as_the_seed_writes_it_unencoded(client, auth_headers, app):
    """The seed's `start_time=2025-06-19T00:00:00.000+08:00` put into a URL as it stands: `+` arrives as
    a space, and the listing answered 400 instead of the day's tasks."""
    from datetime import UTC, datetime

    from dros.domain.pacs import repo
    from dros.domain.pacs.schemas import NodeParams
    from tests.studies import images_of, register

    h = auth_headers()
    study = register(client, h)
    first, second = (i["sop_instance_uid"] for i in images_of(study)[:2])

    def write(conn):
        fields = {**NODE, "name": "seedday"}
        node = repo.get_node(conn, repo.insert_node(conn, fields, NodeParams(), datetime.now(UTC)))
        repo.enqueue(conn, [first], node, repo.MANUAL, datetime(2025, 6, 18, 17, 0, tzinfo=UTC))  # 06-19 01:00 +08
        repo.enqueue(conn, [second], node, repo.MANUAL, datetime(2025, 6, 19, 17, 0, tzinfo=UTC))  # 06-20 01:00 +08

    app.state.db.write_sync(write)
    url = f"{API}/scp/store?start_time=2025-06-19T00:00:00.000+08:00&end_time=2025-06-19T23:59:59.999+08:00"
    r = client.get(url, headers=h)
    assert r.status_code == 200, r.text
    assert [t["sop_instance_uid"] for t in r.json()["data"]] == [first]
    # anything else with a space is still refused, naming the field
    r = client.get(f"{API}/scp/store?start_time=2025-06-19 08:00", headers=h)
    assert r.status_code == 400 and r.json()["data"]["field"] == "start_time"
