"""The durable outbox: messages wait in DuckDB until the broker acknowledged them (PUBACK).

Callers add rows inside their own transaction (`enqueue`), so a message exists exactly when the state
change it reports was committed; the publisher drains the table in id order and deletes a row once
the broker holds the message. A crash or a broker outage leaves the rows for the next connection
(consumers may see a message twice, never lose one).
"""

from __future__ import annotations

from collections.abc import Sequence

from dros.store.db import Conn

OutboxRow = tuple[int, str, bytes, bool]


def enqueue(conn: Conn, topic: str, payload: bytes, *, retain: bool = False) -> int:
    row = conn.execute(
        "INSERT INTO mqtt_outbox (topic, payload, retain) VALUES (?, ?, ?) RETURNING id",
        [topic, payload.decode(), retain],
    ).fetchone()
    assert row is not None
    return int(row[0])


def pending(conn: Conn, limit: int = 200) -> list[OutboxRow]:
    rows = conn.execute("SELECT id, topic, payload, retain FROM mqtt_outbox ORDER BY id LIMIT ?", [limit]).fetchall()
    return [(int(i), str(t), str(p).encode(), bool(r)) for i, t, p, r in rows]


def delete(conn: Conn, ids: Sequence[int]) -> None:
    if ids:
        conn.execute("DELETE FROM mqtt_outbox WHERE id IN (SELECT unnest(?::BIGINT[]))", [list(ids)])


def count(conn: Conn) -> int:
    row = conn.execute("SELECT count(*) FROM mqtt_outbox").fetchone()
    return int(row[0]) if row else 0
