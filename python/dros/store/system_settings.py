"""Key/value system settings that users change at run time (language) or that are minted once
per installation (serial number)."""

from __future__ import annotations

import secrets

from dros.store.db import Conn

LANGUAGE = "system.language"
SERIAL = "system.serial"


def get(conn: Conn, key: str) -> str | None:
    row = conn.execute("SELECT value FROM system_setting WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def put(conn: Conn, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO system_setting (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()",
        [key, value],
    )


def ensure_serial(conn: Conn) -> None:
    """Four groups of 8 hex digits, as the seed's `sn`; minted on first start, stable after."""
    if get(conn, SERIAL) is None:
        raw = secrets.token_hex(16)
        put(conn, SERIAL, "-".join(raw[i : i + 8] for i in range(0, 32, 8)))
