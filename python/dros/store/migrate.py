"""Versioned schema migrations: `migrations/NNNN_verb_noun.sql`, applied once each, in order.

Each file runs in its own transaction together with its row in `schema_migration`, so a crash
mid-migration leaves the previous version intact and the next start retries it.
"""

from __future__ import annotations

import re
from pathlib import Path

from dros.store.db import Conn, Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def available() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise RuntimeError(f"migration file name must be NNNN_verb_noun.sql: {path.name}")
        found.append((int(m.group(1)), m.group(2), path))
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers in {MIGRATIONS_DIR}")
    return found


def applied(conn: Conn) -> set[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    return {row[0] for row in conn.execute("SELECT version FROM schema_migration").fetchall()}


def migrate(db: Database) -> list[int]:
    """Apply every pending migration; return the versions applied now."""
    done = db.write_sync(applied)
    newly = []
    for version, name, path in available():
        if version in done:
            continue
        sql = path.read_text(encoding="utf-8")

        def apply(conn: Conn, sql: str = sql, version: int = version, name: str = name) -> None:
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migration (version, name) VALUES (?, ?)", [version, name])

        db.write_sync(apply)
        newly.append(version)
    return newly
