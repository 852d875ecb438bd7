"""GET auth/worklist and POST auth/worklist/register against DCMTK wlmscpfs (worklist files made with
dump2dcm): Chinese names in ISO_IR 192 and GB18030, filters and paging, an empty worklist, a RIS that
is down, and an entry without a mapping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pacs.helpers import API
from tests.ports import free_port
from tests.ris.helpers import TODAY, entries, query, worklist_node
from tests.ris.peers import Order, Wlmscpfs

NAME = "Wang^XiaoDong=王^小东"


@pytest.fixture
def wlm(tmp_path: Path) -> Iterator[Wlmscpfs]:
    peer = Wlmscpfs(tmp_path / "wl")
    try:
        yield peer
    finally:
        peer.stop()


def _orders(wlm: Wlmscpfs) -> None:
    wlm.add("utf8", Order("ACC-U8", "P-U8", NAME, "1.2.826.0.1.3680043.8.498.101", TODAY, time="080000"))
    wlm.add("gb", Order("ACC-GB", "P-GB", "Li^Na=李^娜", "1.2.826.0.1.3680043.8.498.102", TODAY, charset="GB18030"))
    # not ours: another station, another modality, another day
    wlm.add("other-aet", Order("ACC-X1", "P-X1", "X^One", "1.2.3.1", TODAY, station_aet="CTROOM"))
    wlm.add("other-mod", Order("ACC-X2", "P-X2", "X^Two", "1.2.3.2", TODAY, modality="CT"))
    wlm.add("other-day", Order("ACC-X3", "P-X3", "X^Three", "1.2.3.3", "20200101"))


def test_chinese_names_in_iso_ir_192_and_gb18030_filters_and_paging(client, auth_headers, wlm) -> None:
    h = auth_headers()
    worklist_node(client, h, "ris", wlm.port, wlm.aet)
    _orders(wlm)
    got = entries(client, h)
    assert [(e["accession_number"], e["patient_name"]) for e in got] == [
        ("ACC-U8", NAME),
        ("ACC-GB", "Li^Na=李^娜"),
    ]
    first = got[0]
    assert first["specific_character_set"] == "ISO_IR 192" and got[1]["specific_character_set"] == "GB18030"
    assert first["study_instance_uid"] == "1.2.826.0.1.3680043.8.498.101"
    assert (first["patient_id"], first["patient_sex"], first["patient_dob"]) == ("P-U8", "F", "1980-01-01")
    assert first["ref_physician"] == "Li^Wei"
    assert first["requested_procedure_id"] == "RP1"
    assert first["requested_procedure_codes"] == [
        {"code_value": "RPC-CHEST", "coding_scheme": "LOCAL", "code_meaning": "Chest PA"}
    ]
    step = first["scheduled_step"]
    assert step["step_id"] == "SPS1" and step["station_aet"] == "DROS" and step["modality"] == "DX"
    assert step["start"] == f"{TODAY[:4]}-{TODAY[4:6]}-{TODAY[6:]}T08:00:00"
    assert first["procedure_ids"] == []  # no mapping yet
    # optional keys: patient id, accession, name (DICOM wildcard)
    assert [e["accession_number"] for e in entries(client, h, patient_id="P-GB")] == ["ACC-GB"]
    assert [e["accession_number"] for e in entries(client, h, accession_number="ACC-U8")] == ["ACC-U8"]
    assert [e["accession_number"] for e in entries(client, h, patient_name="Wang*")] == ["ACC-U8"]
    # any station: the CT room's DX order too
    assert {e["accession_number"] for e in entries(client, h, any_station="true")} == {"ACC-U8", "ACC-GB", "ACC-X1"}
    # another day
    assert [e["accession_number"] for e in entries(client, h, date="2020-01-01")] == ["ACC-X3"]
    # paging over the sorted list, in the envelope
    page = query(client, h, page=2, page_size=1).json()
    assert page["code"] == "0x000000"
    assert (page["data"]["total"], page["data"]["page"], page["data"]["node"]) == (2, 2, "ris")
    assert [e["accession_number"] for e in page["data"]["entries"]] == ["ACC-GB"]


def test_empty_worklist(client, auth_headers, wlm) -> None:
    h = auth_headers()
    worklist_node(client, h, "ris", wlm.port, wlm.aet)
    wlm.add("other-day", Order("ACC-X3", "P-X3", "X^Three", "1.2.3.3", "20200101"))
    data = query(client, h).json()["data"]
    assert (data["total"], data["entries"]) == (0, [])


def test_ris_down_is_a_clear_error_in_both_languages(client, auth_headers) -> None:
    worklist_node(client, auth_headers(), "ris", free_port(), "WLMSCP")
    r = query(client, auth_headers())
    assert r.status_code == 503
    body = r.json()
    assert body["code"] == "0x050001" and body["data"]["field"] == "node"
    assert "'ris'" in body["description"] and "connection refused" in body["description"]
    zh = query(client, auth_headers(language="zh_CN")).json()
    assert "工作列表服务器" in zh["description"] and "未响应查询" in zh["description"]


def test_no_worklist_node_and_bad_date(client, auth_headers) -> None:
    h = auth_headers()
    r = query(client, h)
    assert (r.status_code, r.json()["data"]["field"]) == (422, "node")
    r = query(client, h, date="2026-13-40")
    assert (r.status_code, r.json()["code"], r.json()["data"]["field"]) == (400, "0x010001", "date")


def test_register_keeps_the_ris_uid_and_accession_with_or_without_mapping(client, auth_headers, wlm) -> None:
    h = auth_headers()
    worklist_node(client, h, "ris", wlm.port, wlm.aet)
    _orders(wlm)
    entry = entries(client, h)[0]
    # no mapping, no views: refused, naming views, in both languages
    r = client.post(f"{API}/worklist/register", headers=h, json={"entry": entry})
    assert (r.status_code, r.json()["data"]["field"]) == (400, "views")
    assert "RPC-CHEST/LOCAL" in r.json()["description"]
    zh = client.post(f"{API}/worklist/register", headers=auth_headers(language="zh_CN"), json={"entry": entry})
    assert "未映射" in zh.json()["description"]
    # views chosen by hand
    r = client.post(
        f"{API}/worklist/register",
        headers=h,
        json={"entry": entry, "views": [{"view_id": "View_DX_T_A_CH_PA_00"}], "patient_size": "Large"},
    )
    assert r.status_code == 200, r.text
    study = r.json()["data"]
    assert (study["study_instance_uid"], study["accession_number"]) == (entry["study_instance_uid"], "ACC-U8")
    assert (study["patient_name"], study["patient_id"], study["patient_size"]) == (NAME, "P-U8", "Large")
    assert (study["reg_source"], study["mwl"]) == ("MWL", "SPS1")
    # the same order twice: 409 naming the UID
    again = client.post(
        f"{API}/worklist/register", headers=h, json={"entry": entry, "views": [{"view_id": "View_DX_T_A_CH_PA_00"}]}
    )
    assert (again.status_code, again.json()["data"]["field"]) == (409, "entry.study_instance_uid")
    # a mapping: the code's procedures give the views
    m = {"code_value": "RPC-CHEST", "coding_scheme": "LOCAL", "code_meaning": "Chest PA", "procedure_ids": ["P0-0002"]}
    assert client.put(f"{API}/worklist/mapping", headers=h, json=m).status_code == 200
    assert client.get(f"{API}/worklist/mapping", headers=h).json()["data"]["mappings"] == [m]
    bad = client.put(f"{API}/worklist/mapping", headers=h, json={**m, "procedure_ids": ["NOPE"]})
    assert (bad.status_code, bad.json()["data"]["field"]) == (400, "procedure_ids")
    second = next(e for e in entries(client, h) if e["accession_number"] == "ACC-GB")
    assert second["procedure_ids"] == ["P0-0002"]
    r = client.post(f"{API}/worklist/register", headers=h, json={"entry": second})
    assert r.status_code == 200, r.text
    study = r.json()["data"]
    assert study["study_instance_uid"] == "1.2.826.0.1.3680043.8.498.102"
    assert [(s["procedure_id"], [i["view_id"] for i in s["images"]]) for s in study["series"]] == [
        ("P0-0002", ["View_DX_T_A_SK_AP_00", "View_DX_T_A_SK_LAT_00"])
    ]


def test_permissions(client, auth_headers) -> None:
    assert query(client, auth_headers("guest")).status_code == 403
    r = client.put(
        f"{API}/worklist/mapping",
        headers=auth_headers("tech"),
        json={"code_value": "X", "procedure_ids": []},
    )
    assert r.status_code == 403
