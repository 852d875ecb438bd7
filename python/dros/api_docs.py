"""The API reference (`/schema/swagger`) works on a DR host without internet: Swagger UI's files come
from a packaged copy (PyPI `swagger-ui-py`, Swagger UI 5, which reads the OpenAPI 3.1 that Litestar
writes) and are served by the service itself under `/schema/assets/`, instead of from a public CDN."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar import get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

from dros import __version__
from dros.errors import DrosError, ErrorCode

ASSETS_PATH = "/schema/assets"

#: the files the Swagger page loads, with their media types (nothing else under the package is served)
ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui-standalone-preset.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def swagger_ui_dir() -> Path:
    """The package's `static/` folder, found without importing it (its `__init__` loads web-framework glue)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (see requirements.lock)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, cache_control=None)
async def swagger_asset(name: FromPath[str]) -> File:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise DrosError(
            ErrorCode.NOT_FOUND,
            field="name",
            en=f"no API documentation asset {name!r}",
            zh=f"不存在 API 文档资源 {name!r}",
        )
    return File(
        swagger_ui_dir() / name,
        content_disposition_type="inline",
        media_type=media_type,
        # the files change only with the pinned package version
        headers={"Cache-Control": "public, max-age=86400"},
    )


def openapi_config() -> OpenAPIConfig:
    swagger = SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )
    return OpenAPIConfig(title="DROS API", version=__version__, path="/schema", render_plugins=[swagger])
