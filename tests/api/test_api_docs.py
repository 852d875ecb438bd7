"""The API docs page works offline: everything it loads comes from the service itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.metadata import version

import pytest

from dros.api_docs import ASSETS
from dros.errors import ErrorCode
from tests.api.test_envelope import assert_error


class _Refs(HTMLParser):
    """Every URL the browser would fetch by itself: src of scripts/images, href of link tags."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and (name == "src" or (tag == "link" and name == "href")):
                self.urls.append(value)


def _page(client) -> str:
    r = client.get("/schema/swagger")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    return r.text


def test_swagger_page_references_only_local_urls(client):
    page = _page(client)
    refs = _Refs()
    refs.feed(page)
    assert len(refs.urls) == 4, refs.urls  # bundle, preset, stylesheet, icon
    for url in refs.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    # outside the embedded schema (which may quote addresses in its texts) the page names no host at all
    head = page.split("<body", 1)[0]
    script = page[page.index("SwaggerUIBundle({") :]
    assert not re.search(r"https?://|//cdn|jsdelivr|unpkg", head), head
    assert not re.search(r"(url|configUrl|validatorUrl)\s*:", script)


def test_every_asset_the_page_loads_is_served(client):
    refs = _Refs()
    refs.feed(_page(client))
    served = set()
    for url in refs.urls:
        r = client.get(url)
        assert r.status_code == 200, url
        name = url.rsplit("/", 1)[1]
        assert r.headers["content-type"].split(";")[0] == ASSETS[name]
        assert len(r.content) > 1000
        served.add(name)
    assert served == set(ASSETS)
    bundle = client.get("/schema/assets/swagger-ui-bundle.js").text
    # Swagger UI 5 is the first to read OpenAPI 3.1, which is what the service writes
    ui_version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert ui_version and int(ui_version.group(1)) >= 5
    assert client.get("/schema/openapi.json").json()["openapi"].startswith("3.1")
    assert version("swagger-ui-py") == "25.7.1"


@pytest.mark.parametrize("name", ["index.html", "swagger-editor-bundle.js", "LICENSE", "__init__.py"])
def test_only_the_listed_assets_are_served(client, name):
    assert_error(client.get(f"/schema/assets/{name}"), 404, ErrorCode.NOT_FOUND, "name")


def test_no_path_leaves_the_asset_folder(client):
    assert_error(client.get("/schema/assets/..%2F..%2F__init__.py"), 404, ErrorCode.ROUTE_NOT_FOUND)


def test_schema_does_not_list_the_asset_route(client):
    assert not any(p.startswith("/schema") for p in client.get("/schema/openapi.json").json()["paths"])
