"""One app per test module: every test here registers studies of its own, so sharing the app (and
its logins, which dominate set-up with argon2) keeps the area fast without coupling the tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from dros.app import create_app
from dros.settings import Settings
from tests.conftest import login


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, template_data_dir: Path) -> Path:
    target = tmp_path_factory.mktemp("documents") / "data"
    shutil.copytree(template_data_dir, target)
    return target


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return Settings.load(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "host": "127.0.0.1",
            "log_level": "WARNING",
            "dicom": {"institution_name": "示例动物医院 Example Clinic"},
        },
    )


@pytest.fixture(scope="module")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def token(client: TestClient[Litestar]) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def get(user: str = "admin") -> str:
        if user not in cache:
            cache[user] = login(client, user)
        return cache[user]

    return get


@pytest.fixture(scope="module")
def auth_headers(token: Callable[[str], str]) -> Callable[..., dict[str, str]]:
    def headers(user: str = "admin", product: str = "DROS", language: str = "en_US") -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token(user)}",
            "Product": product,
            "Language": language,
            "Source": "Electron",
        }

    return headers
