"""Report preview, versioned save (PDF + Encapsulated PDF instance) and retrieval."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pydicom
from PIL import Image

from dros.domain.document import repo as documents
from dros.domain.document.dicom_common import StudyIdentity
from dros.domain.document.dicom_pdf import PdfInstance, encapsulated_pdf
from dros.domain.document.files import dataset_bytes
from dros.domain.document.store import THUMBNAIL_SIZE, DocumentStore, live_identity
from dros.domain.report import repo
from dros.domain.report.schemas import ReportContent, ReportSaved
from dros.errors import DrosError, ErrorCode, invalid_param, not_found
from dros.report.render import LABELS, RenderError, ReportImage, ReportPage, ReportRenderer
from dros.settings import Locale, Product
from dros.store.db import Conn

#: Images placed on the page: two rows of three fill the first page's image block
MAX_REPORT_IMAGES = 6
# C0/C1 controls and lone surrogates (a JSON escape can carry them; they are not text); the
# multi-line fields keep tab, line feed and carriage return
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(content: ReportContent) -> None:
    """Control characters have no place on a printed page (and some break PDF text extraction)."""
    fields: list[tuple[str, str, re.Pattern[str]]] = [
        (f"headers.{name}", value, _CONTROL_LINE) for name, value in msgspec.structs.asdict(content.headers).items()
    ]
    fields += [
        ("findings", content.findings, _CONTROL_TEXT),
        ("impression", content.impression, _CONTROL_TEXT),
        ("radiologist", content.radiologist, _CONTROL_LINE),
        ("review_physician", content.review_physician, _CONTROL_LINE),
    ]
    for name, value, pattern in fields:
        if hit := pattern.search(value):
            code = ord(hit.group())
            raise invalid_param(name, f"contains the control character U+{code:04X}", f"含有控制字符 U+{code:04X}")


def page_of(
    content: ReportContent,
    *,
    language: Locale,
    veterinary: bool,
    institution: str,
    study: StudyIdentity | None,
    images: list[documents.ReportImageRow],
    folder: Path | None,
) -> ReportPage:
    headers = {k: str(v) for k, v in msgspec.structs.asdict(content.headers).items()}
    return ReportPage(
        headers=headers,
        findings=content.findings.replace("\r\n", "\n"),
        impression=content.impression.replace("\r\n", "\n"),
        radiologist=content.radiologist,
        review_physician=content.review_physician,
        language=str(language),
        veterinary=veterinary,
        institution=institution,
        study_date=study.start_local.strftime("%Y-%m-%d") if study else "",
        images=tuple(ReportImage(folder / im.thumbnail_file, im.view_description) for im in images if folder),
    )


def source_instances(images: list[documents.ReportImageRow], folder: Path) -> list[tuple[str, str]]:
    """(SOP Class UID, SOP Instance UID) of each image on the page, read from its file (worker thread);
    an unreadable file is left out of the reference rather than failing the report."""
    out = []
    for im in images:
        try:
            ds = pydicom.dcmread(
                folder / im.image_file, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"]
            )
            out.append((str(ds.SOPClassUID), str(ds.SOPInstanceUID)))
        except Exception:  # a damaged image file must not block the report; it is only not referenced
            continue
    return out


def with_files(images: list[documents.ReportImageRow], folder: Path) -> list[documents.ReportImageRow]:
    """The images whose thumbnail file is really there (stat calls: run in a worker thread)."""
    return [im for im in images if (folder / im.thumbnail_file).is_file()]


class ReportService:
    def __init__(self, store: DocumentStore, renderer: ReportRenderer) -> None:
        self.store = store
        self.renderer = renderer

    async def _render(self, page: ReportPage, folder: Path | None) -> bytes:
        try:
            return await asyncio.to_thread(self.renderer.render_pdf, page, folder)
        except RenderError as exc:
            raise DrosError(
                ErrorCode.INTERNAL, en=f"the report could not be typeset: {exc}", zh=f"报告排版失败：{exc}"
            ) from exc

    async def _thumbnail(self, page: ReportPage, folder: Path | None) -> bytes:
        """The first page as a WebP like the views' thumbnails, so the report shows in the study strip."""

        def make() -> bytes:
            png = self.renderer.first_page_png(page, folder)
            img = Image.open(io.BytesIO(png))
            img.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.BOX)
            out = io.BytesIO()
            img.save(out, format="WEBP", lossless=True)
            return out.getvalue()

        try:
            return await asyncio.to_thread(make)
        except RenderError as exc:
            raise DrosError(
                ErrorCode.INTERNAL, en=f"the report could not be typeset: {exc}", zh=f"报告排版失败：{exc}"
            ) from exc

    def _study_and_images(
        self,
        conn: Conn,
        study_id: str,
        field: str,
        *,
        writable: bool,
    ) -> tuple[StudyIdentity, list[documents.ReportImageRow]]:
        study = live_identity(conn, study_id, field, writable=writable)
        return study, documents.accepted_thumbnails(conn, study_id, MAX_REPORT_IMAGES)

    async def preview(self, content: ReportContent, study_id: str, product: Product, language: Locale) -> bytes:
        check_text(content)
        study: StudyIdentity | None = None
        images: list[documents.ReportImageRow] = []
        folder: Path | None = None
        if study_id:
            study, images = await self.store.db.read(
                lambda conn: self._study_and_images(conn, study_id, "study_id", writable=False)
            )
            folder = self.store.study_dir(study_id)
            images = await asyncio.to_thread(with_files, images, folder)
        veterinary = study.veterinary if study else product == Product.VETDROS
        page = page_of(
            content,
            language=language,
            veterinary=veterinary,
            institution=self.store.settings.dicom.institution_name,
            study=study,
            images=images,
            folder=folder,
        )
        return await self._render(page, folder)

    async def save(self, study_id: str, content: ReportContent, language: Locale, author: str) -> ReportSaved:
        check_text(content)
        store = self.store
        async with store.locks.hold([study_id]):

            def read(
                conn: Conn,
            ) -> tuple[
                StudyIdentity,
                list[documents.ReportImageRow],
                int,
                tuple[str, int, int] | None,
                tuple[int, int],
            ]:
                study, images = self._study_and_images(conn, study_id, "id", writable=True)
                return (
                    study,
                    images,
                    repo.last_number(conn, study_id),
                    documents.document_series(conn, study_id, documents.REPORT),
                    documents.next_sorts(conn, study_id),
                )

            study, images, last, series, (series_sort, image_sort) = await store.db.read(read)
            folder = store.study_dir(study.study_id)  # only a study id the database knows becomes a path
            images = await asyncio.to_thread(with_files, images, folder)
            page = page_of(
                content,
                language=language,
                veterinary=study.veterinary,
                institution=store.settings.dicom.institution_name,
                study=study,
                images=images,
                folder=folder,
            )
            pdf = await self._render(page, folder)
            thumbnail = await self._thumbnail(page, folder)
            number = last + 1
            series_uid, series_number, count = series if series else (store.new_uid(), series_sort, 0)
            sop = store.new_uid()
            now = datetime.now().astimezone()
            labels = LABELS[str(language)]
            title = labels["title_vet" if study.veterinary else "title_human"]
            inst = PdfInstance(sop, series_uid, series_number, count + 1, title, title)
            sources = await asyncio.to_thread(source_instances, images, folder)
            body = await asyncio.to_thread(
                lambda: dataset_bytes(encapsulated_pdf(pdf, study, store.equipment, inst, now, sources))
            )
            version = repo.ReportVersion(study_id, number, sop, series_uid, f"{sop}.pdf")
            description = f"{title} v{number}"

            def commit(conn: Conn) -> None:
                live_identity(conn, study_id, "id", writable=True)  # not locked or deleted meanwhile
                if series is None:
                    documents.insert_series(
                        conn,
                        series_uid=series_uid,
                        study=study,
                        sort=series_sort,
                        meaning=title,
                        now=now.astimezone(UTC),
                    )
                documents.insert_document_image(
                    conn,
                    sop_uid=sop,
                    series_uid=series_uid,
                    study=study,
                    image_type=documents.REPORT,
                    description=description,
                    sort=image_sort,
                    thumbnail=f"{sop}.webp",
                    comment=f"report version {number}",
                    now=now.astimezone(UTC),
                )
                repo.insert_version(
                    conn,
                    version,
                    product=study.product,
                    language=str(language),
                    content=msgspec.json.encode(content).decode(),
                    author=author,
                    now=now.astimezone(UTC),
                )

            await store.store(
                [(folder / version.pdf_file, pdf), (folder / f"{sop}.dcm", body), (folder / f"{sop}.webp", thumbnail)],
                commit,
            )
        return ReportSaved(version=number, path=f"{sop}.dcm", sop_instance_uid=sop)

    async def pdf(self, study_id: str, number: int | None) -> tuple[repo.ReportVersion, bytes]:
        def read(conn: Conn) -> repo.ReportVersion:
            live_identity(conn, study_id, "id", writable=False)
            found = repo.latest_version(conn, study_id) if number is None else repo.version(conn, study_id, number)
            if found is None:
                if number is None:
                    raise DrosError(
                        ErrorCode.NOT_FOUND,
                        field="id",
                        en=f"study {study_id} has no saved report",
                        zh=f"检查 {study_id} 尚无已保存的报告",
                    )
                raise not_found("version", number)
            return found

        found = await self.store.db.read(read)
        path = self.store.study_dir(study_id) / found.pdf_file
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise DrosError(
                ErrorCode.NOT_FOUND, field="id", en="the report's PDF file is missing", zh="报告的 PDF 文件缺失"
            ) from exc
        return found, data
