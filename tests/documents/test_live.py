"""Through the real `dros serve` (granian, HTTP on 127.0.0.1): a vet in a Chinese-language clinic
saves a report for a dog's thorax study, opens the PDF, selects the Chinese text, and finds the
same report as a DICOM document in the study next to the images; the patient's portrait too."""

from __future__ import annotations

import base64
import shutil

import pydicom

from tests.conftest import PASSWORD, start_server, stop_server
from tests.documents.tools import dciodvfy, pdf_text, photo, png_b64, squash
from tests.studies import DOG, body

REPORT = {
    "headers": {
        "name": "旺财",
        "sex": "公（已绝育）",
        "age": "4岁",
        "requesting_department": "小动物外科",
        "inspection_number": "VET-7",
        "inspection_method": "犬胸部右侧位 + 腹背位",
        "patient_type": "犬",
        "owner_name": "主人孙某",
    },
    "findings": "心影大小形态未见异常。\n后叶肺野可见轻度支气管纹理增多。",
    "impression": "轻度支气管炎；未见心脏增大。",
    "radiologist": "李医生",
    "review_physician": "王医生",
}


def test_vet_chinese_clinic_report_and_portrait_through_the_live_server(tmp_path, template_data_dir):
    shutil.copytree(template_data_dir, tmp_path / "live")  # already initialised: no first-start hashing
    server = start_server(
        tmp_path / "live", extra_env={"DROS_DICOM_INSTITUTION_NAME": "安心动物医院", "DROS_PRODUCT": "VETDROS"}
    )
    try:
        with server.client() as c:
            token = c.post("/dr/api/v1/pub/login", json={"username": "tech", "password": PASSWORD}).json()["data"][
                "token"
            ]
            h = {"Authorization": f"Bearer {token}", "Language": "zh_CN", "Product": "VETDROS"}
            study = c.post("/dr/api/v1/auth/study", headers=h, json=body(DOG)).json()["data"]
            sid = study["study_id"]
            saved = c.post(f"/dr/api/v1/auth/study/{sid}/report", headers=h, json=REPORT)
            assert saved.status_code == 200, saved.text
            assert saved.json()["description"] == "成功"
            pdf = c.get(f"/dr/api/v1/auth/study/{sid}/report", headers=h)
            assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
            text = squash(pdf_text(pdf.content, tmp_path))
            for value in [
                "安心动物医院",
                "宠物影像检查报告",
                "影像所见",
                "诊断意见",
                "旺财",
                "主人孙某",
                "犬",
                *REPORT["findings"].split("\n"),
                REPORT["impression"],
                "李医生",
                "王医生",
            ]:
                assert squash(value) in text, value
            portrait = c.post(
                "/api/v1/auth/study/portrait",
                headers=h,
                json={"instance_uid": study["study_instance_uid"], "data": png_b64(photo())},
            )
            assert portrait.status_code == 200, portrait.text
            after = c.get(f"/dr/api/v1/auth/study/{sid}", headers=h).json()["data"]
            kinds = {i["image_type"]: i for s in after["series"] for i in s["images"]}
            assert {"expose", "report", "portrait"} <= set(kinds)
            assert after["portrait_file"] == portrait.json()["data"]["path"]
            # a bad portrait is refused in Chinese, naming the field
            bad = c.post(
                "/api/v1/auth/study/portrait",
                headers=h,
                json={"instance_uid": sid, "data": base64.b64encode(b"not a png").decode()},
            )
            assert (
                bad.status_code == 400 and bad.json()["data"]["field"] == "data" and "PNG" in bad.json()["description"]
            )
        folder = server.data_dir / "studies" / sid
        report_dcm = folder / kinds["report"]["image_file"]
        ds = pydicom.dcmread(report_dcm)
        assert ds.Modality == "DOC" and ds.StudyInstanceUID == study["study_instance_uid"]
        assert bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength] == pdf.content
        assert ds.InstitutionName == "安心动物医院" and ds.PatientSpeciesDescription == "Dog"
        for path in (report_dcm, folder / kinds["portrait"]["image_file"]):
            errors, report = dciodvfy(path)
            assert errors == 0, report
    finally:
        stop_server(server)
