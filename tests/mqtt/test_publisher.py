"""The publisher against a real mosquitto: retained status, outbox order and durability, last will,
broker outage and restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from dros.lifespan import open_store
from dros.mqtt import outbox
from dros.mqtt.broker import EmbeddedBroker, mosquitto_config
from dros.mqtt.publisher import MqttPublisher
from dros.mqtt.topics import OFFLINE_STATUS, PROGRESS_TOPIC, STATUS_TOPIC, ProgressMessage, TaskGlobalStatus
from dros.settings import MqttSettings, Settings
from dros.store.db import Database
from tests.mqtt_peers import Broker, Subscriber
from tests.ports import free_port

READY = TaskGlobalStatus(
    gen_status="GENERATOR_STATUS_STANDBY",
    gen_ready=True,
    fpd_status="DETECTOR_STATUS_STANDBY",
    fpd_ready=True,
    insp_status="TASK_Ready",
    insp_ready=True,
    all_ready=True,
)
BUSY = msgspec.structs.replace(READY, insp_status="TASK_Exposing", insp_ready=False, all_ready=False)


def _db(data_dir: Path) -> Database:
    return open_store(Settings.load(environ={}, overrides={"data_dir": str(data_dir)}))


def _publisher(db: Database, port: int) -> MqttPublisher:
    return MqttPublisher(db, MqttSettings(url=f"mqtt://127.0.0.1:{port}", reconnect_delay_s=0.3), client_id="dros-t")


async def _enqueue(db: Database, pub: MqttPublisher, sop: str, statuses: list[str]) -> None:
    def add(c: object) -> None:
        for s in statuses:
            outbox.enqueue(c, PROGRESS_TOPIC, ProgressMessage(status=s, sop=sop).payload())  # type: ignore[arg-type]

    await db.write(add)
    pub.kick()


def _status_of(m: object) -> str:
    return str(m.payload.get("InspStatus"))  # type: ignore[attr-defined]


def test_status_is_retained_with_seed_keys_and_republished_on_change(broker: Broker, data_dir: Path) -> None:
    async def main() -> None:
        db = _db(data_dir)
        pub = _publisher(db, broker.port)
        await pub.start()
        pub.set_status(READY)
        for _ in range(100):
            if pub.connected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        late = Subscriber(broker.port, (STATUS_TOPIC,))
        await late.connect()
        first = await late.wait_for(lambda m: m.topic == STATUS_TOPIC)
        assert first.retain, "a late subscriber gets the status as a retained message"
        assert first.payload == {
            "GENStatus": "GENERATOR_STATUS_STANDBY",
            "GENReady": True,
            "FPDStatus": "DETECTOR_STATUS_STANDBY",
            "FPDReady": True,
            "InspStatus": "TASK_Ready",
            "InspReady": True,
            "AllReady": True,
        }
        pub.set_status(BUSY)
        changed = await late.wait_for(lambda m: _status_of(m) == "TASK_Exposing")
        assert changed.payload["AllReady"] is False
        await late.disconnect()
        await pub.stop()
        # a clean stop says offline itself (the will is discarded by a clean DISCONNECT)
        after = Subscriber(broker.port, (STATUS_TOPIC,))
        await after.connect()
        gone = await after.wait_for(lambda m: m.topic == STATUS_TOPIC)
        assert gone.retain and gone.payload == msgspec.json.decode(OFFLINE_STATUS.mqtt_payload())
        await after.disconnect()
        db.close()

    asyncio.run(main())


def test_progress_waits_in_outbox_while_broker_down_and_arrives_in_order(tmp_path: Path, data_dir: Path) -> None:
    broker = Broker(tmp_path / "mosq")  # not started yet: the service comes up without a broker

    async def main() -> None:
        db = _db(data_dir)
        pub = _publisher(db, broker.port)
        await pub.start()
        pub.set_status(READY)
        order = ["TASK_RecvRaw", "TASK_RecvMask", "TASK_RecvEnhance", "TASK_RecvForeground", "TASK_RecvApply"]
        await _enqueue(db, pub, "1.2.3", order)
        await asyncio.sleep(0.5)
        assert not pub.connected
        assert await db.read(outbox.count) == 5, "messages wait in DuckDB while the broker is down"
        broker.start()
        sub = Subscriber(broker.port)
        await sub.connect()
        await sub.wait_for(lambda m: m.payload.get("status") == "TASK_RecvApply", timeout=10)
        got = [m.payload["status"] for m in sub.messages if m.topic == PROGRESS_TOPIC]
        assert got == order
        status = await sub.wait_for(lambda m: m.topic == STATUS_TOPIC)
        assert _status_of(status) == "TASK_Ready", "the status is published after the late first connect"
        for _ in range(50):
            if await db.read(outbox.count) == 0:
                break
            await asyncio.sleep(0.05)
        assert await db.read(outbox.count) == 0, "acknowledged rows leave the outbox"
        assert pub.delivered == 5
        await sub.disconnect()
        await pub.stop()
        db.close()

    try:
        asyncio.run(main())
    finally:
        broker.kill()


def test_broker_killed_and_restarted_status_republished_and_outbox_delivered(broker: Broker, data_dir: Path) -> None:
    async def main() -> None:
        db = _db(data_dir)
        pub = MqttPublisher(db, MqttSettings(url=broker.url, reconnect_delay_s=1.0), client_id="dros-t")
        await pub.start()
        pub.set_status(READY)
        sub = Subscriber(broker.port)
        await sub.connect()
        await sub.wait_for(lambda m: _status_of(m) == "TASK_Ready")
        await sub.disconnect()
        connects = pub.connects

        broker.kill()  # SIGKILL, no persistence: retained messages and sessions are gone
        await asyncio.sleep(0.3)
        assert not pub.connected
        pub.set_status(BUSY)  # the REST side keeps changing while the broker is away
        await _enqueue(db, pub, "9.9.9", ["TASK_RecvRaw", "TASK_Failure"])
        broker.start()
        # a console that was subscribed before: back before the publisher (its reconnect delay is 1 s)
        again = Subscriber(broker.port)
        await again.connect()
        await again.wait_for(lambda m: m.payload.get("status") == "TASK_Failure", timeout=10)
        got = [m.payload["status"] for m in again.messages if m.topic == PROGRESS_TOPIC]
        assert got == ["TASK_RecvRaw", "TASK_Failure"], "messages of the outage arrive after it, in order"
        assert pub.connects == connects + 1, "the publisher reconnected by itself"
        late = Subscriber(broker.port, (STATUS_TOPIC,))
        await late.connect()
        st = await late.wait_for(lambda m: m.topic == STATUS_TOPIC, timeout=10)
        assert st.retain and _status_of(st) == "TASK_Exposing", "the latest status is retained again"
        await late.disconnect()
        await again.disconnect()
        await pub.stop()
        db.close()

    asyncio.run(main())


def test_outbox_survives_a_restart_of_the_service(broker: Broker, data_dir: Path) -> None:
    """Rows written while the broker was unreachable are delivered by the next process."""

    async def first() -> None:
        db = _db(data_dir)
        pub = _publisher(db, free_port())  # nobody listens there
        await pub.start()
        await _enqueue(db, pub, "4.5.6", ["TASK_RecvRaw", "TASK_Success"])
        await asyncio.sleep(0.2)
        await pub.stop()
        db.close()

    async def second() -> None:
        db = _db(data_dir)
        assert await db.read(outbox.count) == 2
        sub = Subscriber(broker.port)
        await sub.connect()
        pub = _publisher(db, broker.port)
        await pub.start()
        await sub.wait_for(lambda m: m.payload.get("status") == "TASK_Success")
        assert [m.payload["sop"] for m in sub.messages if m.topic == PROGRESS_TOPIC] == ["4.5.6", "4.5.6"]
        await sub.disconnect()
        await pub.stop()
        db.close()

    asyncio.run(first())
    asyncio.run(second())


CHILD = """
import asyncio, sys
from dros.lifespan import open_store
from dros.mqtt.publisher import MqttPublisher
from dros.mqtt.topics import TaskGlobalStatus
from dros.settings import MqttSettings, Settings

async def main():
    db = open_store(Settings.load(environ={}, overrides={"data_dir": sys.argv[1]}))
    pub = MqttPublisher(db, MqttSettings(url="mqtt://127.0.0.1:" + sys.argv[2]))
    await pub.start()
    pub.set_status(TaskGlobalStatus(gen_status="G", gen_ready=True, fpd_status="F", fpd_ready=True,
                                    insp_status="TASK_Ready", insp_ready=True, all_ready=True))
    while not pub.connected:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    print("up", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_last_will_marks_the_service_offline_when_it_is_killed(broker: Broker, data_dir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), str(broker.port)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"up"

        async def main() -> None:
            sub = Subscriber(broker.port, (STATUS_TOPIC,))
            await sub.connect()
            await sub.wait_for(lambda m: _status_of(m) == "TASK_Ready")
            os.killpg(proc.pid, signal.SIGKILL)
            t0 = time.monotonic()
            off = await sub.wait_for(lambda m: _status_of(m) == "TASK_Offline", timeout=15)
            assert off.payload["AllReady"] is False
            assert time.monotonic() - t0 < 15
            await sub.disconnect()
            late = Subscriber(broker.port, (STATUS_TOPIC,))
            await late.connect()
            kept = await late.wait_for(lambda m: True)
            assert kept.retain and _status_of(kept) == "TASK_Offline", "the offline mark is retained"
            await late.disconnect()

        asyncio.run(main())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_embedded_broker_listens_on_tcp_and_websocket_and_stops(tmp_path: Path) -> None:
    port, ws = free_port(), free_port()
    conf = mosquitto_config("127.0.0.1", port, ws, tmp_path / "log")
    assert f"listener {port} 127.0.0.1" in conf and f"listener {ws} 127.0.0.1\nprotocol websockets" in conf
    b = EmbeddedBroker(tmp_path / "mqtt", "127.0.0.1", port, ws)
    b.start(die_with_parent=False)
    try:
        assert (tmp_path / "mqtt" / "mosquitto.conf").exists()

        async def main() -> None:
            sub = Subscriber(port, ("x/#",))
            await sub.connect()
            await sub.disconnect()

        asyncio.run(main())
    finally:
        b.stop()
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_embedded_broker_refuses_a_port_another_process_listens_on(tmp_path: Path) -> None:
    """Someone else answering on the port is not our broker: start must fail, not hand the service
    a broker that exited (a connect probe would have succeeded here)."""
    import socket

    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen(1)
        b = EmbeddedBroker(tmp_path / "mqtt", "127.0.0.1", port)
        try:
            with pytest.raises(RuntimeError, match="mosquitto"):
                b.start(timeout_s=3.0, die_with_parent=False)
            assert b.proc is None
        finally:
            b.stop()  # a start that wrongly succeeded must not leave its broker behind


def test_embedded_broker_only_for_loopback_urls() -> None:
    def s(url: str, embedded: bool = True) -> Settings:
        return Settings.load(environ={}, overrides={"mqtt": {"url": url, "embedded": embedded}})

    assert EmbeddedBroker.for_settings(s("mqtt://127.0.0.1:1999")) is not None
    assert EmbeddedBroker.for_settings(s("mqtt://localhost:1999")) is not None
    assert EmbeddedBroker.for_settings(s("mqtt://broker.example:1883")) is None
    assert EmbeddedBroker.for_settings(s("mqtt://127.0.0.1:1999", embedded=False)) is None


def test_dros_serve_starts_the_broker_and_it_dies_with_the_service(tmp_path: Path) -> None:
    import socket

    from tests.conftest import start_server, stop_server

    port, ws = free_port(), free_port()
    server = start_server(
        tmp_path / "data", extra_env={"DROS_MQTT_URL": f"mqtt://127.0.0.1:{port}", "DROS_MQTT_WS_PORT": str(ws)}
    )
    try:
        assert (tmp_path / "data" / "mqtt" / "mosquitto.conf").exists()
        socket.create_connection(("127.0.0.1", ws), timeout=1).close()

        async def main() -> None:
            sub = Subscriber(port, (STATUS_TOPIC,))
            await sub.connect()
            await sub.disconnect()

        asyncio.run(main())
        server.proc.send_signal(signal.SIGKILL)  # no clean-up code runs: the parent-death signal stops mosquitto
        server.proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the embedded broker outlived the service")
    finally:
        stop_server(server)


def test_subscriptions_are_restored_after_the_broker_restarts(broker: Broker, data_dir: Path) -> None:
    """gmqtt restores no subscriptions by itself: the publisher subscribes again in on_connect."""
    import gmqtt

    async def main() -> None:
        db = _db(data_dir)
        pub = _publisher(db, broker.port)
        got: list[bytes] = []
        pub.subscribe("MODULE/TASK/CMD/test", lambda _t, payload: got.append(payload))
        await pub.start()
        sender = gmqtt.Client("sender")

        async def send(text: bytes) -> None:
            await sender.connect("127.0.0.1", broker.port)
            sender.publish("MODULE/TASK/CMD/test", text, qos=1)
            await asyncio.sleep(0.3)
            await sender.disconnect()

        for _ in range(100):
            if pub.connected:
                break
            await asyncio.sleep(0.05)
        await send(b"one")
        assert got == [b"one"]
        connects = pub.connects
        broker.kill()
        broker.start()
        for _ in range(100):
            if pub.connects > connects:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        sender = gmqtt.Client("sender2")
        await send(b"two")
        assert got == [b"one", b"two"]
        await pub.stop()
        db.close()

    asyncio.run(main())
