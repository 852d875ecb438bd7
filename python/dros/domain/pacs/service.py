"""PACS nodes, echo and the send queue behind the §7/§9 endpoints. Sends are always queued (the
queue is the one path to a PACS); `scp/store`, `scp/study_store` and `scp/store_reply` then wait a
bounded time for the first attempt so the console can show its log, as the seed's replies do."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import msgspec

from dros.dicomnet import scu
from dros.dicomnet.queue_worker import SendWorker
from dros.domain.pacs import repo, validate
from dros.domain.pacs.schemas import (
    EchoBody,
    EchoReply,
    Node,
    NodeBody,
    NodeParams,
    ScpList,
    StoreReply,
)
from dros.domain.study.list_cache import GenerationCache
from dros.errors import DrosError, ErrorCode, conflict, invalid_param, not_found
from dros.settings import Settings
from dros.store.db import Conn, Database

FINISHED = (repo.COMPLETED, repo.COMMITTED, repo.FAILED)


class PacsService:
    def __init__(self, db: Database, settings: Settings, worker: SendWorker | None) -> None:
        self.db = db
        self.settings = settings
        self.worker = worker
        self._lists = GenerationCache(max_entries=32)

    # -- nodes ---------------------------------------------------------------------------------
    async def nodes(self, *, enabled_only: bool) -> ScpList:
        return ScpList(scp=await self.db.read(lambda c: repo.list_nodes(c, enabled_only=enabled_only)))

    def _fields(self, data: NodeBody) -> dict[str, Any]:
        return {
            "name": validate.node_name(data.name),
            "type": data.type,
            "address": validate.ipv4(data.address),
            "port": data.port,
            "aet": validate.ae_title(data.aet, "aet"),
            "aec": validate.ae_title(data.aec, "aec"),
            "is_enabled": data.is_enabled,
            "is_default": data.is_default,
        }

    @staticmethod
    def _name_free(conn: Conn, name: str, node_id: int | None) -> None:
        other = repo.node_by_name(conn, name)
        if other is not None and other.id != node_id:
            raise conflict(
                f"a node named {other.name!r} exists already (names ignore case)",
                f"已存在名为 {other.name!r} 的节点（名称不区分大小写）",
                field="name",
            )

    async def add_node(self, data: NodeBody) -> int:
        fields = self._fields(data)
        params = data.params or NodeParams()

        def write(conn: Conn) -> int:
            self._name_free(conn, fields["name"], None)
            return repo.insert_node(conn, fields, params, datetime.now(UTC))

        node_id = await self.db.write(write)
        self._wake()
        return node_id

    async def modify_node(self, node_id: int, data: NodeBody) -> None:
        fields = self._fields(data)

        def write(conn: Conn) -> None:
            node = repo.get_node(conn, node_id)
            if node is None:
                raise not_found("id", node_id)
            self._name_free(conn, fields["name"], node_id)
            # PUT replaces the reference's fields; params stay as they are unless sent
            repo.update_node(conn, node_id, fields, data.params or node.params)

        await self.db.write(write)
        self._wake()

    async def delete_node(self, node_id: int) -> None:
        def write(conn: Conn) -> None:
            if repo.get_node(conn, node_id) is None:
                raise not_found("id", node_id)
            active = repo.active_task_count(conn, node_id)
            if active:
                raise DrosError(
                    ErrorCode.CONFLICT,
                    field="id",
                    data={"queued_tasks": active},
                    en=f"{active} send task(s) for this node are still queued or sending; delete them "
                    "(DELETE scp/task) or let them finish first",
                    zh=f"该节点仍有 {active} 个发送任务在排队或发送中；请先删除这些任务（DELETE scp/task）或等待其完成",
                )
            repo.delete_node(conn, node_id)

        await self.db.write(write)

    # -- echo ----------------------------------------------------------------------------------
    async def echo(self, data: EchoBody) -> EchoReply:
        peer = scu.Peer(
            validate.ipv4(data.address),
            data.port,
            validate.ae_title(data.aet, "aet"),
            validate.ae_title(data.aec, "aec"),
        )
        outcome, output = await asyncio.to_thread(
            scu.echo, peer, self.settings.pacs.echo_timeout_s, verbose=data.verbose, debug=data.debug
        )
        return EchoReply(ok=outcome.ok, output=output, failure=str(outcome.failure or ""), reason=outcome.reason)

    # -- queueing ------------------------------------------------------------------------------
    @staticmethod
    def _sendable_node(conn: Conn, name: str) -> Node:
        node = repo.node_by_name(conn, validate.node_name(name, "pacs_name"))
        if node is None:
            raise not_found("pacs_name", name)
        if not node.is_enabled:
            raise DrosError(
                ErrorCode.UNPROCESSABLE,
                field="pacs_name",
                en=f"node {node.name!r} is disabled",
                zh=f"节点 {node.name!r} 已停用",
            )
        return node

    async def store_image(self, sop_uid: str, pacs_name: str) -> StoreReply:
        def write(conn: Conn) -> list[str]:
            node = self._sendable_node(conn, pacs_name)
            # an image of a study in the recycle bin is as gone as the study (study_store refuses it too)
            row = conn.execute(
                "SELECT i.expose_status, i.image_file, i.is_deleted OR s.is_deleted FROM image i "
                "JOIN study s ON s.study_id = i.study_id WHERE i.sop_instance_uid = ?",
                [sop_uid],
            ).fetchone()
            if row is None or row[2]:
                raise not_found("sop_instance_uid", sop_uid)
            if row[0] != "Exposed" or not row[1]:
                raise DrosError(
                    ErrorCode.UNPROCESSABLE,
                    field="sop_instance_uid",
                    en="the image has no pixel data yet; expose it first",
                    zh="该图像尚无像素数据，请先曝光",
                )
            return [q.task_id for q in repo.enqueue(conn, [sop_uid], node, repo.MANUAL, datetime.now(UTC))]

        return await self._wait_reply(await self.db.write(write))

    async def store_study(self, instance_uid: str, pacs_name: str) -> StoreReply:
        """Every exposed image of the study, judged or not: a user who sends a study by hand decides
        (rejected ones included — only automatic sending leaves them out)."""

        def write(conn: Conn) -> list[str]:
            node = self._sendable_node(conn, pacs_name)
            row = conn.execute(
                "SELECT study_id FROM study WHERE (study_id = ? OR study_instance_uid = ?) AND NOT is_deleted",
                [instance_uid, instance_uid],
            ).fetchone()
            if row is None:
                raise not_found("instance_uid", instance_uid)
            sops = repo.sendable_images(conn, row[0], accepted_only=False)
            if not sops:
                raise DrosError(
                    ErrorCode.UNPROCESSABLE,
                    field="instance_uid",
                    en="the study has no exposed image to send",
                    zh="该检查没有可发送的已曝光图像",
                )
            return [q.task_id for q in repo.enqueue(conn, sops, node, repo.MANUAL, datetime.now(UTC))]

        return await self._wait_reply(await self.db.write(write))

    async def retry(self, task_id: str) -> StoreReply:
        def write(conn: Conn) -> None:
            found = repo.task_outputs(conn, [task_id])
            if task_id not in found:
                raise not_found("instance_uid", task_id)
            if found[task_id][0] != repo.SENDING:
                repo.retry_task(conn, task_id, datetime.now(UTC))

        await self.db.write(write)
        return await self._wait_reply([task_id])

    async def _wait_reply(self, task_ids: list[str]) -> StoreReply:
        self._wake()
        deadline = time.monotonic() + self.settings.pacs.reply_wait_s
        while True:
            state = await self.db.read(lambda c: repo.task_outputs(c, task_ids))
            settled = all(s in FINISHED or (s == repo.PENDING and attempts > 0) for s, _, attempts, _ in state.values())
            if settled or time.monotonic() >= deadline or self.worker is None:
                break
            await asyncio.sleep(0.05)
        outputs: list[str] = []
        for tid in task_ids:
            status, output, attempts, error = state.get(tid, ("", "", 0, ""))
            if output and output not in outputs:
                outputs.append(output)
            if status not in FINISHED and not (status == repo.PENDING and attempts > 0):
                outputs.append(f"I: task {tid} is queued ({status}); the send queue keeps sending it\n")
            elif error:
                outputs.append(f"E: task {tid}: {error}\n")
        statuses = [state.get(t, ("",))[0] for t in task_ids]
        ok = bool(statuses) and all(s in (repo.COMPLETED, repo.COMMITTED) for s in statuses)
        return StoreReply(ok=ok, output="".join(outputs), task_ids=task_ids, status=statuses)

    # -- the queue -----------------------------------------------------------------------------
    async def queue(self, start: datetime | None, end: datetime | None) -> msgspec.Raw:
        """The JSON array of `QueueEntry` objects as the database renders it (no per-row objects).
        A console polling the queue is served from memory until any write commits."""
        key = (start, end)
        generation = self.db.generation  # read before the query: a write during it retires the entry
        body: bytes | None = self._lists.get(key, generation)
        if body is None:
            body = await self.db.read(lambda c: repo.list_json(c, start, end))
            self._lists.put(key, generation, body)
        return msgspec.Raw(body)

    async def delete_tasks(self, task_ids: list[str]) -> None:
        """All or nothing: unknown ids (404) or a task being sent right now (409) change nothing."""
        ids = list(dict.fromkeys(task_ids))

        def write(conn: Conn) -> None:
            found = repo.task_outputs(conn, ids)
            missing = [t for t in ids if t not in found]
            if missing:
                raise DrosError(
                    ErrorCode.NOT_FOUND,
                    field="task_ids",
                    data={"failed": missing},
                    en=f"no such task: {missing}",
                    zh=f"任务不存在：{missing}",
                )
            busy = [t for t in ids if found[t][0] == repo.SENDING]
            if busy:
                raise DrosError(
                    ErrorCode.CONFLICT,
                    field="task_ids",
                    data={"failed": busy},
                    en=f"being sent right now, try again in a moment: {busy}",
                    zh=f"正在发送中，请稍后再试：{busy}",
                )
            repo.delete_tasks(conn, ids)

        await self.db.write(write)

    def _wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()


def check_time_range(start: datetime | None, end: datetime | None) -> None:
    if start and end and start > end:
        raise invalid_param("end_time", "is before start_time", "早于 start_time")
