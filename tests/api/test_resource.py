"""resource/options and resource/config."""

from __future__ import annotations

import pytest

from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error

OPT = "/dr/api/v1/auth/resource/options"
CFG = "/dr/api/v1/auth/resource/config"


def values(r) -> list[str]:
    data = r.json()["data"]
    assert data["@type"] == "type.googleapis.com/dr.resource.OptionReply"
    return [o["value"] for o in data["option"]]


def test_default_is_basic_sex_full(client, auth_headers):
    assert values(client.get(OPT, headers=auth_headers())) == ["M", "F", "O", "U"]


def test_veterinary_sex_full_adds_neutered_values(client, auth_headers):
    r = client.get(OPT, params={"group": "basic", "flag": "sex_full"}, headers=auth_headers(product="VETDROS"))
    assert values(r) == ["M", "F", "O", "U", "CM", "SF"]


def test_texts_follow_language(client, auth_headers):
    r = client.get(OPT, params={"flag": "patient_size"}, headers=auth_headers(language="zh_CN"))
    texts = {o["value"]: o["text"] for o in r.json()["data"]["option"]}
    assert texts["Small"] == "小" and texts["Large"] == "大" and "Paediatric" in texts


@pytest.mark.parametrize(
    "group, flag",
    [("basic", "pregnancy_status"), ("basic", "study_type"), ("apr_cbo", "focus"), ("apr_cbo", "work_station")],
)
def test_other_groups(client, auth_headers, group, flag):
    assert values(client.get(OPT, params={"group": group, "flag": flag}, headers=auth_headers("guest")))


@pytest.mark.parametrize(
    "params, field",
    [({"group": "nope"}, "group"), ({"flag": "nope"}, "flag"), ({"group": ""}, "group"), ({"flag": "x" * 65}, "flag")],
)
def test_unknown_group_or_flag(client, auth_headers, params, field):
    assert_error(client.get(OPT, params=params, headers=auth_headers()), 400, ErrorCode.INVALID_PARAMETER, field)


def test_config_all_and_by_uri(client, auth_headers):
    r = client.get(CFG, headers=auth_headers())
    items = {o["text"]: o["value"] for o in r.json()["data"]["option"]}
    assert items["system/product"] == "DROS" and items["dicom/uid_root"] == "2.25"
    r = client.get(CFG, params={"uri": "dicom"}, headers=auth_headers())
    assert {o["text"] for o in r.json()["data"]["option"]} == {k for k in items if k.startswith("dicom/")}
    r = client.get(CFG, params={"uri": "system/language"}, headers=auth_headers())
    assert r.json()["data"]["option"] == [{"text": "system/language", "value": "en_US"}]


def test_config_unknown_uri(client, auth_headers):
    assert_error(client.get(CFG, params={"uri": "no/such"}, headers=auth_headers()), 404, ErrorCode.NOT_FOUND, "uri")
