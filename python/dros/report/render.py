"""Typesetting of a report page with typst (Python binding: no browser, no external process).

The template is typst source (`templates/common.typ` + `human.typ` or `vet.typ`); the report's
content arrives as one JSON string in `sys.inputs`, so nothing a client sends is ever parsed as
markup. Fonts come only from the CJK font directory below plus typst's embedded fonts
(`ignore_system_fonts`): the same input gives the same PDF on every machine with the package.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import typst

TEMPLATES = Path(__file__).parent / "templates"

#: Debian's fonts-wqy-microhei: one TrueType collection with Latin and CJK glyphs (GB 2312 and
#: beyond), embedded as a subset with a ToUnicode map, so Chinese text in the PDF is real text.
CJK_FONT_DIRS = (Path("/usr/share/fonts/truetype/wqy"),)
CJK_FONT_FAMILY = "WenQuanYi Micro Hei"

#: The seed's header fields; both templates read every one (absent ones print empty)
HEADER_KEYS = (
    "name",
    "sex",
    "age",
    "medical_record_number",
    "hospitalization_number",
    "bed_number",
    "requesting_department",
    "inspection_number",
    "inspection_method",
    "patient_type",
    "owner_name",
)

LABELS: dict[str, dict[str, str]] = {
    "en_US": {
        "colon": ": ",
        "title_human": "Radiology Report",
        "title_vet": "Veterinary Radiology Report",
        "name": "Name",
        "sex": "Sex",
        "age": "Age",
        "medical_record_number": "Medical record no.",
        "hospitalization_number": "Inpatient no.",
        "bed_number": "Bed no.",
        "requesting_department": "Department",
        "inspection_number": "Examination no.",
        "inspection_method": "Examination",
        "patient_type": "Species",
        "owner_name": "Owner",
        "study_date": "Study date",
        "images": "Images",
        "findings": "Findings",
        "impression": "Impression",
        "radiologist": "Reporting physician",
        "review_physician": "Reviewing physician",
        "report_date": "Report date",
        "footer": "This report is valid only with the physician's signature.",
    },
    "zh_CN": {
        "colon": "：",
        "title_human": "医学影像检查报告",
        "title_vet": "宠物影像检查报告",
        "name": "姓名",
        "sex": "性别",
        "age": "年龄",
        "medical_record_number": "病历号",
        "hospitalization_number": "住院号",
        "bed_number": "床号",
        "requesting_department": "申请科室",
        "inspection_number": "检查号",
        "inspection_method": "检查描述",
        "patient_type": "宠物类别",
        "owner_name": "主人姓名",
        "study_date": "检查日期",
        "images": "影像",
        "findings": "影像所见",
        "impression": "诊断意见",
        "radiologist": "报告医师",
        "review_physician": "审核医师",
        "report_date": "报告日期",
        "footer": "本报告仅供临床参考，经医师签字后有效。",
    },
}


class RenderError(RuntimeError):
    """The typesetter refused the document (a template bug or an unreadable image)."""


@dataclass(frozen=True)
class ReportImage:
    path: Path  # inside `root` of the render
    caption: str


@dataclass(frozen=True)
class ReportPage:
    """Everything printed on a report; `headers` are the seed's header fields as sent."""

    headers: dict[str, str]
    findings: str
    impression: str
    radiologist: str
    review_physician: str
    language: str  # en_US | zh_CN
    veterinary: bool
    institution: str = ""
    study_date: str = ""
    report_date: str = field(default_factory=lambda: datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"))
    images: tuple[ReportImage, ...] = ()


class ReportRenderer:
    """One typst compiler for the process: it indexes the fonts once (the CJK collection is 5 MB),
    after which a page with two images compiles in a few milliseconds. The compiler is not shared
    between threads at once, so renders are serialized by a lock (renders run in worker threads)."""

    def __init__(self, font_dirs: tuple[Path, ...] = CJK_FONT_DIRS) -> None:
        existing = [str(d) for d in font_dirs if d.is_dir()]
        if not existing:
            raise RenderError(f"no CJK font directory found (looked in {', '.join(map(str, font_dirs))})")
        self._compiler = typst.Compiler(font_paths=existing, ignore_system_fonts=True)
        families = set(typst.Fonts(include_system_fonts=False, font_paths=existing).families())
        if CJK_FONT_FAMILY not in families:
            raise RenderError(f"font family {CJK_FONT_FAMILY!r} not found in {existing}")
        common = (TEMPLATES / "common.typ").read_text(encoding="utf-8")
        self._sources = {
            False: (common + (TEMPLATES / "human.typ").read_text(encoding="utf-8")).encode(),
            True: (common + (TEMPLATES / "vet.typ").read_text(encoding="utf-8")).encode(),
        }
        self._lock = threading.Lock()

    @staticmethod
    def _data(page: ReportPage, root: Path) -> dict[str, Any]:
        labels = LABELS.get(page.language, LABELS["en_US"])
        return {
            "lang": "zh" if page.language == "zh_CN" else "en",
            "labels": labels,
            "title": labels["title_vet" if page.veterinary else "title_human"],
            "footer": labels["footer"],
            "institution": page.institution,
            "study_date": page.study_date,
            "report_date": page.report_date,
            "headers": {key: page.headers.get(key, "") for key in HEADER_KEYS},
            "findings": page.findings,
            "impression": page.impression,
            "radiologist": page.radiologist,
            "review_physician": page.review_physician,
            "images": [{"path": "/" + str(im.path.relative_to(root)), "caption": im.caption} for im in page.images],
        }

    def render_pdf(self, page: ReportPage, root: Path | None = None) -> bytes:
        """The PDF bytes. Image paths are resolved inside `root` (typst reads nothing outside it)."""
        if root is None or not page.images:
            root = TEMPLATES  # typst needs an existing root; without images nothing is read from it
        data = self._data(page, root)
        with self._lock:
            try:
                out = self._compiler.compile(
                    input=self._sources[page.veterinary],
                    format="pdf",
                    root=str(root),
                    sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
                    # PDF/A-2u: the archival profile (fonts embedded, no external resources) whose
                    # "u" makes typst guarantee that every glyph maps to Unicode — the Chinese text
                    # stays selectable and searchable years later
                    pdf_standards=["a-2u"],
                )
            except RuntimeError as exc:  # typst.TypstError and the binding's own I/O errors
                raise RenderError(str(exc)) from exc
        if not isinstance(out, bytes):
            raise RenderError("typst returned no single PDF")
        return out

    def first_page_png(self, page: ReportPage, root: Path | None = None, ppi: float = 50.0) -> bytes:
        """Page 1 as PNG (the study strip's thumbnail of a saved report): A4 at 50 ppi is 413×585 px."""
        if root is None or not page.images:
            root = TEMPLATES
        with self._lock:
            try:
                out = self._compiler.compile(
                    input=self._sources[page.veterinary],
                    format="png",
                    ppi=ppi,
                    root=str(root),
                    sys_inputs={"data": json.dumps(self._data(page, root), ensure_ascii=False)},
                )
            except RuntimeError as exc:
                raise RenderError(str(exc)) from exc
        first = out[0] if isinstance(out, list) else out
        if not isinstance(first, bytes):
            raise RenderError("typst returned no PNG page")
        return first
