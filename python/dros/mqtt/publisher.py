"""The one MQTT client of the service (gmqtt, MQTT 5): retained task status and the outbox drain.

- The status (`MODULE/TASK/STATUS/GLOBAL`) is a latest-value topic: published retained, QoS 1, on
  every change and again after every (re)connect — an old last will may still be retained there.
- Progress messages go through the DuckDB outbox (`dros.mqtt.outbox`): the drain publishes them in id
  order with QoS 1 and deletes each row only after the broker's PUBACK. gmqtt's own QoS queue lives in
  memory and is dropped when the broker has no session for us, so it is never the only copy.
- The last will (retained, QoS 1) marks the service offline; a clean stop publishes the same itself.
- gmqtt restores no subscriptions: `on_connect` resubscribes whatever `subscribe()` registered.
- Nothing here blocks or raises into callers when the broker is down: the first connection is retried
  every `reconnect_delay_s`, later losses are handled by gmqtt's reconnect with the same delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import gmqtt
from gmqtt.storage import PersistentStorage

from dros.mqtt import outbox
from dros.mqtt.topics import OFFLINE_STATUS, STATUS_TOPIC, TaskGlobalStatus
from dros.settings import MqttSettings
from dros.store.db import Database

log = logging.getLogger("dros.mqtt")


def broker_address(url: str) -> tuple[str, int]:
    """(host, port) of an `mqtt://host:port` URL (port 1883 when absent)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"mqtt.url must look like mqtt://host:port, got {url!r}")
    return parts.hostname, parts.port or 1883


class _AckStorage(PersistentStorage):  # type: ignore[misc]
    """gmqtt's in-flight store, extended to report which outbox row a PUBACK acknowledged."""

    def __init__(self, on_ack: Callable[[int], None]) -> None:
        super().__init__()
        self.last_mid: int | None = None
        self.rows: dict[int, int] = {}  # packet id → outbox row id
        self._on_ack = on_ack

    def push_message(self, mid: int, raw_package: bytes) -> None:
        super().push_message(mid, raw_package)
        self.last_mid = mid

    def remove_message_by_mid(self, mid: int) -> None:
        super().remove_message_by_mid(mid)
        row = self.rows.pop(mid, None)
        if row is not None:
            self._on_ack(row)

    def forget(self) -> None:
        """The connection is gone: its packets will not be acknowledged (the rows stay in the outbox)."""
        self.rows.clear()


class MqttPublisher:
    def __init__(self, db: Database, settings: MqttSettings, *, client_id: str | None = None) -> None:
        self._db = db
        self._settings = settings
        self._host, self._port = broker_address(settings.url)
        self._client_id = client_id or settings.client_id
        self._status: TaskGlobalStatus | None = None
        self._published_status: bytes | None = None
        self._subscriptions: dict[str, Callable[[str, bytes], None]] = {}
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._client: gmqtt.Client | None = None
        self._storage = _AckStorage(self._acked)
        self._queue: list[outbox.OutboxRow] = []  # committed rows not yet published on this connection
        self._reload = True  # after every (re)connect the outbox table is the truth
        self._published: set[int] = set()  # row ids published on this connection
        self._to_delete: list[int] = []
        self._delete_wake = asyncio.Event()
        self.connects = 0  # successful (re)connections since start
        self.delivered = 0  # outbox messages acknowledged by the broker

    # -- public -----------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def status(self) -> TaskGlobalStatus | None:
        return self._status

    async def start(self) -> None:
        will = gmqtt.Message(STATUS_TOPIC, OFFLINE_STATUS.mqtt_payload(), qos=1, retain=True)
        client = gmqtt.Client(self._client_id, will_message=will, persistent_storage=self._storage)
        client.set_config({"reconnect_retries": -1, "reconnect_delay": self._settings.reconnect_delay_s})
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self._tasks = [
            asyncio.create_task(self._connect_loop(), name="mqtt-connect"),
            asyncio.create_task(self._drain_loop(), name="mqtt-drain"),
            asyncio.create_task(self._delete_loop(), name="mqtt-outbox-delete"),
        ]

    async def stop(self) -> None:
        """Say "offline" (retained) and disconnect cleanly, which discards the will."""
        self._stopping = True
        client = self._client
        if client is not None and self.connected:
            with contextlib.suppress(Exception):
                client.publish(STATUS_TOPIC, OFFLINE_STATUS.mqtt_payload(), qos=1, retain=True)
                await asyncio.sleep(0.05)  # let the PUBLISH leave before DISCONNECT
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2.0)
        self._storage.forget()

    def set_status(self, status: TaskGlobalStatus) -> None:
        """The current task status; published (retained) now if it changed and the broker is up."""
        self._status = status
        self._publish_status()

    def kick(self, rows: list[outbox.OutboxRow] | None = None) -> None:
        """New rows were committed to the outbox: publish them (given, they go out at once, without
        reading the table again)."""
        if rows:
            self._queue.extend(rows)
        else:  # rows committed elsewhere: read the table again
            self._reload = True
        self._wake.set()

    def subscribe(self, topic: str, handler: Callable[[str, bytes], None]) -> None:
        """Subscribe now and after every reconnect (gmqtt does not restore subscriptions)."""
        self._subscriptions[topic] = handler
        if self._client is not None and self.connected:
            self._client.subscribe(topic, qos=1)

    # -- connection -------------------------------------------------------------------------------
    async def _connect_loop(self) -> None:
        """Retry the first connection until it succeeds; after that gmqtt reconnects by itself."""
        assert self._client is not None
        while not self._stopping:
            try:
                await self._client.connect(self._host, self._port, keepalive=10)
                return
            except (TimeoutError, OSError) as exc:
                log.debug("MQTT broker %s:%s unreachable: %s", self._host, self._port, exc)
            except Exception as exc:  # a refusing broker: keep trying, the service works without it
                log.warning("MQTT connect to %s:%s failed: %s", self._host, self._port, exc)
            await asyncio.sleep(self._settings.reconnect_delay_s)

    def _on_connect(self, client: gmqtt.Client, flags: Any, rc: Any, properties: Any) -> None:
        self.connects += 1
        self._published_status = None
        self._published.clear()
        self._reload = True
        self._connected.set()
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        self._publish_status()
        log.info("MQTT connected to %s:%s", self._host, self._port)
        self._wake.set()

    def _on_disconnect(self, client: gmqtt.Client, packet: Any, exc: Any = None) -> None:
        if self._connected.is_set():
            log.warning("MQTT connection to %s:%s lost", self._host, self._port)
        self._connected.clear()
        self._storage.forget()
        self._reload = True

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        handler = self._subscriptions.get(topic)
        if handler is not None:
            try:
                handler(topic, payload)
            except Exception:
                log.exception("MQTT handler for %s failed", topic)
        return 0

    def _publish_status(self) -> None:
        if self._status is None or self._client is None or not self.connected:
            return
        payload = self._status.mqtt_payload()
        if payload == self._published_status:
            return
        try:
            self._client.publish(STATUS_TOPIC, payload, qos=1, retain=True)
        except Exception as exc:  # socket closing under us: on_connect publishes it again
            log.debug("status publish failed: %s", exc)
            return
        self._published_status = payload

    # -- outbox -----------------------------------------------------------------------------------
    async def _drain_loop(self) -> None:
        """Publish outbox rows in id order, without waiting for one PUBACK before the next; each row is
        deleted once its PUBACK arrived (`_delete_loop`)."""
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            if not self.connected:
                continue
            try:
                if self._reload:
                    self._reload = False
                    stored = await self._db.read(lambda c: outbox.pending(c, 100_000))
                    deleting = set(self._to_delete)
                    stored = [r for r in stored if r[0] not in deleting]
                    known = {r[0] for r in stored}
                    merged = stored + [r for r in self._queue if r[0] not in known]
                    self._queue = sorted(merged, key=lambda r: r[0])
                self._publish_queue()
            except Exception:
                log.exception("MQTT outbox drain failed")
                self._reload = True
                await asyncio.sleep(self._settings.reconnect_delay_s)
                self._wake.set()

    def _publish_queue(self) -> None:
        client = self._client
        assert client is not None
        queue, self._queue = self._queue, []
        for i, (row_id, topic, payload, retain) in enumerate(queue):
            if not self.connected:
                self._queue = queue[i:] + self._queue
                return
            if row_id in self._published:
                continue
            client.publish(topic, payload, qos=1, retain=retain)
            # publish() only writes to the transport: its PUBACK cannot have been handled yet
            mid = self._storage.last_mid
            assert mid is not None
            self._storage.rows[mid] = row_id
            self._published.add(row_id)

    def _acked(self, row_id: int) -> None:
        self.delivered += 1
        self._published.discard(row_id)
        self._to_delete.append(row_id)
        self._delete_wake.set()

    async def _delete_loop(self) -> None:
        while not self._stopping:
            await self._delete_wake.wait()
            self._delete_wake.clear()
            ids, self._to_delete = self._to_delete, []
            if not ids:
                continue
            try:
                await self._db.write(partial(outbox.delete, ids=ids))
            except Exception:  # still acknowledged: a later start publishes them once more at worst
                log.exception("MQTT outbox delete failed")
