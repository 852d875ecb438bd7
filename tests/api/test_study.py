"""Study endpoints (§11): register, edit, lock, list, detail, stat, delete to the bin."""

from __future__ import annotations

import re
from datetime import UTC, date

import pytest

from dros import _core
from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error
from tests.studies import DOG, HUMAN, body, images_of, register

STUDY = "/dr/api/v1/auth/study"
SEED_STUDY_KEYS = {
    "@type",
    "study_instance_uid",
    "study_id",
    "public_study_id",
    "specific_character_set",
    "accession_number",
    "ref_physician",
    "patient_id",
    "patient_name",
    "patient_english_name",
    "patient_former_name",
    "patient_size",
    "other_patient_ids",
    "other_patient_names",
    "patient_age",
    "patient_dob",
    "patient_sex",
    "sex_neutered",
    "pregnancy_status",
    "patient_state",
    "admitting_time",
    "priority",
    "reg_source",
    "study_description",
    "study_start_datetime",
    "study_end_datetime",
    "scheduled_procedure_step_start_date",
    "performed_physician",
    "study_lock",
    "folder_path",
    "operator_name",
    "modality",
    "weight",
    "thickness",
    "length",
    "patient_type",
    "study_type",
    "owner_name",
    "chip_number",
    "variety",
    "is_anaesthesia",
    "is_sedation",
    "mwl",
    "is_exported",
    "is_edited",
    "is_appended",
    "department",
    "mapped_status",
    "qc_result",
    "comment",
    "study_status",
    "portrait_status",
    "portrait_file",
    "sort",
    "product",
    "create_time",
    "series",
}
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_register_human_study(client, auth_headers):
    s = register(client, auth_headers())
    assert set(s) == SEED_STUDY_KEYS and s["@type"] == "type.googleapis.com/dr.study.Study"
    assert re.fullmatch(r"\d{15}", s["study_id"])
    for uid in [
        s["study_instance_uid"],
        *(x["series_instance_uid"] for x in s["series"]),
        *(i["sop_instance_uid"] for i in images_of(s)),
    ]:
        _core.validate_uid(uid)
        assert uid.startswith("2.25.") and len(uid) <= 64
    assert (s["specific_character_set"], s["study_status"], s["study_lock"], s["product"]) == (
        "ISO_IR 192",
        "Arrived",
        "Unlocked",
        "DROS",
    )
    assert s["operator_name"] == "OP987" and s["pregnancy_status"] == "0004" and s["modality"] == "DX"
    assert UTC_Z.match(s["study_start_datetime"]) and UTC_Z.match(s["create_time"])
    assert s["patient_dob"] == "1980-05-01T00:00:00.000000Z"
    today = date.today()
    expected_years = today.year - 1980 - ((today.month, today.day) < (5, 1))
    assert s["patient_age"] == f"{expected_years:03d}Y"
    # one series per procedure, one per directly chosen view
    procedure, direct = s["series"]
    assert procedure["procedure_id"] == "P0-0002" and procedure["performed_protocol_code_value"] == "P0-0002"
    assert procedure["performed_protocol_code_meaning"] == "Skull AP + LAT" and procedure["body_part"] == "Human_SKULL"
    assert [i["view_id"] for i in procedure["images"]] == ["View_DX_T_A_SK_AP_00", "View_DX_T_A_SK_LAT_00"]
    assert direct["procedure_id"] == "" and [i["view_id"] for i in direct["images"]] == ["View_DX_T_A_CH_PA_00"]
    assert [x["sort"] for x in s["series"]] == [1, 2] and [i["sort"] for i in images_of(s)] == [1, 2, 3]
    for img in images_of(s):
        assert (img["expose_status"], img["judged_status"], img["send_status"], img["storage_status"]) == (
            "Unexposed",
            "NotJudged",
            "Unsent",
            "NotSaved",
        )
        assert img["study_id"] == s["study_id"] and img["study_instance_uid"] == s["study_instance_uid"]
    assert images_of(s)[0]["view_description"] == "Skull AP"


def test_register_chinese_descriptions(client, auth_headers):
    s = register(client, auth_headers(language="zh_CN"))
    assert s["series"][0]["performed_protocol_code_meaning"] == "颅骨前后位 + 侧位"
    assert images_of(s)[0]["view_description"] == "颅骨前后位"


def test_register_veterinary_study(client, auth_headers):
    s = register(client, auth_headers(product="VETDROS"), DOG)
    assert s["product"] == "VETDROS" and s["patient_type"] == "Dog" and s["study_type"] == "Emergency"
    assert (s["owner_name"], s["chip_number"], s["variety"], s["sex_neutered"]) == (
        "主人孙某",
        "CHIP123456789",
        "Golden Retriever",
        "ALTERED",
    )
    assert s["is_anaesthesia"] is True and s["is_sedation"] is False
    assert re.fullmatch(r"\d{3}[MY]", s["patient_age"])
    assert len(s["series"]) == 1 and len(images_of(s)) == 2


def test_given_age_is_normalized_to_dicom_as(client, auth_headers):
    assert register(client, auth_headers(), patient_age="5Y")["patient_age"] == "005Y"
    assert register(client, auth_headers(), patient_age="11m", patient_dob=None)["patient_age"] == "011M"


def test_study_ids_are_unique_in_a_burst(client, auth_headers):
    h = auth_headers()
    ids = [register(client, h, views=[HUMAN["views"][2]])["study_id"] for _ in range(15)]
    assert len(set(ids)) == 15


def test_study_id_generator_same_millisecond():
    from datetime import datetime

    from dros.domain.study.values import StudyIdGenerator

    gen = StudyIdGenerator()
    now = datetime(2025, 10, 13, 12, 52, 24, 825000, tzinfo=UTC)
    ids = [gen.next(now) for _ in range(2000)]
    assert len(set(ids)) == 2000 and all(len(i) == 15 for i in ids)
    again = StudyIdGenerator(last_issued=ids[-1])
    assert again.next(now) > ids[-1]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"accession_number": None}, "accession_number"),
        ({"accession_number": "A" * 17}, "accession_number"),
        ({"patient_id": "P" * 65}, "patient_id"),
        ({"patient_id": ""}, "patient_id"),
        ({"patient_name": None}, "patient_name"),
        ({"patient_name": "   "}, "patient_name"),
        ({"patient_name": "A=B=C=D"}, "patient_name"),
        ({"patient_name": "X" * 65}, "patient_name"),
        ({"patient_name": 42}, "patient_name"),
        ({"patient_sex": "X"}, "patient_sex"),
        ({"patient_size": "Huge"}, "patient_size"),
        ({"study_type": "normal"}, "study_type"),
        ({"modality": "CT"}, "modality"),
        ({"patient_type": "Martian"}, "patient_type"),
        ({"patient_type": "Dog"}, "patient_type"),
        ({"patient_dob": "01/05/1980"}, "patient_dob"),
        ({"patient_dob": "2999-01-01T00:00:00Z"}, "patient_dob"),
        ({"patient_age": "5 years"}, "patient_age"),
        ({"weight": -1}, "weight"),
        ({"thickness": "thick"}, "thickness"),
        ({"is_anaesthesia": "maybe"}, "is_anaesthesia"),
        ({"pregnancy_status": "5"}, "pregnancy_status"),
        ({"accession_number": "A\\B"}, "accession_number"),
        ({"views": []}, "views"),
        ({"views": [{"procedure_id": ""}]}, "views[0].view_id"),
        ({"views": [{"view_id": "View_Nope", "procedure_id": ""}]}, "views[0].view_id"),
        ({"views": [{"view_id": "View_DX_T_A_SK_AP_00", "procedure_id": "P9-9999"}]}, "views[0].procedure_id"),
        ({"views": [{"view_id": "View_DX_T_A_CH_PA_00", "procedure_id": "P0-0002"}]}, "views[0].view_id"),
        ({"owner_name": "someone"}, "owner_name"),
        ({"sex_neutered": "ALTERED"}, "sex_neutered"),
    ],
)
def test_register_refusals_name_the_field(client, auth_headers, changes, field):
    r = client.post(STUDY, headers=auth_headers(), json=body(HUMAN, **changes))
    assert_error(r, 400, ErrorCode.INVALID_PARAMETER, field)


def test_products_are_kept_apart(client, auth_headers):
    r = client.post(STUDY, headers=auth_headers(product="VETDROS"), json=HUMAN)
    assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "pregnancy_status")
    r = client.post(STUDY, headers=auth_headers(product="VETDROS"), json=body(HUMAN, pregnancy_status=None))
    assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "patient_type")
    r = client.post(STUDY, headers=auth_headers(product="VETDROS"), json=body(DOG, views=HUMAN["views"]))
    assert_error(r, 400, ErrorCode.INVALID_PARAMETER, "views[0].view_id")


def test_guest_cannot_register_or_read(client, auth_headers):
    assert_error(client.post(STUDY, headers=auth_headers("guest"), json=HUMAN), 403, ErrorCode.FORBIDDEN)
    assert_error(client.get(STUDY + "/", headers=auth_headers("guest")), 403, ErrorCode.FORBIDDEN)


# ---- list ---------------------------------------------------------------------------------------


def ids(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["study_id"] for s in r.json()["data"]["studies"]]


def test_list_newest_first_with_total_count_and_paging(client, auth_headers):
    h = auth_headers()
    made = [register(client, h, patient_name=f"Patient^{i}", views=[HUMAN["views"][2]])["study_id"] for i in range(5)]
    r = client.get(STUDY + "/", headers=h, params={"page_size": 2})
    data = r.json()["data"]
    assert data["@type"] == "type.googleapis.com/dr.study.StudyList" and data["count"] == 5
    assert ids(r) == made[::-1][:2]
    assert all(s["series"] == [] for s in data["studies"])
    assert ids(client.get(STUDY + "/", headers=h, params={"page": 3, "page_size": 2})) == [made[0]]
    r = client.get(STUDY, headers=h, params={"page": 9, "page_size": 2})  # without the trailing slash
    assert r.json()["data"]["count"] == 5 and ids(r) == []


def test_list_honours_the_product(client, auth_headers):
    human = register(client, auth_headers(product="DROS"), views=[HUMAN["views"][2]])
    pet = register(client, auth_headers(product="VETDROS"), DOG)
    r = client.get(STUDY + "/", headers=auth_headers(product="DROS"))
    assert ids(r) == [human["study_id"]] and r.json()["data"]["count"] == 1
    r = client.get(STUDY + "/", headers=auth_headers(product="VETDROS"))
    assert ids(r) == [pet["study_id"]] and r.json()["data"]["count"] == 1
    # without the header the installation's product (DROS here) applies
    plain = {k: v for k, v in auth_headers().items() if k != "Product"}
    assert ids(client.get(STUDY + "/", headers=plain)) == [human["study_id"]]


def test_list_fuzzy_filters(client, auth_headers):
    h = auth_headers()
    a = register(
        client, h, patient_name="Zhang^San", patient_id="HX-123", accession_number="ACC-9", views=[HUMAN["views"][2]]
    )
    b = register(
        client,
        h,
        patient_name="王小明",
        patient_english_name="Wang Xiaoming",
        patient_id="HX-999",
        accession_number="Z77",
        views=[HUMAN["views"][2]],
    )
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "zHaNg"})) == [a["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "小明"})) == [b["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "xiaoming"})) == [b["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"id": "hx-"})) == [b["study_id"], a["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"acc_no": "c-9"})) == [a["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "%"})) == []
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "zhang", "acc_no": "z77"})) == []


def test_list_time_window_with_offsets_and_nanoseconds(client, auth_headers):
    h = auth_headers()
    s = register(client, h, views=[HUMAN["views"][2]])
    start = s["study_start_datetime"]
    day = start[:10]
    inside = {"start_time": f"{day}T00:00:00.000000000Z", "end_time": f"{day}T23:59:59.999999999Z"}
    assert ids(client.get(STUDY + "/", headers=h, params=inside)) == [s["study_id"]]
    # the same instant in UTC+8 notation
    assert ids(client.get(STUDY + "/", headers=h, params={"start_time": start.replace("Z", "+00:00")})) == [
        s["study_id"]
    ]
    assert ids(client.get(STUDY + "/", headers=h, params={"end_time": "2000-01-01T00:00:00.000+08:00"})) == []


def test_list_status_filter(client, auth_headers, app):
    h = auth_headers()
    a = register(client, h, views=[HUMAN["views"][2]])
    b = register(client, h, views=[HUMAN["views"][2]])
    app.state.db.write_sync(
        lambda c: c.execute("UPDATE study SET study_status = 'Completed' WHERE study_id = ?", [a["study_id"]])
    )
    assert ids(client.get(STUDY + "/", headers=h)) == [b["study_id"]]  # default Arrived,InProgress
    assert ids(client.get(STUDY + "/", headers=h, params={"status": "Completed"})) == [a["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"status": "Arrived,Completed"})) == [
        b["study_id"],
        a["study_id"],
    ]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 10001}, "page_size"),
        ({"status": "Done"}, "status"),
        ({"status": ","}, "status"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"end_time": "2025-06-19"}, "end_time"),
        ({"start_time": "2025-06-20T00:00:00Z", "end_time": "2025-06-19T00:00:00Z"}, "end_time"),
        ({"name": "n" * 65}, "name"),
    ],
)
def test_list_bad_query(client, auth_headers, params, field):
    assert_error(
        client.get(STUDY + "/", headers=auth_headers(), params=params), 400, ErrorCode.INVALID_PARAMETER, field
    )


# ---- detail, edit, lock, stat -------------------------------------------------------------------


def test_get_and_stat(client, auth_headers, app):
    from tests.studies import expose

    h = auth_headers()
    s = register(client, h)
    got = client.get(f"{STUDY}/{s['study_id']}", headers=h).json()["data"]
    assert got == s
    expose(app, s, images_of(s)[0])
    stat = client.get(f"{STUDY}/{s['study_id']}/stat", headers=h).json()["data"]
    assert stat == {"@type": "type.googleapis.com/dr.study.Stat", "total": 3, "exposed": 1}


def test_unknown_ids_answer_404(client, auth_headers):
    h = auth_headers()
    assert_error(client.get(f"{STUDY}/999", headers=h), 404, ErrorCode.NOT_FOUND, "id")
    assert_error(client.get(f"{STUDY}/999/stat", headers=h), 404, ErrorCode.NOT_FOUND, "id")
    assert_error(client.put(f"{STUDY}/999/lock", headers=h, json={"lock": "Locked"}), 404, ErrorCode.NOT_FOUND, "id")
    upd = {k: HUMAN[k] for k in ("accession_number", "patient_id", "patient_name", "patient_size", "patient_sex")}
    assert_error(client.put(f"{STUDY}/999", headers=h, json=upd), 404, ErrorCode.NOT_FOUND, "id")


def _update(**over):
    u = {
        "accession_number": "ACC-NEW",
        "patient_id": "P-0002",
        "patient_name": "Li^Si",
        "patient_size": "Small",
        "patient_sex": "F",
        "patient_age": "4Y",
        "patient_dob": "2021-06-11T03:12:36.181739Z",
        "weight": 35,
        "thickness": 25,
        "length": 70,
        "comment": "edited",
        "operator_id": "OP1",
        "is_anaesthesia": "false",
    }
    u.update(over)
    return {k: v for k, v in u.items() if v is not None}


def test_update_study(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    r = client.put(f"{STUDY}/{s['study_id']}", headers=h, json=_update())
    u = r.json()["data"]
    assert (u["accession_number"], u["patient_name"], u["patient_sex"], u["patient_age"], u["weight"]) == (
        "ACC-NEW",
        "Li^Si",
        "F",
        "004Y",
        35,
    )
    assert u["patient_dob"] == "2021-06-11T03:12:36.181739Z" and u["is_edited"] is True and u["operator_name"] == "OP1"
    assert u["series"] == s["series"] and u["study_instance_uid"] == s["study_instance_uid"]
    assert client.get(f"{STUDY}/{s['study_id']}", headers=h).json()["data"]["patient_name"] == "Li^Si"
    # found by the new name, not the old
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "li^si"})) == [s["study_id"]]
    assert ids(client.get(STUDY + "/", headers=h, params={"name": "zhang"})) == []


@pytest.mark.parametrize(
    "over, field",
    [
        ({"patient_sex": None}, "patient_sex"),
        ({"patient_sex": ""}, "patient_sex"),
        ({"owner_name": "x"}, "owner_name"),
        ({"accession_number": "A" * 20}, "accession_number"),
    ],
)
def test_update_refusals(client, auth_headers, over, field):
    h = auth_headers()
    s = register(client, h)
    assert_error(
        client.put(f"{STUDY}/{s['study_id']}", headers=h, json=_update(**over)), 400, ErrorCode.INVALID_PARAMETER, field
    )


def test_lock_blocks_edit_and_delete_and_toggles(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    sid = s["study_id"]
    r = client.put(f"{STUDY}/{sid}/lock", headers=h, json={"lock": "Locked"})
    assert r.json()["data"] == {}
    assert client.get(f"{STUDY}/{sid}", headers=h).json()["data"]["study_lock"] == "Locked"
    assert_error(client.put(f"{STUDY}/{sid}", headers=h, json=_update()), 409, ErrorCode.LOCKED)
    assert_error(client.request("DELETE", STUDY, headers=h, json=[sid]), 409, ErrorCode.LOCKED)
    assert_error(
        client.post("/dr/api/v1/auth/image", headers=h, json={"study_id": sid, "views": [HUMAN["views"][2]]}),
        409,
        ErrorCode.LOCKED,
    )
    client.put(f"{STUDY}/{sid}/lock", headers=h, json={"lock": "Unlocked"})
    assert client.put(f"{STUDY}/{sid}", headers=h, json=_update()).status_code == 200


@pytest.mark.parametrize("payload", [{"lock": "locked"}, {"lock": True}, {}])
def test_lock_bad_values(client, auth_headers, payload):
    h = auth_headers()
    s = register(client, h)
    assert_error(
        client.put(f"{STUDY}/{s['study_id']}/lock", headers=h, json=payload), 400, ErrorCode.INVALID_PARAMETER, "lock"
    )


# ---- delete to the recycle bin ------------------------------------------------------------------


def test_delete_batch_to_bin(client, auth_headers, app):
    from tests.studies import expose

    h = auth_headers("tech")
    a, b, c = (register(client, h) for _ in range(3))
    expose(app, a, images_of(a)[0])
    r = client.request("DELETE", STUDY, headers=h, json=[a["study_id"], b["study_id"]])
    assert r.json()["data"] == {"@type": "type.googleapis.com/dr.study.Stat", "total": 6, "exposed": 1}
    assert ids(client.get(STUDY + "/", headers=h)) == [c["study_id"]]
    assert_error(client.get(f"{STUDY}/{a['study_id']}", headers=h), 404, ErrorCode.NOT_FOUND)
    files = app.state.study_service.files
    assert not files.live_dir(a["study_id"]).exists() and any(files.bin_dir(a["study_id"]).iterdir())


def test_delete_batch_is_all_or_nothing(client, auth_headers):
    h = auth_headers()
    a, b = register(client, h), register(client, h)
    client.put(f"{STUDY}/{b['study_id']}/lock", headers=h, json={"lock": "Locked"})
    r = client.request("DELETE", STUDY, headers=h, json=[a["study_id"], b["study_id"], "404404"])
    body_ = assert_error(r, 409, ErrorCode.CONFLICT)
    failed = {f["study_id"]: f["code"] for f in body_["data"]["failed"]}
    assert failed == {b["study_id"]: ErrorCode.LOCKED.info.code, "404404": ErrorCode.NOT_FOUND.info.code}
    assert len(ids(client.get(STUDY + "/", headers=h))) == 2  # nothing deleted


@pytest.mark.parametrize("payload", [[], ["x"] * 1001, {"ids": ["1"]}, [1, 2], None])
def test_delete_bad_bodies(client, auth_headers, payload):
    r = client.request("DELETE", STUDY, headers=auth_headers(), json=payload)
    assert r.status_code == 400 and r.json()["code"] in (
        ErrorCode.INVALID_PARAMETER.info.code,
        ErrorCode.MALFORMED_BODY.info.code,
    )
