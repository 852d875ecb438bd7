"""Study lifecycle: registration, edits, lock, views, the recycle bin — and the files with them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from dros.domain.study import repo
from dros.domain.study.catalog_lookup import ViewInfo, lookup_catalog, patient_type_exists
from dros.domain.study.files import StudyFiles, human_size
from dros.domain.study.list_cache import GenerationCache
from dros.domain.study.locks import study_locks
from dros.domain.study.schemas import (
    CreateImageReply,
    DiskInfo,
    ImageAdd,
    ImageSort,
    Stat,
    Study,
    StudyCreate,
    StudyList,
    StudyUpdate,
    ViewRef,
)
from dros.domain.study.values import (
    StudyIdGenerator,
    age_from_birth,
    check_person_name,
    check_text,
    new_uid,
    normalize_age,
    parse_flag,
    parse_time,
)
from dros.errors import DrosError, ErrorCode, invalid_param, not_found
from dros.settings import Locale, Product, Settings
from dros.store.db import Conn, Database

PETS_ONLY = ("sex_neutered", "owner_name", "chip_number", "variety")
HUMANS_ONLY = ("pregnancy_status",)
PN_FIELDS = (
    "patient_name",
    "patient_english_name",
    "patient_former_name",
    "ref_physician",
    "operator_id",
    "owner_name",
)
TEXT_FIELDS = ("accession_number", "patient_id", "chip_number", "variety")


def locked_error(study_id: str) -> DrosError:
    return DrosError(ErrorCode.LOCKED, field="study_id", en=f"study {study_id} is locked", zh=f"检查 {study_id} 已锁定")


@dataclass
class BatchFailure:
    study_id: str
    code: str
    reason: str


class StudyService:
    """One per app. File moves and the commits that record them hold the study's lock (shared with
    the document services, see locks.py), so two requests never work on the same study's files at once."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.files = StudyFiles(settings.data_path)
        self.ids = StudyIdGenerator(db.read_sync(repo.max_study_id))
        self.locks = study_locks(db)
        self._lists = GenerationCache()
        # each filter's sort keys for deep pages (repo.list_studies), at most 8 filters (~0.8 MB each)
        self._sort_keys = GenerationCache(max_entries=8)

    # ---- registration and edits ------------------------------------------------------------
    def _patient_fields(self, data: StudyCreate | StudyUpdate, product: Product, now: datetime) -> dict[str, Any]:
        for f in PN_FIELDS:
            check_person_name(f, getattr(data, f))
        for f in TEXT_FIELDS:
            check_text(f, getattr(data, f))
        if not data.patient_name.strip():
            raise invalid_param("patient_name", "must not be empty", "不能为空")
        if not data.patient_id.strip():
            raise invalid_param("patient_id", "must not be empty", "不能为空")
        is_vet = product == Product.VETDROS
        for f in PETS_ONLY if not is_vet else HUMANS_ONLY:
            if getattr(data, f, ""):
                raise invalid_param(
                    f,
                    f"only for {'VETDROS' if not is_vet else 'DROS'} studies",
                    f"仅适用于{'宠物' if not is_vet else '人医'}检查",
                )
        dob = parse_time("patient_dob", data.patient_dob, date_only_ok=True) if data.patient_dob else None
        if dob is not None and dob > now:
            raise invalid_param("patient_dob", "is in the future", "不能晚于当前时间")
        if data.patient_age:
            age = normalize_age("patient_age", data.patient_age)
        elif dob is not None:
            age = age_from_birth(dob.astimezone(UTC).date(), now.date())
        else:
            age = ""
        return {
            "accession_number": data.accession_number,
            "patient_id": data.patient_id,
            "patient_name": data.patient_name,
            "patient_english_name": data.patient_english_name,
            "patient_former_name": data.patient_former_name,
            "patient_size": data.patient_size,
            "patient_age": age,
            "patient_dob": dob,
            "patient_sex": data.patient_sex,
            "owner_name": data.owner_name,
            "chip_number": data.chip_number,
            "variety": data.variety,
            "is_anaesthesia": parse_flag("is_anaesthesia", data.is_anaesthesia),
            "is_sedation": parse_flag("is_sedation", data.is_sedation),
            "ref_physician": data.ref_physician,
            "operator_name": data.operator_id,
            "weight": data.weight,
            "thickness": data.thickness,
            "length": data.length,
            "comment": data.comment,
        }

    def _plan_views(
        self,
        conn: Conn,
        product: Product,
        patient_type: str,
        views: list[ViewRef],
        language: Locale,
        *,
        group_by_procedure: bool,
    ) -> list[tuple[str, list[ViewInfo], Any]]:
        """[(procedure_id, [views], procedure)] per new series, validated against the catalog."""
        catalog = lookup_catalog(
            conn, product, {v.view_id for v in views}, {v.procedure_id for v in views if v.procedure_id}
        )
        plan: list[tuple[str, list[ViewInfo], Any]] = []
        by_procedure: dict[str, int] = {}
        for i, ref in enumerate(views):
            view = catalog.views.get(ref.view_id)
            if view is None:
                raise invalid_param(
                    f"views[{i}].view_id",
                    f"unknown view {ref.view_id!r} for {product}",
                    f"{product} 中不存在体位 {ref.view_id!r}",
                )
            if view.patient_type != patient_type:
                raise invalid_param(
                    f"views[{i}].view_id",
                    f"view {ref.view_id!r} is for patient type {view.patient_type!r}, not {patient_type!r}",
                    f"体位 {ref.view_id!r} 属于患者类型 {view.patient_type!r}，而非 {patient_type!r}",
                )
            view = view.localized(language)
            if not ref.procedure_id:
                plan.append(("", [view], None))
                continue
            proc = catalog.procedures.get(ref.procedure_id)
            if proc is None:
                raise invalid_param(
                    f"views[{i}].procedure_id",
                    f"unknown procedure {ref.procedure_id!r} for {product}",
                    f"{product} 中不存在协议 {ref.procedure_id!r}",
                )
            if ref.view_id not in proc.view_ids:
                raise invalid_param(
                    f"views[{i}].view_id",
                    f"view {ref.view_id!r} is not part of procedure {ref.procedure_id!r}",
                    f"体位 {ref.view_id!r} 不属于协议 {ref.procedure_id!r}",
                )
            if group_by_procedure and ref.procedure_id in by_procedure:
                plan[by_procedure[ref.procedure_id]][1].append(view)
            else:
                by_procedure[ref.procedure_id] = len(plan)
                plan.append((ref.procedure_id, [view], proc.localized(language)))
        return plan

    def _insert_plan(
        self,
        conn: Conn,
        study_id: str,
        product: Product,
        patient_type: str,
        plan: list[tuple[str, list[ViewInfo], Any]],
        now: datetime,
        series_sort: int,
        image_sort: int,
    ) -> tuple[list[str], list[str]]:
        root = self.settings.dicom.uid_root
        series_rows: list[dict[str, Any]] = []
        image_rows: list[dict[str, Any]] = []
        for procedure_id, views, proc in plan:
            series_sort += 1
            series_uid = new_uid(root)
            series_rows.append(
                {
                    "series_instance_uid": series_uid,
                    "study_id": study_id,
                    "procedure_id": procedure_id,
                    "patient_type": patient_type,
                    "body_part": proc.body_part_id if proc else views[0].body_part_id,
                    "performed_protocol_code_meaning": proc.name if proc else "",
                    "performed_protocol_code_value": procedure_id,
                    "sort": series_sort,
                    "product": str(product),
                    "is_pre_install": True,
                    "create_time": now,
                }
            )
            for view in views:
                image_sort += 1
                image_rows.append(self._image_row(study_id, series_uid, view, product, image_sort, now))
        repo.insert_series(conn, series_rows)
        repo.insert_images(conn, image_rows)
        return [r["series_instance_uid"] for r in series_rows], [r["sop_instance_uid"] for r in image_rows]

    def _image_row(
        self, study_id: str, series_uid: str, view: ViewInfo, product: Product, sort: int, now: datetime
    ) -> dict[str, Any]:
        return {
            "sop_instance_uid": new_uid(self.settings.dicom.uid_root),
            "series_instance_uid": series_uid,
            "study_id": study_id,
            "view_id": view.view_id,
            "view_description": view.description,
            "patient_type": view.patient_type,
            "body_part_id": view.body_part_id,
            "anatomic_region": view.anatomic_region,
            "sort": sort,
            "product": str(product),
            "is_pre_install": view.is_pre_install,
            "create_time": now,
        }

    async def register(
        self,
        data: StudyCreate,
        product: Product,
        language: Locale,
        *,
        study_instance_uid: str | None = None,
        extra: dict[str, Any] | None = None,
        on_insert: Callable[[Conn, str], None] | None = None,
    ) -> Study:
        """`study_instance_uid`, `extra` (more study columns) and `on_insert` (run in the same
        transaction with the new study id) serve registration from a worklist entry, which keeps
        the RIS's Study Instance UID."""
        now = datetime.now(UTC)
        fields = self._patient_fields(data, product, now)

        def write(conn: Conn) -> str:
            if not patient_type_exists(conn, product, data.patient_type):
                raise invalid_param(
                    "patient_type",
                    f"unknown patient type {data.patient_type!r} for {product}",
                    f"{product} 中不存在患者类型 {data.patient_type!r}",
                )
            plan = self._plan_views(conn, product, data.patient_type, data.views, language, group_by_procedure=True)
            study_id = self.ids.next(now)
            repo.insert_study(
                conn,
                {
                    "study_id": study_id,
                    "study_instance_uid": study_instance_uid or new_uid(self.settings.dicom.uid_root),
                    "product": str(product),
                    "patient_type": data.patient_type,
                    "study_type": data.study_type,
                    "modality": data.modality,
                    "sex_neutered": data.sex_neutered,
                    "pregnancy_status": data.pregnancy_status,
                    "study_start_datetime": now,
                    "create_time": now,
                    "study_status": "Arrived",
                    "study_lock": "Unlocked",
                    **fields,
                    **(extra or {}),
                },
            )
            self._insert_plan(conn, study_id, product, data.patient_type, plan, now, 0, 0)
            if on_insert is not None:
                on_insert(conn, study_id)
            return study_id

        study_id = await self.db.write(write)
        return await self.get(study_id)

    async def update(self, study_id: str, data: StudyUpdate, product: Product) -> Study:
        now = datetime.now(UTC)

        def write(conn: Conn) -> None:
            state = self._live_state(conn, study_id)
            if state.study_lock == "Locked":
                raise locked_error(study_id)
            fields = self._patient_fields(data, Product(state.product), now)
            repo.update_study(conn, study_id, {**fields, "is_edited": True})

        await self.db.write(write)
        return await self.get(study_id)

    async def set_lock(self, study_id: str, lock: str) -> None:
        def write(conn: Conn) -> None:
            self._live_state(conn, study_id)
            repo.update_study(conn, study_id, {"study_lock": lock})

        await self.db.write(write)

    # ---- reads -------------------------------------------------------------------------------
    async def get(self, study_id: str, *, deleted: bool = False) -> Study:
        study = await self.db.read(lambda conn: repo.load_study(conn, study_id, deleted=deleted))
        if study is None:
            raise not_found("id", study_id)
        return study

    async def list_studies(
        self, f: repo.ListFilter, *, deleted: bool, page: int, page_size: int, cached: bool = True
    ) -> StudyList:
        key = (f, deleted, page, page_size)
        generation = self.db.generation
        if cached and (hit := self._lists.get(key, generation)) is not None:
            reply: StudyList = hit
            return reply
        index = (f, deleted)
        keys: repo.SortKeys | None = None
        if page * page_size > repo.HEAP_DEPTH:
            keys = self._sort_keys.get(index, generation)  # only ever kept under an even generation

        def read(conn: Conn, keys: repo.SortKeys | None = keys) -> repo.StudyPage:
            return repo.list_studies(conn, f, deleted=deleted, page=page, page_size=page_size, keys=keys)

        found = await self.db.read(read)
        if keys is not None and self.db.generation != generation:
            # a write committed while the page was read against the keys of before it: read it
            # again, count and page in one snapshot
            found = await self.db.read(partial(read, keys=None))
        elif found.keys is not None and generation % 2 == 0 and self.db.generation == generation:
            self._sort_keys.put(index, generation, found.keys)
        if found.stale:
            # rows another writer changed (acquisition, portrait): rendered again for the next pages
            await self.db.write(repo.refresh_stale_list_rows)
        reply = StudyList(count=found.total, studies=found.studies)
        self._lists.put(key, generation, reply)
        return reply

    async def stat(self, study_id: str) -> Stat:
        def read(conn: Conn) -> tuple[int, int]:
            self._live_state(conn, study_id, field="id")
            return repo.stat(conn, [study_id])

        total, exposed = await self.db.read(read)
        return Stat(total=total, exposed=exposed)

    def _live_state(self, conn: Conn, study_id: str, field: str = "id") -> repo.StudyState:
        state = repo.study_state(conn, study_id)
        if state is None or state.is_deleted:
            raise not_found(field, study_id)
        return state

    # ---- batches: delete to the bin, restore, purge ---------------------------------------------
    def _check_batch(self, conn: Conn, ids: list[str], *, in_bin: bool) -> dict[str, repo.StudyState]:
        states = repo.study_states(conn, ids)
        failures = []
        for sid in dict.fromkeys(ids):
            st = states.get(sid)
            if st is None or st.is_deleted != in_bin:
                failures.append(
                    BatchFailure(
                        sid, ErrorCode.NOT_FOUND.info.code, "not in the recycle bin" if in_bin else "no such study"
                    )
                )
            elif not in_bin and st.study_lock == "Locked":
                failures.append(BatchFailure(sid, ErrorCode.LOCKED.info.code, "locked"))
        if failures:
            codes = {f.code for f in failures}
            code = (
                ErrorCode.LOCKED
                if codes == {ErrorCode.LOCKED.info.code}
                else ErrorCode.NOT_FOUND
                if codes == {ErrorCode.NOT_FOUND.info.code}
                else ErrorCode.CONFLICT
            )
            raise DrosError(
                code,
                field="study_id",
                en="nothing was changed; refused: " + ", ".join(f"{f.study_id} ({f.reason})" for f in failures),
                zh="未做任何更改；被拒绝：" + "，".join(f"{f.study_id}（{f.reason}）" for f in failures),
                data={"failed": [{"study_id": f.study_id, "code": f.code, "reason": f.reason} for f in failures]},
            )
        return states

    async def delete_to_bin(self, ids: list[str]) -> Stat:
        """All or nothing: any unknown or locked id refuses the whole batch, naming each."""
        total, exposed = await self._move_batch(list(dict.fromkeys(ids)), to_bin=True)
        return Stat(total=total, exposed=exposed)

    async def restore(self, ids: list[str]) -> None:
        """All or nothing: any id not in the recycle bin refuses the whole batch, naming each."""
        await self._move_batch(list(dict.fromkeys(ids)), to_bin=False)

    async def _move_batch(self, ids: list[str], *, to_bin: bool) -> tuple[int, int]:
        """Delete to the bin or restore: check, move the folders, then commit the rows — checked
        again in the commit, since a lock or a purge may have come in while the files moved. Any
        failure moves the folders back. Returns the (images, exposed) the batch holds."""
        async with self.locks.hold(ids):

            def check(conn: Conn) -> tuple[int, int]:
                self._check_batch(conn, ids, in_bin=not to_bin)
                return repo.stat(conn, ids)

            counts = await self.db.read(check)
            moved: list[str] = []
            try:
                for sid in ids:
                    await asyncio.to_thread(self.files.move_study, sid, to_bin=to_bin)
                    moved.append(sid)

                def commit(conn: Conn) -> None:
                    self._check_batch(conn, ids, in_bin=not to_bin)
                    repo.set_in_bin(conn, ids, to_bin, datetime.now(UTC))

                await self.db.write(commit)
            except BaseException:
                for sid in moved:
                    await asyncio.to_thread(self.files.move_study, sid, to_bin=not to_bin)
                raise
        return counts

    async def purge(self, ids: list[str] | None) -> int:
        """Permanent delete of `ids` from the bin (None: empty the bin, deleted views included).
        The commit removes the rows and journals the files; the files go after it, and a crash in
        between is finished at the next start (StudyFiles.reconcile)."""
        scope = list(dict.fromkeys(ids)) if ids is not None else await self.db.read(repo.bin_study_ids)
        async with self.locks.hold(scope):

            def commit(conn: Conn) -> tuple[int, list[tuple[str, str]]]:
                if ids is None:
                    # a study binned after the scope was read is not locked here: the next clear takes it
                    held = set(scope)
                    targets = [sid for sid in repo.bin_study_ids(conn) if sid in held]
                else:
                    targets = list(dict.fromkeys(ids))
                    self._check_batch(conn, targets, in_bin=True)
                return len(targets), repo.purge(conn, targets, deleted_views=ids is None, now=datetime.now(UTC))

            count, journal = await self.db.write(commit)

            def remove() -> None:
                for kind, name in journal:
                    self.files.purge(kind, name)

            await asyncio.to_thread(remove)
            await self.db.write(lambda conn: repo.forget_purges(conn, journal))
        return count

    async def disk_info(self) -> DiskInfo:
        usage = await asyncio.to_thread(shutil.disk_usage, self.settings.data_path)
        size = await asyncio.to_thread(self.files.bin_size)
        return DiskInfo(
            total=usage.total,
            total_str=human_size(usage.total),
            free=usage.free,
            free_str=human_size(usage.free),
            recycle_bin=size,
            recycle_bin_str=human_size(size),
        )

    # ---- views (images) ------------------------------------------------------------------------
    async def add_views(self, data: ImageAdd, language: Locale) -> CreateImageReply:
        now = datetime.now(UTC)

        def write(conn: Conn) -> tuple[str, list[str], list[str]]:
            state = self._live_state(conn, data.study_id, field="study_id")
            if state.study_lock == "Locked":
                raise locked_error(data.study_id)
            product = Product(state.product)
            # as the reference's example: every added view gets a series of its own
            plan = self._plan_views(conn, product, state.patient_type, data.views, language, group_by_procedure=False)
            s_sort, i_sort = repo.max_sorts(conn, data.study_id)
            series, images = self._insert_plan(
                conn, data.study_id, product, state.patient_type, plan, now, s_sort, i_sort
            )
            repo.mark_appended(conn, data.study_id)
            return state.study_instance_uid, series, images

        study_uid, series, images = await self.db.write(write)
        return await self._created(data.study_id, study_uid, set(series), set(images))

    async def _created(self, study_id: str, study_uid: str, series: set[str], images: set[str]) -> CreateImageReply:
        found = await self.db.read(
            lambda conn: repo.load_series(conn, study_id, study_uid, only=series, only_images=images)
        )
        for s in found:
            for img in s.images:
                img.image_status = "QUEUING"
        return CreateImageReply(series=found)

    def _image(self, conn: Conn, sop_uid: str, field: str = "instance_uid") -> tuple[dict[str, Any], repo.StudyState]:
        """A live view slot of an unlocked live study, or the error that names `field`."""
        image = repo.image_slot(conn, sop_uid)
        if image is None:
            raise not_found(field, sop_uid)
        state = self._live_state(conn, image["study_id"], field=field)
        if state.study_lock == "Locked":
            raise locked_error(image["study_id"])
        return image, state

    def _copy_row(self, src: dict[str, Any], new_uid_: str, now: datetime, **extra: Any) -> dict[str, Any]:
        """A new slot for the same view, right after `src` in its series."""
        return {
            **{k: src[k] for k in _VIEW_COPY_COLUMNS},
            "sop_instance_uid": new_uid_,
            "sort": src["sort"] + 1,
            "create_time": now,
            **extra,
        }

    async def _study_of(self, sop_uid: str, field: str) -> str:
        """The study of a live view slot (an image never changes study): whose lock to take."""
        image, _ = await self.db.read(lambda conn: self._image(conn, sop_uid, field=field))
        return str(image["study_id"])

    async def copy_view(self, sop_uid: str) -> CreateImageReply:
        """A new unexposed slot for the same view, in the same series, right after the original."""
        now = datetime.now(UTC)

        def write(conn: Conn) -> tuple[str, str, str, str]:
            src, state = self._image(conn, sop_uid)
            repo.shift_images_after(conn, src["study_id"], src["sort"])
            new = new_uid(self.settings.dicom.uid_root)
            repo.insert_images(conn, [self._copy_row(src, new, now)])
            return src["study_id"], state.study_instance_uid, src["series_instance_uid"], new

        study_id, study_uid, series_uid, new = await self.db.write(write)
        return await self._created(study_id, study_uid, {series_uid}, {new})

    async def save_as(self, sop_uid: str, rewrite: Callable[[Path, Path, dict[str, str]], None]) -> str:
        """A new instance of the same view from an exposed image: its DICOM file is copied under a
        new SOP Instance UID (and the thumbnail with it)."""
        now = datetime.now(UTC)
        study_id = await self._study_of(sop_uid, "instance_uid")
        async with self.locks.hold([study_id]):
            src, _ = await self.db.read(lambda conn: self._image(conn, sop_uid))
            if src["expose_status"] != "Exposed" or not src["image_file"]:
                raise DrosError(
                    ErrorCode.UNPROCESSABLE,
                    field="instance_uid",
                    en="the image has no pixel data yet; expose it first",
                    zh="该图像尚无像素数据，请先曝光",
                )
            new = new_uid(self.settings.dicom.uid_root)
            live = self.files.live_dir(src["study_id"])
            created: list[Path] = []
            try:
                target = live / f"{new}.dcm"
                await asyncio.to_thread(rewrite, live / src["image_file"], target, {"SOPInstanceUID": new})
                created.append(target)
                thumb = ""
                if src["thumbnail_file"] and (live / src["thumbnail_file"]).exists():
                    thumb = f"{new}.webp"
                    await asyncio.to_thread(shutil.copyfile, live / src["thumbnail_file"], live / thumb)
                    created.append(live / thumb)

                def commit(conn: Conn) -> None:
                    self._image(conn, sop_uid)
                    repo.shift_images_after(conn, src["study_id"], src["sort"])
                    repo.insert_images(
                        conn,
                        [
                            self._copy_row(
                                src,
                                new,
                                now,
                                expose_status="Exposed",
                                expose_time=now,
                                image_file=target.name,
                                thumbnail_file=thumb,
                                storage_status="Saved",
                                image_type="save_as",
                                comment=f"saved as from {sop_uid}",
                            )
                        ],
                    )

                await self.db.write(commit)
            except BaseException:
                for p in created:
                    await asyncio.to_thread(p.unlink, missing_ok=True)
                raise
        return new

    async def sort_views(self, data: ImageSort) -> None:
        def write(conn: Conn) -> None:
            state = self._live_state(conn, data.study_id, field="study_id")
            if state.study_lock == "Locked":
                raise locked_error(data.study_id)
            current = repo.live_image_uids(conn, data.study_id)
            given = data.sop_instance_uids
            if len(set(given)) != len(given):
                raise invalid_param("sop_instance_uids", "lists an image twice", "有重复的图像")
            unknown = [u for u in given if u not in current]
            missing = sorted(current - set(given))
            if unknown or missing:
                raise invalid_param(
                    "sop_instance_uids",
                    f"must list every image of the study exactly once; unknown: {unknown}, missing: {missing}",
                    f"必须列出该检查的全部图像各一次；未知：{unknown}，缺少：{missing}",
                )
            repo.reorder_images(conn, data.study_id, given)

        await self.db.write(write)

    async def delete_view(self, sop_uid: str, may_delete_exposed: bool) -> None:
        """A view slot leaves the study; an exposed image's files go to the recycle bin (kept until
        it is emptied). Exposed images need the bin:purge permission (mgr, admin, service)."""
        study_id = await self._study_of(sop_uid, "id")
        async with self.locks.hold([study_id]):
            image, _ = await self.db.read(lambda conn: self._image(conn, sop_uid, field="id"))
            if image["expose_status"] == "Exposed" and not may_delete_exposed:
                raise DrosError(
                    ErrorCode.FORBIDDEN,
                    field="id",
                    en="deleting an exposed image needs the bin:purge permission (mgr, admin, service)",
                    zh="删除已曝光图像需要 bin:purge 权限（mgr、admin、service）",
                )
            await asyncio.to_thread(self.files.move_view_to_bin, image["study_id"], sop_uid)
            try:

                def commit(conn: Conn) -> None:
                    self._image(conn, sop_uid, field="id")
                    repo.mark_image_deleted(conn, sop_uid, datetime.now(UTC))

                await self.db.write(commit)
            except BaseException:
                await asyncio.to_thread(self.files.move_view_from_bin, image["study_id"], sop_uid)
                raise


# what a copied view slot (image/copy, image/save_as) takes over from its original
_VIEW_COPY_COLUMNS = (
    "series_instance_uid",
    "study_id",
    "view_id",
    "view_description",
    "patient_type",
    "body_part_id",
    "anatomic_region",
    "product",
    "is_pre_install",
)
