"""Report preview: a one-page report with two images (the study's 512-px thumbnails), through the
HTTP handler in-process (TestClient: body decoding, study lookup, typst, reply). Target ≤ 300 ms
median (issue 12). With --benchmark-disable it runs once and asserts the PDF only; the timing is
asserted only when benchmarks are enabled."""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from tests.conftest import login
from tests.documents.test_report import SEED_HUMAN
from tests.studies import expose, images_of, register

from dros import _core
from dros.app import create_app
from dros.settings import Settings

TARGET_S = 0.300


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient[Litestar], dict[str, str], str]]:
    data = tmp_path_factory.mktemp("bench-report") / "data"
    settings = Settings.load(
        environ={},
        overrides={
            "data_dir": str(data),
            "host": "127.0.0.1",
            "log_level": "WARNING",
            "dicom": {"institution_name": "示例医院"},
        },
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        h = {"Authorization": f"Bearer {login(client, 'admin')}", "Product": "DROS", "Language": "zh_CN"}
        study = register(client, h)
        rng = np.random.default_rng(12)
        y, x = np.mgrid[0:3072, 0:3072].astype(np.float32)
        frame = np.clip((0.5 + 0.3 * np.sin(x / 500) * np.cos(y / 700)) * 16383 + rng.normal(0, 40, x.shape), 0, 16383)
        for image in images_of(study)[:2]:
            dcm = expose(app, study, image)
            # a console's thumbnail: 512 px of a full detector frame
            _core.write_thumbnail(str(dcm.with_suffix(".webp")), frame.astype(np.uint16), 8192.0, 16000.0, 512)
        yield client, h, study["study_id"]


@pytest.mark.benchmark(group="report")
def test_report_preview_two_images(benchmark, served, tmp_path: Path) -> None:
    client, h, study_id = served
    body = {**SEED_HUMAN, "study_id": study_id}

    def preview() -> bytes:
        r = client.post("/dr/api/v1/auth/report/preview", headers=h, json=body)
        assert r.status_code == 200, r.text
        return r.content

    pdf = benchmark(preview)
    path = tmp_path / "preview.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE), info  # one page
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) - 2 == 2, images  # two images (after two header lines)
    if benchmark.enabled:
        times = []
        for _ in range(15):
            t = time.perf_counter()
            preview()
            times.append(time.perf_counter() - t)
        median = statistics.median(times)
        benchmark.extra_info.update(median_s=round(median, 4), pdf_bytes=len(pdf))
        assert median <= TARGET_S, f"report preview median {median * 1000:.1f} ms > {TARGET_S * 1000:.0f} ms"
