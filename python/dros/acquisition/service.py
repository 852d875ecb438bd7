"""The acquisition task: one inspection (the image selected by `start`) and at most one exposure at a time.

States (`insp_status`, also in `MODULE/TASK/STATUS/GLOBAL`):

    TASK_Idle        no image selected (after start-up, after `leave`)
    TASK_Preparing   `start` is loading the view's APR into the generator and arming the detector
    TASK_Ready       the selected image can be exposed (`insp_ready`; `all_ready` also needs both devices)
    TASK_NotReady    the selected image cannot be exposed now: devices not ready / APR not loaded (REST 0x040001)
    TASK_Exposing    prep → X-rays → readout (between `trigger` and the raw frame)
    TASK_Processing  raw kept → processing → DX + thumbnail → commit
    TASK_Exposed     the selected image is exposed: `start` the next view (or the same one for a retake)

The path of one exposure (`trigger` answers once the generator is in prep, or with the refusal):

    expose (device layer) → raw frame in memory
    keep raw: tmp, fsync, rename; exposure row `raw_kept` + TASK_RecvRaw in one transaction
    process in the imaging thread → TASK_RecvMask, _RecvEnhance, _RecvForeground, _RecvApply
    DX + thumbnail: tmp, fsync, rename
    image row Exposed (window, EI/DI, delivered kV/mA/ms/mAs, detector, time) + TASK_Success in one transaction

A failure anywhere after the dose was delivered ends in TASK_Failure with the reason; the raw frame (if
kept) stays and start-up recovery finishes or fails every `raw_kept` exposure. Progress messages go
through the DuckDB outbox, so each is sent only after the state it reports is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import msgspec

from dros import imaging
from dros.acquisition import dicom_meta, repo, worker
from dros.acquisition.hooks import StudyHooks
from dros.acquisition.progress import ProgressLane, StageProgress
from dros.device.base import (
    ArmRequest,
    DetectorState,
    DeviceBusy,
    DeviceEvent,
    DeviceFault,
    DeviceNotReady,
    EventKind,
    ExposureRequest,
    ExposureResult,
)
from dros.device.detector import imaging_calibration
from dros.device.manager import DeviceManager
from dros.dx_metadata import DxMetadata
from dros.errors import DrosError, ErrorCode
from dros.mqtt.publisher import MqttPublisher
from dros.mqtt.topics import Progress, ProgressMessage, TaskGlobalStatus
from dros.settings import Locale, Settings
from dros.store.db import Database

log = logging.getLogger("dros.acquisition")

#: Disk space an exposure needs besides its raw frame: DX (≈ raw), thumbnail, DuckDB growth.
_SPACE_FACTOR = 2.5
_SPACE_MARGIN = 64 * 1024 * 1024
_DEFAULT_FRAME_BYTES = 3072 * 3072 * 2


class Phase(enum.StrEnum):
    IDLE = "TASK_Idle"
    PREPARING = "TASK_Preparing"
    READY = "TASK_Ready"
    NOT_READY = "TASK_NotReady"
    EXPOSING = "TASK_Exposing"
    PROCESSING = "TASK_Processing"
    EXPOSED = "TASK_Exposed"


class Inspection(msgspec.Struct, kw_only=True):
    sop: str
    study_id: str
    product: str
    view_id: str
    patient_size: str
    preset: str
    target_ei: float
    thickness_cm: float
    technique_loaded: bool = False
    not_ready: str = ""  # why start could not make it ready (APR/arm failure)


#: Reasons `judge` accepts for a reject (AAPM TG-305 categories, condensed).
REJECT_REASONS = (
    "positioning",
    "patient_motion",
    "artefact",
    "exposure_too_high",
    "exposure_too_low",
    "equipment",
    "test",
    "other",
)


class AcquisitionService:
    def __init__(
        self,
        db: Database,
        devices: DeviceManager,
        mqtt: MqttPublisher,
        settings: Settings,
        *,
        language: Callable[[], Locale] = lambda: Locale.en_US,
        retake: Callable[[str], Any] | None = None,
    ) -> None:
        self.db = db
        self.devices = devices
        self.mqtt = mqtt
        self.settings = settings
        self.studies = settings.data_path / "studies"
        self._language = language
        self._retake = retake  # sop → awaitable of the new slot's SOP UID (study service copy_view)
        self._phase = Phase.IDLE
        self._current: Inspection | None = None
        self._busy = False  # an exposure (or its processing) is running
        self._select = asyncio.Lock()
        self._imaging = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imaging")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._prep_waiters: dict[str, asyncio.Future[None]] = {}
        self._last_frame_bytes = _DEFAULT_FRAME_BYTES
        self.timings: deque[dict[str, float]] = deque(maxlen=200)  # per exposure, the last ones
        self.exposures = 0
        self.hooks = StudyHooks()  # other areas' writes in the exposure / leave transactions

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribe = self.devices.subscribe(self._on_device_event)
        self._publish_status()
        self._spawn(self.recover(), "acquisition-recovery")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), 5.0)
        self._imaging.shutdown(wait=True)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- status ---------------------------------------------------------------------------------
    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def current(self) -> Inspection | None:
        return self._current

    def status(self) -> TaskGlobalStatus:
        dev = self.devices.status
        insp_ready = self._phase == Phase.READY
        return TaskGlobalStatus(
            gen_status=dev.gen_status,
            gen_ready=dev.gen_ready,
            fpd_status=dev.fpd_status,
            fpd_ready=dev.fpd_ready,
            insp_status=self._phase.value,
            insp_ready=insp_ready,
            all_ready=insp_ready and dev.gen_ready and dev.fpd_ready and not dev.interlocks,
        )

    def _set_phase(self, phase: Phase) -> None:
        self._phase = phase
        self._publish_status()

    def _publish_status(self) -> None:
        self.mqtt.set_status(self.status())

    def _on_device_event(self, ev: DeviceEvent) -> None:
        if ev.kind == EventKind.EXPOSURE and ev.name == "prep":
            fut = self._prep_waiters.pop(ev.transaction, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        if ev.kind in (EventKind.STATUS, EventKind.ERROR):
            self._reassess()
        self._publish_status()

    def _reassess(self) -> None:
        """Ready ⇄ NotReady follows the devices while an image is selected and nothing runs."""
        if self._busy or self._current is None or self._phase in (Phase.PREPARING, Phase.EXPOSED, Phase.IDLE):
            return
        ok = self._current.technique_loaded and not self._current.not_ready and self._devices_ready()
        self._phase = Phase.READY if ok else Phase.NOT_READY

    def _devices_ready(self) -> bool:
        st = self.devices.status
        return st.gen_ready and st.fpd_ready and not st.interlocks

    # -- start ----------------------------------------------------------------------------------
    async def start_inspection(self, sop_uid: str) -> None:
        """Select the image, load its view's APR (patient size × work station), arm the detector."""
        if self._busy:
            raise DeviceBusy()
        async with self._select:
            await asyncio.to_thread(self._check_space)  # refuse to start what could not be kept
            slot = await self.db.read(lambda c: repo.slot(c, sop_uid))
            if slot is None or slot["image_deleted"] or slot["study_deleted"]:
                raise DrosError(ErrorCode.NOT_FOUND, field="instance_uid", en=f"no image {sop_uid}",
                                zh=f"图像 {sop_uid} 不存在")  # fmt: skip
            if slot["study_lock"] == "Locked":
                raise DrosError(ErrorCode.LOCKED, field="instance_uid")
            if slot["expose_status"] == "Exposed":
                # a retake: a new image of the same view in the same series, right after this one
                if self._retake is None:
                    raise DrosError(ErrorCode.UNPROCESSABLE, field="instance_uid", en="the image is already exposed",
                                    zh="该图像已曝光")  # fmt: skip
                new_sop = str(await self._retake(sop_uid))
                slot = await self.db.read(lambda c: repo.slot(c, new_sop))
                assert slot is not None
            if slot.get("apr_id") is None:
                raise DrosError(ErrorCode.UNPROCESSABLE, field="instance_uid",
                                en=f"the view {slot['view_id']} is not in the catalog",
                                zh=f"体位 {slot['view_id']} 不在协议目录中")  # fmt: skip
            insp = Inspection(
                sop=str(slot["sop_instance_uid"]),
                study_id=str(slot["study_id"]),
                product=str(slot["product"]),
                view_id=str(slot["view_id"]),
                patient_size=str(slot["patient_size"] or "Medium"),
                preset=dicom_meta.preset_for(slot),
                target_ei=float(slot["target_exi"] or 250),
                thickness_cm=20.0,
            )
            self._current = insp
            self._set_phase(Phase.PREPARING)
            await self._prepare(insp)

    async def _prepare(self, insp: Inspection) -> None:
        from dros.domain.device.schemas import AprParam
        from dros.domain.device.service import load_apr

        size = insp.patient_size if insp.patient_size in ("Small", "Medium", "Large", "Paediatric") else "Medium"
        try:
            await load_apr(self.devices, self.db, insp.product, AprParam(view_id=insp.view_id, patient_size=size))
            insp.technique_loaded = True
            await self.devices.arm(ArmRequest(view_id=insp.view_id, thickness_cm=insp.thickness_cm))
            insp.not_ready = ""
        except DrosError as exc:
            insp.not_ready = exc.describe("en_US")
            log.warning("inspection %s not ready: %s", insp.sop, insp.not_ready)
        self._phase = Phase.NOT_READY
        self._reassess()
        self._publish_status()

    # -- trigger --------------------------------------------------------------------------------
    async def trigger(self) -> None:
        """Start one exposure of the selected image; return once it is under way (generator in prep)."""
        insp = self._current
        if insp is None:
            raise DrosError(ErrorCode.UNPROCESSABLE, en="no inspection: call task/inspection/start first",
                            zh="未开始检查：请先调用 task/inspection/start")  # fmt: skip
        if self._busy:
            raise DeviceBusy()
        if self._phase == Phase.EXPOSED:
            raise DrosError(ErrorCode.UNPROCESSABLE, field="instance_uid",
                            en="the selected image is exposed: start the next view (or the same one for a retake)",
                            zh="当前图像已曝光：请开始下一个体位（或同一体位重拍）")  # fmt: skip
        self._busy = True  # no await before this line: concurrent triggers see it at once
        try:
            await asyncio.to_thread(self._check_space)
            if not insp.technique_loaded or insp.not_ready:
                await self._prepare(insp)
                if not insp.technique_loaded or insp.not_ready:
                    raise DeviceNotReady(insp.not_ready or "the view's technique is not loaded",
                                         "体位的曝光参数未加载", interlocks=("apr",))  # fmt: skip
            if self.devices.status.detector.state != DetectorState.ARMED:
                await self.devices.arm(ArmRequest(view_id=insp.view_id, thickness_cm=insp.thickness_cm))
            press = uuid.uuid4().hex
            under_way: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._prep_waiters[press] = under_way
            t_trigger = time.perf_counter()
            self._set_phase(Phase.EXPOSING)
            task = self._spawn(self._expose(insp, press, t_trigger), f"exposure-{press}")
            done, _ = await asyncio.wait({under_way, task}, return_when=asyncio.FIRST_COMPLETED)
            if task in done and not under_way.done():
                task.result()  # refused before prep: raise it to the caller (the task reset the state)
        except BaseException:
            self._prep_waiters.clear()
            if self._phase != Phase.EXPOSING:
                self._busy = False
                self._reassess()
                self._publish_status()
            raise

    def _check_space(self) -> None:
        need = self._last_frame_bytes * _SPACE_FACTOR + _SPACE_MARGIN
        self.studies.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.studies).free
        if free < need:
            raise DrosError(ErrorCode.STORAGE_FULL, en=f"{free // 2**20} MiB free, an exposure needs {int(need) // 2**20}",
                            zh=f"剩余 {free // 2**20} MiB，一次曝光需要 {int(need) // 2**20} MiB")  # fmt: skip

    async def _expose(self, insp: Inspection, press: str, t_trigger: float) -> None:
        timings: dict[str, float] = {}
        exposure_id = uuid.uuid4().hex
        await self.db.write(
            lambda c: repo.begin_exposure(
                c, exposure_id, insp.sop, insp.study_id, insp.preset, insp.target_ei, datetime.now(UTC)
            )
        )
        try:
            try:
                result = await self.devices.expose(ExposureRequest(press_id=press, transaction=press))
            except (DeviceNotReady, DeviceBusy):
                # refused before any dose: nothing to record; trigger() raises it
                await self.db.write(lambda c: repo.discard_exposure(c, exposure_id))
                self._busy = False
                self._phase = Phase.NOT_READY
                self._reassess()
                self._publish_status()
                raise
            except DeviceFault as exc:
                await self._fail_without_frame(insp, exposure_id, exc.describe(self._lang()), exc.post)
                return
            t_frame = time.perf_counter()
            timings["expose_readout_ms"] = (t_frame - t_trigger) * 1000
            if result.frame is None:
                # the detector's own reason, as the seed's example shows it ("open <file>: …")
                fault = result.frame_fault
                if fault is not None:
                    reason = self._say(fault.en or "", fault.zh or "")
                else:
                    reason = self._say("no image from the detector", "探测器未返回图像")
                await self._fail_without_frame(insp, exposure_id, reason, result.post)
                return
            self._set_phase(Phase.PROCESSING)
            await self._finish(insp, exposure_id, result, timings, t_trigger)
        except DrosError:
            raise
        except Exception as exc:
            log.exception("exposure %s of %s failed", exposure_id, insp.sop)
            if self._busy:
                await self._fail_without_frame(
                    insp, exposure_id, self._failed("exposure failed", "曝光失败", exc), None
                )
            raise
        finally:
            self._prep_waiters.pop(press, None)

    async def _fail_without_frame(self, insp: Inspection, exposure_id: str, reason: str, post: Any) -> None:
        dose = None if post is None else (post.kv, post.ma, post.ms, post.mas)
        detector_id = self.devices.status.detector.detector_id
        payload = ProgressMessage(status=Progress.FAILURE, sop=insp.sop, message=reason).payload()
        rows = await self.db.write(
            lambda c: repo.record_dose_only(c, exposure_id, dose, detector_id, reason, datetime.now(UTC), [payload])
        )
        self.mqtt.kick(rows)
        log.warning("exposure of %s failed: %s", insp.sop, reason)
        self._end_exposure(exposed=False)

    def _end_exposure(self, *, exposed: bool) -> None:
        self._busy = False
        if exposed:
            self._set_phase(Phase.EXPOSED)
        else:
            # the image stays unexposed: the operator may trigger again (re-armed on trigger)
            self._phase = Phase.NOT_READY
            self._reassess()
            self._publish_status()

    async def _finish(
        self, insp: Inspection, exposure_id: str, result: ExposureResult, timings: dict[str, float], t0: float
    ) -> None:
        frame = result.frame
        assert frame is not None
        post = result.post
        folder = self.studies / insp.study_id
        raw_path = folder / f"{insp.sop}.raw"
        loop = asyncio.get_running_loop()
        t = time.perf_counter()
        sha = await loop.run_in_executor(None, worker.keep_raw, raw_path, frame.pixels)
        timings["raw_persist_ms"] = (time.perf_counter() - t) * 1000
        self._last_frame_bytes = frame.pixels.nbytes
        ex = repo.ExposureRecord(
            exposure_id=exposure_id, sop_instance_uid=insp.sop, study_id=insp.study_id, raw_file=raw_path.name,
            raw_sha256=sha, rows=int(frame.pixels.shape[0]), cols=int(frame.pixels.shape[1]), kv=post.kv, ma=post.ma,
            ms=post.ms, mas=post.mas, detector_id=frame.detector_id, preset=insp.preset, target_ei=insp.target_ei,
            acquired_at=datetime.fromtimestamp(result.started_at or time.time(), UTC),
        )  # fmt: skip
        t = time.perf_counter()
        raw_msg = ProgressMessage(status=Progress.RECV_RAW, sop=insp.sop).payload()
        self.mqtt.kick(await self.db.write(lambda c: repo.record_raw(c, ex, [raw_msg])))
        timings["raw_commit_ms"] = (time.perf_counter() - t) * 1000
        exposed = await self._process_and_commit(ex, frame.pixels, timings, t0, imaging_calibration(frame))
        self._end_exposure(exposed=exposed)

    def _calibration(self) -> imaging.DetectorCalibration:
        """The configured panel's EI calibration (recovery: the frame's own record is gone with the process)."""
        dev = self.settings.device
        return imaging.DetectorCalibration(dn_per_ugy=dev.detector_dn_per_ugy, offset_dn=dev.detector_offset_dn)

    async def _write_progress(self, payloads: list[bytes]) -> None:
        self.mqtt.kick(await self.db.write(lambda c: repo.add_progress(c, payloads)))

    async def _dx_metadata(self, ex: repo.ExposureRecord) -> DxMetadata:
        def read(conn: Any) -> tuple[dict[str, Any] | None, int]:
            return repo.slot(conn, ex.sop_instance_uid), repo.instance_number(conn, ex.sop_instance_uid)

        slot, number = await self.db.read(read)
        if slot is None or slot["image_deleted"]:
            raise _ImageDeleted()
        return dicom_meta.build(
            slot, self.settings, instance_number=number, acquired_at=ex.acquired_at, kv=ex.kv, ma=ex.ma,
            ms=ex.ms, mas=ex.mas, detector_id=ex.detector_id,
        )  # fmt: skip

    async def _process_and_commit(
        self,
        ex: repo.ExposureRecord,
        pixels: Any,
        timings: dict[str, float],
        t0: float,
        calibration: imaging.DetectorCalibration | None = None,
    ) -> bool:
        """From a kept raw frame to the committed image (also used by recovery); False after TASK_Failure.

        What does not depend on the chain runs beside it or beside the file writes: the DICOM metadata is
        read from the database while the chain runs, the intermediate progress is committed while the DX
        and the thumbnail are written; only the image row waits for all of it."""
        loop = asyncio.get_running_loop()
        sop = ex.sop_instance_uid
        lane = ProgressLane(self._write_progress, loop)
        stages = StageProgress(sop, lane.send)
        meta_task: asyncio.Task[DxMetadata] | None = None
        cal = calibration or self._calibration()
        try:
            meta_task = loop.create_task(self._dx_metadata(ex))
            t = time.perf_counter()

            def chain() -> tuple[float, imaging.ProcessResult, float]:
                started = time.perf_counter()
                return started, worker.process(pixels, ex.preset, ex.target_ei, cal), time.perf_counter()

            started, result, ended = await loop.run_in_executor(self._imaging, chain)
            timings["imaging_queue_ms"] = (started - t) * 1000  # hand-off to the imaging thread
            timings["process_ms"] = (ended - started) * 1000
            timings["imaging_return_ms"] = (time.perf_counter() - ended) * 1000  # back on the loop
            for stage, seconds in result.timings.items():
                timings[f"stage_{stage}_ms"] = float(seconds) * 1000
                stages.stage_done(stage)
            stages.finish()
            t = time.perf_counter()
            meta = await meta_task
            timings["metadata_wait_ms"] = (time.perf_counter() - t) * 1000
            folder = self.studies / ex.study_id
            dcm_name, webp_name = await loop.run_in_executor(
                self._imaging, worker.write_outputs, folder, sop, result, meta, timings
            )
            t = time.perf_counter()
            await lane.drain()
            timings["progress_wait_ms"] = (time.perf_counter() - t) * 1000
            res = repo.ImageResult(
                image_file=dcm_name,
                thumbnail_file=webp_name,
                window_center=float(result.window_center),
                window_width=float(result.window_width),
                exposure_index=float(result.exposure_index),
                target_exposure_index=float(result.target_exposure_index),
                deviation_index=None if result.deviation_index is None else float(result.deviation_index),
            )
            done = ProgressMessage(status=Progress.SUCCESS, sop=sop, dcm=dcm_name, thumbnail=webp_name).payload()
            t = time.perf_counter()
            rows = await self.db.write(lambda c: self._commit_image(c, ex, res, [done]))
            timings["commit_ms"] = (time.perf_counter() - t) * 1000
            timings["committed_monotonic"] = time.monotonic()  # lets a subscriber time the publish
            self.mqtt.kick(rows)
            timings["total_ms"] = (time.perf_counter() - t0) * 1000
            self.timings.append(timings)
            self.exposures += 1
            return True
        except Exception as exc:
            if meta_task is not None and not meta_task.done():
                meta_task.cancel()
            with contextlib.suppress(Exception):
                await lane.drain()  # the failure goes out after whatever progress was sent
            reason = self._failed("image processing failed", "图像处理失败", exc)
            log.exception("processing of %s failed", sop)
            fail = ProgressMessage(status=Progress.FAILURE, sop=sop, message=reason).payload()
            self.mqtt.kick(
                await self.db.write(lambda c: repo.fail_exposure(c, ex.exposure_id, reason, datetime.now(UTC), [fail]))
            )
            return False

    def _commit_image(
        self, conn: Any, ex: repo.ExposureRecord, res: repo.ImageResult, payloads: list[bytes]
    ) -> repo.Rows:
        if repo.image_gone(conn, ex.sop_instance_uid):  # deleted while it was processed: not Exposed after all
            raise _ImageDeleted()
        now = datetime.now(UTC)
        rows = repo.commit_image(conn, ex, res, now, payloads)
        self.hooks.image_exposed(conn, ex.study_id, now)
        return rows

    def _lang(self) -> str:
        return str(self._language())

    def _say(self, en: str, zh: str) -> str:
        """A failure text in the system language (TASK_Failure `message` and the exposure's `failure`):
        the operator reads them at the console, like every other message of the service."""
        return (zh or en) if self._lang() == "zh_CN" else (en or zh)

    def _failed(self, en: str, zh: str, exc: BaseException) -> str:
        """`what failed: why`; the why in the system language when the error carries both texts."""
        if isinstance(exc, DrosError) and (exc.en or exc.zh):
            why_en, why_zh = exc.en or exc.zh, exc.zh or exc.en
        else:
            why_en = why_zh = str(exc)
        return self._say(f"{en}: {why_en}", f"{zh}：{why_zh}")

    # -- recovery -------------------------------------------------------------------------------
    async def recover(self) -> int:
        """Finish every exposure whose raw frame was kept but whose image was never committed."""
        cut_short = await self.db.read(repo.interrupted)
        for exposure_id, sop in cut_short:
            reason = self._say(
                "the service stopped during the exposure, before the raw frame was kept",
                "曝光过程中服务停止，原始图像尚未保存",
            )
            fail = ProgressMessage(status=Progress.FAILURE, sop=sop, message=reason).payload()
            await self.db.write(partial(_fail, exposure_id=exposure_id, reason=reason, payload=fail))
            log.warning("exposure %s of %s was cut short by a restart", exposure_id, sop)
        pending = await self.db.read(repo.unfinished)
        if not pending:
            if cut_short:
                self.mqtt.kick()
            return len(cut_short)
        self._busy = True
        try:
            for ex in pending:
                folder = self.studies / ex.study_id
                await asyncio.to_thread(worker.remove_stale_tmp, folder)
                try:
                    pixels = await asyncio.to_thread(
                        worker.load_raw, folder / ex.raw_file, ex.rows, ex.cols, ex.raw_sha256
                    )
                except worker.RawFrameDamaged as exc:
                    reason = self._say(f"recovery after restart: {exc.en}", f"重启后恢复失败：{exc.zh}")
                    fail = ProgressMessage(status=Progress.FAILURE, sop=ex.sop_instance_uid, message=reason).payload()
                    await self.db.write(partial(_fail, exposure_id=ex.exposure_id, reason=reason, payload=fail))
                    continue
                log.warning("reprocessing exposure %s of %s from its raw frame", ex.exposure_id, ex.sop_instance_uid)
                await self._process_and_commit(ex, pixels, {}, time.perf_counter())
        finally:
            self._busy = False
            if self._current is None:
                self._phase = Phase.IDLE
            self._reassess()
            self._publish_status()
            self.mqtt.kick()
        return len(pending) + len(cut_short)

    # -- judge / leave ----------------------------------------------------------------------------
    async def judge(self, sop_uid: str, accept: bool, reason: str) -> None:
        def write(conn: Any) -> None:
            slot = repo.slot(conn, sop_uid)
            if slot is None or slot["image_deleted"] or slot["study_deleted"]:
                raise DrosError(ErrorCode.NOT_FOUND, field="instance_uid", en=f"no image {sop_uid}",
                                zh=f"图像 {sop_uid} 不存在")  # fmt: skip
            if slot["expose_status"] != "Exposed":
                raise DrosError(ErrorCode.UNPROCESSABLE, field="instance_uid", en="the image is not exposed",
                                zh="该图像未曝光")  # fmt: skip
            if slot["study_lock"] == "Locked":
                raise DrosError(ErrorCode.LOCKED, field="instance_uid")
            repo.judge(conn, sop_uid, accept, reason)

        await self.db.write(write)

    async def leave(self, study_id: str, status: str) -> int:
        """InProgress (suspend) or Completed; Completed queues the accepted images for the default PACS
        nodes in the same transaction. Returns the number of images queued."""

        def write(conn: Any) -> int:
            state = repo.study_state(conn, study_id)
            if state is None or state[0]:
                raise DrosError(ErrorCode.NOT_FOUND, field="study_id", en=f"no study {study_id}",
                                zh=f"检查 {study_id} 不存在")  # fmt: skip
            now = datetime.now(UTC)
            repo.set_study_status(conn, study_id, status, now)
            if status == "Completed":
                self.hooks.study_completed(conn, study_id, now)
                return on_study_completed(conn, study_id, now)
            return 0

        if self._busy and self._current is not None and self._current.study_id == study_id:
            raise DeviceBusy()
        queued = await self.db.write(write)
        if self._current is not None and self._current.study_id == study_id:
            self._current = None
            with contextlib.suppress(DrosError):
                await self.devices.disarm()
            self._set_phase(Phase.IDLE)
        return queued


def on_study_completed(conn: Any, study_id: str, now: datetime) -> int:
    """The hook of `leave … Completed`: the PACS send queue takes the study's accepted images for the
    default nodes, inside the caller's transaction."""
    from dros.domain.pacs.repo import enqueue_completed_study

    return int(enqueue_completed_study(conn, study_id, now))


class _ImageDeleted(DrosError):
    def __init__(self) -> None:
        super().__init__(ErrorCode.NOT_FOUND, field="instance_uid", en="the image was deleted during the exposure",
                         zh="曝光过程中该图像已被删除")  # fmt: skip


def _fail(conn: Any, *, exposure_id: str, reason: str, payload: bytes) -> repo.Rows:
    return repo.fail_exposure(conn, exposure_id, reason, datetime.now(UTC), [payload])
