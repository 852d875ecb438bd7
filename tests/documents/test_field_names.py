"""A refused value is named by its own path in the body, whatever the field is called: a body field
named `data` (portrait, post_proc) is `data`, not the body (Litestar's own key drops every `data.`)."""

from __future__ import annotations

import pytest

from dros.validation import BODY, parse_signature

AUTH = "/dr/api/v1/auth"


@pytest.mark.parametrize(
    ("path", "body", "field", "en", "zh"),
    [
        ("/study/portrait", {"instance_uid": "1", "data": 5}, "data", "expected string, got integer", "字符串"),
        ("/study/portrait", {"data": 5}, "data", "expected string", "字符串"),
        ("/study/portrait", {"instance_uid": "1"}, "data", "required", "必填"),
        ("/study/portrait", {"instance_uid": 7, "data": "x"}, "instance_uid", "expected string", "字符串"),
        ("/report/preview", {"headers": {"name": 5}}, "headers.name", "expected string", "字符串"),
        ("/scp/store", {"sop_instance_uid": ["a"], "pacs_name": "p"}, "sop_instance_uid", "got array", "数组"),
        ("/scp/store", 5, BODY, "expected object", "对象"),
        ("/scp/store_reply", [], BODY, "expected object", "对象"),
        ("/scp/echo", {"port": "x"}, "port", "expected integer", "整数"),
    ],
)
def test_the_error_names_the_field_at_fault_in_both_languages(client, auth_headers, path, body, field, en, zh):
    for lang, text in (("en_US", en), ("zh_CN", zh)):
        r = client.post(AUTH + path, headers=auth_headers(language=lang), json=body)
        assert r.status_code == 400, r.text
        reply = r.json()
        assert reply["code"] == "0x010001" and reply["data"]["field"] == field, reply
        assert field in reply["description"] and text in reply["description"], reply


def test_query_parameters_keep_their_names(client, auth_headers):
    r = client.get(AUTH + "/study/", headers=auth_headers(), params={"page": 0})
    assert r.status_code == 400 and r.json()["data"]["field"] == "page"


@pytest.mark.parametrize(
    ("message", "param", "field"),
    [
        ("Expected `str`, got `int` - at `$.data.data`", "data", "data"),
        ("Expected `object`, got `int` - at `$.data`", "data", BODY),
        ("Expected `int`, got `str` - at `$.data[2]`", "data", "body[2]"),
        # Litestar's key for this one would be `metax`
        ("Expected `int`, got `str` - at `$.data.metadata.x`", "data", "metadata.x"),
        ("Object missing required field `data` - at `$.data`", "data", "data"),
        ("Expected `int` >= 1 - at `$.page`", "page", "page"),
    ],
)
def test_signature_paths_are_read_exactly(message, param, field):
    found = parse_signature(message)
    assert found is not None and found[0] == param and found[1].field == field


def test_a_message_without_a_path_is_left_to_the_key():
    assert parse_signature("Expected `int`, got `str`") is None
