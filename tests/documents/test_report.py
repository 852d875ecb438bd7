"""Reports (§13): the PDF carries exactly what was sent, in the request's language, for both
products; saves are versioned and each version is an Encapsulated PDF instance of the study."""

from __future__ import annotations

import copy
import subprocess

import pydicom
import pytest
from PIL import Image

from tests.documents.tools import all_study_files, dciodvfy, page_ink, pdf_text, squash, study_files
from tests.studies import DOG, expose, images_of, register

PREVIEW = "/dr/api/v1/auth/report/preview"

SEED_HUMAN = {
    "headers": {
        "name": "张三",
        "sex": "男",
        "age": "18",
        "medical_record_number": "病历号MR-20931",
        "hospitalization_number": "住院号IP-5521",
        "bed_number": "床号12",
        "requesting_department": "骨科",
        "inspection_number": "检查号EX-778",
        "inspection_method": "颅脑CT平扫,胸部CT平扫,盆腔CT平扫,CT平扫-薄层扫描(加收)[头颅CT,胸部CT,骨盆CT+三维重建]",
    },
    "findings": "脑干及双侧基底节区见斑片状低密度影,脑室系统扩张,脑沟加深、脑裂增宽,中线结构居中,颅骨骨质结构完整。\n"
    "胸廓对称,两肺纹理增多,两下肺见多发索条影,两肺门无增大,气管支气管通畅。\n右侧股骨粗隆间见骨质断裂影。",
    "impression": "1.脑千及双侧基底节区腔隙性梗塞灶,脑萎缩。\n2.两下肺多发索条影;心影增大,心包积液。\n3.右侧股骨粗隆间骨折。",
    "radiologist": "Tom",
    "review_physician": "Jerry",
}

ENGLISH_VET = {
    "headers": {
        "name": "Buddy",
        "sex": "Male neutered",
        "age": "4Y",
        "requesting_department": "Small animal surgery",
        "inspection_number": "VET-7",
        "inspection_method": "Thorax, lateral and ventro-dorsal",
        "patient_type": "Dog",
        "owner_name": "Mary Smith",
    },
    "findings": "Cardiac silhouette within normal limits.\nMild bronchial pattern in the caudal lung lobes.",
    "impression": "Mild bronchitis; no cardiomegaly.",
    "radiologist": "Dr. Hart",
    "review_physician": "Dr. Lee",
}


def sent_values(body: dict) -> list[str]:
    values = [v for v in body["headers"].values() if v]
    values += [line for key in ("findings", "impression") for line in body[key].split("\n")]
    return [*values, body["radiologist"], body["review_physician"]]


def assert_pdf_shows(pdf: bytes, body: dict, tmp_path, *expected_labels: str) -> str:
    assert pdf.startswith(b"%PDF-")
    assert b"pdfaid:part>2<" in pdf and b"pdfaid:conformance>U<" in pdf  # PDF/A-2u (archival, Unicode text)
    text = squash(pdf_text(pdf, tmp_path))
    for value in [*sent_values(body), *expected_labels]:
        assert squash(value) in text, f"{value!r} not found in the PDF text"
    ink = page_ink(pdf, tmp_path)
    assert ink and all(share > 0.01 for share in ink), ink
    return text


CASES = [
    ("DROS", "zh_CN", SEED_HUMAN, ("医学影像检查报告", "影像所见", "诊断意见", "病历号", "住院号", "床号")),
    ("DROS", "en_US", SEED_HUMAN, ("Radiology Report", "Findings", "Impression", "Medical record no.", "Bed no.")),
    ("VETDROS", "zh_CN", ENGLISH_VET, ("宠物影像检查报告", "宠物类别", "主人姓名", "影像所见")),
    ("VETDROS", "en_US", ENGLISH_VET, ("Veterinary Radiology Report", "Species", "Owner", "Findings")),
]


@pytest.mark.parametrize(("product", "language", "body", "labels"), CASES)
def test_preview_in_both_languages_and_products(client, auth_headers, tmp_path, product, language, body, labels):
    r = client.post(PREVIEW, headers=auth_headers(product=product, language=language), json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/pdf")
    text = assert_pdf_shows(r.content, body, tmp_path, *labels, "示例动物医院ExampleClinic")
    other = {"DROS": ("宠物类别", "Species"), "VETDROS": ("病历号", "Medical record no.")}[product]
    assert not any(squash(label) in text for label in other)  # the other product's template is not used


def test_preview_with_study_shows_its_date_and_accepted_images(client, auth_headers, app, tmp_path):
    h = auth_headers()
    study = register(client, h)
    first, second, third = images_of(study)
    expose(app, study, first)
    expose(app, study, second)
    body = {**SEED_HUMAN, "study_id": study["study_id"]}
    r = client.post(PREVIEW, headers=h, json=body)
    assert r.status_code == 200, r.text
    text = assert_pdf_shows(r.content, SEED_HUMAN, tmp_path, first["view_description"], second["view_description"])
    assert squash(third["view_description"]) not in text  # not exposed: not on the page
    assert study["study_start_datetime"][:4] in text
    (tmp_path / "img.pdf").write_bytes(r.content)
    listing = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "img.pdf")], capture_output=True, text=True, check=True
    )
    assert len(listing.stdout.strip().splitlines()) - 2 == 2  # two images placed (two header lines)


def test_save_is_versioned_and_each_version_is_an_encapsulated_pdf(client, auth_headers, app, settings, tmp_path):
    h = auth_headers(language="zh_CN")
    study = register(client, h)
    expose(app, study, images_of(study)[0])
    url = f"/dr/api/v1/auth/study/{study['study_id']}/report"
    first = client.post(url, headers=h, json=SEED_HUMAN)
    assert first.status_code == 200, first.text
    assert first.json()["code"] == "0x000000" and first.json()["data"]["version"] == 1
    amended = copy.deepcopy(SEED_HUMAN)
    amended["impression"] = "修订：右侧股骨粗隆间骨折,建议CT复查。"
    second = client.post(url, headers=h, json=amended)
    assert second.status_code == 200 and second.json()["data"]["version"] == 2
    latest = client.get(url, headers=h)
    assert latest.status_code == 200 and latest.headers["content-type"].startswith("application/pdf")
    assert squash("修订：右侧股骨粗隆间骨折") in squash(pdf_text(latest.content, tmp_path))
    earlier = client.get(url, headers=h, params={"version": 1})
    assert earlier.status_code == 200
    assert_pdf_shows(earlier.content, SEED_HUMAN, tmp_path)
    assert squash("修订") not in squash(pdf_text(earlier.content, tmp_path))
    assert client.get(url, headers=h, params={"version": 3}).status_code == 404
    folder = settings.data_path / "studies" / study["study_id"]
    instances = []
    for reply, pdf in ((first, earlier.content), (second, latest.content)):
        path = folder / reply.json()["data"]["path"]
        errors, report = dciodvfy(path)
        assert errors == 0, report
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1" and ds.Modality == "DOC"
        assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
        assert bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength] == pdf
        assert ds.StudyInstanceUID == study["study_instance_uid"] and ds.DocumentTitle == "医学影像检查报告"
        instances.append(ds)
    assert instances[0].SeriesInstanceUID == instances[1].SeriesInstanceUID  # one report series
    # the page shows the exposed image: the document names it as its source (Type 1C)
    shown = images_of(study)[0]["sop_instance_uid"]
    for ds in instances:
        assert [i.ReferencedSOPInstanceUID for i in ds.SourceInstanceSequence] == [shown]
        assert ds.SourceInstanceSequence[0].ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.1.1"
    assert [int(d.InstanceNumber) for d in instances] == [1, 2]
    after = client.get(f"/dr/api/v1/auth/study/{study['study_id']}", headers=h).json()["data"]
    reports = [i for i in images_of(after) if i["image_type"] == "report"]
    assert sorted(i["sop_instance_uid"] for i in reports) == sorted(d.SOPInstanceUID for d in instances)
    for row in reports:  # the first page as the study strip's thumbnail
        thumb = Image.open(folder / row["thumbnail_file"])
        assert thumb.format == "WEBP" and max(thumb.size) <= 512 and thumb.size[1] > thumb.size[0]


def test_long_report_flows_onto_more_pages(client, auth_headers, tmp_path):
    body = copy.deepcopy(SEED_HUMAN)
    body["findings"] = "\n".join(f"第{n}段：" + "两肺纹理增多,两下肺见多发索条影。" * 6 for n in range(1, 41))
    r = client.post(PREVIEW, headers=auth_headers(language="zh_CN"), json=body)
    assert r.status_code == 200, r.text
    # a paragraph may break across pages (the footer then sits inside it in the extracted text):
    # every paragraph's start, in order, and everything after the findings must be there
    text = squash(pdf_text(r.content, tmp_path))
    starts = [text.index(f"第{n}段：两肺纹理增多") for n in range(1, 41)]
    assert starts == sorted(starts)
    for value in [*body["impression"].split("\n"), "Tom", "Jerry", "诊断意见"]:
        assert squash(value) in text
    ink = page_ink(r.content, tmp_path)
    assert len(ink) >= 2 and all(share > 0.01 for share in ink), ink


def test_vet_report_uses_the_vet_template_from_the_study(client, auth_headers, settings, tmp_path):
    """The study's product decides the template, whatever the Product header says."""
    study = register(client, auth_headers(product="VETDROS"), DOG)
    h = auth_headers(product="DROS", language="en_US")
    r = client.post(f"/dr/api/v1/auth/study/{study['study_id']}/report", headers=h, json=ENGLISH_VET)
    assert r.status_code == 200, r.text
    pdf = client.get(f"/dr/api/v1/auth/study/{study['study_id']}/report", headers=h).content
    assert_pdf_shows(pdf, ENGLISH_VET, tmp_path, "Veterinary Radiology Report", "Species")
    ds = pydicom.dcmread(settings.data_path / "studies" / study["study_id"] / r.json()["data"]["path"])
    assert ds.PatientSpeciesDescription == "Dog"
    errors, report = dciodvfy(settings.data_path / "studies" / study["study_id"] / r.json()["data"]["path"])
    assert errors == 0, report


def test_no_report_unknown_and_locked_studies(client, auth_headers, settings):
    h = auth_headers()
    study = register(client, h)
    url = f"/dr/api/v1/auth/study/{study['study_id']}/report"
    r = client.get(url, headers=h)
    assert r.status_code == 404 and r.json()["code"] == "0x030001" and r.json()["data"]["field"] == "id"
    assert "no saved report" in r.json()["description"]
    r = client.post("/dr/api/v1/auth/study/999999999999999/report", headers=h, json=SEED_HUMAN)
    assert r.status_code == 404 and r.json()["data"]["field"] == "id"
    r = client.post(PREVIEW, headers=h, json={**SEED_HUMAN, "study_id": "999999999999999"})
    assert r.status_code == 404 and r.json()["data"]["field"] == "study_id"
    assert client.put(f"{url[:-7]}/lock", headers=h, json={"lock": "Locked"}).status_code == 200
    before = all_study_files(settings.data_path)
    r = client.post(url, headers=h, json=SEED_HUMAN)
    assert r.status_code == 409 and r.json()["code"] == "0x030003"
    assert all_study_files(settings.data_path) == before and study_files(settings.data_path, study["study_id"]) == set()
    assert client.get(url, headers=h).status_code == 404


def _without(key: str) -> dict:
    body = copy.deepcopy(SEED_HUMAN)
    body.pop(key)
    return body


BAD_BODIES = {
    "no_findings": (_without("findings"), "findings"),
    "no_headers": (_without("headers"), "headers"),
    "findings_not_text": ({**SEED_HUMAN, "findings": ["a"]}, "findings"),
    "name_too_long": ({**SEED_HUMAN, "headers": {**SEED_HUMAN["headers"], "name": "x" * 129}}, "headers.name"),
    "control_character": ({**SEED_HUMAN, "impression": "ok\x07bell"}, "impression"),
    "control_in_header": (
        {**SEED_HUMAN, "headers": {**SEED_HUMAN["headers"], "bed_number": "1\x002"}},
        "headers.bed_number",
    ),
    "findings_too_long": ({**SEED_HUMAN, "findings": "长" * 20_001}, "findings"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_report_bodies_name_the_field(client, auth_headers, settings, case):
    h = auth_headers(language="zh_CN")
    study = register(client, h)
    body, field = BAD_BODIES[case]
    r = client.post(PREVIEW, headers=h, json=body)
    assert r.status_code == 400 and r.json()["data"]["field"] == field, r.text
    r = client.post(f"/dr/api/v1/auth/study/{study['study_id']}/report", headers=h, json=body)
    assert r.status_code == 400 and r.json()["data"]["field"] == field, r.text
    assert study_files(settings.data_path, study["study_id"]) == set()


def test_report_routes_live_beside_the_study_routes(client, auth_headers):
    h = auth_headers()
    study = register(client, h)
    sid = study["study_id"]
    assert client.post(f"/api/v1/auth/study/{sid}/report", headers=h, json=SEED_HUMAN).status_code == 200
    assert (
        client.get(f"/api/v1/auth/study/{sid}/report", headers=h).headers["content-type"].startswith("application/pdf")
    )
    assert client.get(f"/api/v1/auth/study/{sid}", headers=h).json()["data"]["study_id"] == sid
    assert client.get(f"/api/v1/auth/study/{sid}/stat", headers=h).status_code == 200


def test_lone_surrogate_and_dot_ids_are_client_errors(client, auth_headers):
    h = auth_headers()
    raw = '{"headers": {}, "findings": "a\\ud800b", "impression": "", "radiologist": "", "review_physician": ""}'
    r = client.post(PREVIEW, headers={**h, "Content-Type": "application/json"}, content=raw.encode())
    assert r.status_code == 400, r.text
    r = client.post("/dr/api/v1/auth/study/../report", headers=h, json=SEED_HUMAN)
    assert 400 <= r.status_code < 500, r.text
    r = client.post("/dr/api/v1/auth/study/%2E%2E/report", headers=h, json=SEED_HUMAN)
    assert 400 <= r.status_code < 500, r.text


def test_markup_in_the_text_is_printed_literally(client, auth_headers, tmp_path):
    """Values reach typst as data, never as markup: typst syntax comes out as typed."""
    literal = '#set page(width: 1cm) *bold* _x_ $x^2$ [a] <b> @c `d` \\ #"e" = f // g'
    body = {**SEED_HUMAN, "findings": literal, "headers": {**SEED_HUMAN["headers"], "name": "#panic()"}}
    r = client.post(PREVIEW, headers=auth_headers(), json=body)
    assert r.status_code == 200, r.text
    text = squash(pdf_text(r.content, tmp_path))
    assert squash(literal) in text and "#panic()" in text


def test_without_language_header_the_system_language_applies(client, auth_headers, tmp_path):
    h = {k: v for k, v in auth_headers().items() if k != "Language"}
    assert client.post("/dr/api/v1/auth/manage/language", headers=h, json={"lang": "zh_CN"}).status_code == 200
    try:
        r = client.post(PREVIEW, headers=h, json=ENGLISH_VET)
        assert r.status_code == 200, r.text
        text = squash(pdf_text(r.content, tmp_path))
        assert "医学影像检查报告" in text and "影像所见" in text and "Findings" not in text
    finally:
        assert client.post("/dr/api/v1/auth/manage/language", headers=h, json={"lang": "en_US"}).status_code == 200
    text = squash(pdf_text(client.post(PREVIEW, headers=h, json=ENGLISH_VET).content, tmp_path))
    assert "RadiologyReport" in text and "Findings" in text


def test_deleting_the_report_instance_withdraws_that_version(client, auth_headers, tmp_path):
    h = auth_headers()
    study = register(client, h)
    url = f"/dr/api/v1/auth/study/{study['study_id']}/report"
    first = client.post(url, headers=h, json=SEED_HUMAN).json()["data"]
    second = client.post(url, headers=h, json={**SEED_HUMAN, "impression": "第二版"}).json()["data"]
    gone = client.delete(f"/dr/api/v1/auth/image/{second['sop_instance_uid']}", headers=h)
    assert gone.status_code == 200, gone.text
    latest = client.get(url, headers=h)
    assert latest.status_code == 200 and "第二版" not in squash(pdf_text(latest.content, tmp_path))
    assert latest.headers["content-disposition"].endswith('-v1.pdf"')
    assert client.get(url, headers=h, params={"version": 2}).status_code == 404
    third = client.post(url, headers=h, json=SEED_HUMAN).json()["data"]
    assert (first["version"], third["version"]) == (1, 3)  # numbers never repeat


def test_minimal_body_renders_an_empty_form(client, auth_headers, tmp_path):
    """Every header field may be left out (human-only and pet-only ones cannot all be sent)."""
    minimal = {"headers": {}, "findings": "", "impression": "", "radiologist": "", "review_physician": ""}
    for product in ("DROS", "VETDROS"):
        r = client.post(PREVIEW, headers=auth_headers(product=product), json=minimal)
        assert r.status_code == 200, r.text
        assert "Findings" in pdf_text(r.content, tmp_path)
