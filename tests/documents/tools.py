"""Helpers of the document tests: PNG bodies, the real validators and extractors (dciodvfy,
pdftotext, pdftoppm), and a listing of a study's files to prove nothing was left behind."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def png_bytes(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def png_b64(pixels: np.ndarray) -> str:
    return base64.b64encode(png_bytes(pixels)).decode()


def png16_grey(pixels: np.ndarray) -> bytes:
    """A true 16-bit greyscale PNG (colour type 0, depth 16), written by hand so its depth is certain."""
    rows, cols = pixels.shape
    raw = b"".join(b"\x00" + pixels[r].astype(">u2").tobytes() for r in range(rows))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = cols.to_bytes(4, "big") + rows.to_bytes(4, "big") + bytes([16, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def photo(rows: int = 48, cols: int = 32, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (rows, cols, 3), dtype=np.uint8)


def dciodvfy(path: Path) -> tuple[int, str]:
    """(number of errors, full report) of dicom3tools' validator."""
    out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    report = out.stdout + out.stderr
    return sum(1 for line in report.splitlines() if line.startswith("Error")), report


def pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "extract.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def squash(text: str) -> str:
    """Whitespace-free text: pdftotext puts spaces between CJK and Latin runs and breaks lines
    where the page does; the characters and their order are what must match."""
    return re.sub(r"\s+", "", text)


def page_ink(pdf: bytes, tmp: Path) -> list[float]:
    """Share of non-white pixels of each page rendered by pdftoppm at 40 dpi."""
    path = tmp / "pages.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(path), str(tmp / "page")], check=True, timeout=60)
    shares = []
    for page in sorted(tmp.glob("page-*.png")):
        grey = np.asarray(Image.open(page).convert("L"))
        shares.append(float((grey < 200).mean()))
        page.unlink()
    return shares


def study_files(data_dir: Path, study_id: str) -> set[str]:
    folder = data_dir / "studies" / study_id
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def all_study_files(data_dir: Path) -> set[str]:
    root = data_dir / "studies"
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()
