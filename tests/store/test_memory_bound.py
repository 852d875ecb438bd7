"""DuckDB's memory and WAL stay bounded over many writes while readers come and go.

An idle reader used to keep the transaction of its last `fetchone()` open: DuckDB then kept the undo
versions of every later write (its TRANSACTION memory grew 19 → 174 MiB over 105 exposures) and refused
every CHECKPOINT, automatic ones included, so the WAL grew too."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dros.store.db import Conn, Database

WRITES = 600
VALUE = "x" * 4096  # each write replaces 4 KiB in one row and adds another row of 4 KiB


def _transaction_bytes(db: Database) -> int:
    row = db.read_sync(
        lambda c: c.execute("SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'TRANSACTION'").fetchone()
    )
    return int(row[0]) if row else 0


def _wal_bytes(db: Database) -> int:
    wal = Path(db.path + ".wal")
    return wal.stat().st_size if wal.exists() else 0


def test_undo_memory_and_wal_stay_bounded_while_a_reader_is_idle(tmp_path: Path) -> None:
    db = Database(tmp_path / "dros.duckdb", readers=2)
    try:
        db.write_sync(lambda c: c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)"))
        db.write_sync(lambda c: c.execute("INSERT INTO t SELECT i, '' FROM range(100) r(i)"))
        db.write_sync(lambda c: c.execute("SET checkpoint_threshold = '1MiB'"))

        async def idle_readers() -> None:
            # reads that stop after their first row, on every reader thread and on this one;
            # the threads then stay idle while the writes below run
            await asyncio.gather(*(db.read(lambda c: c.execute("SELECT id FROM t").fetchone()) for _ in range(8)))

        asyncio.run(idle_readers())
        db.read_sync(lambda c: c.execute("SELECT id FROM t").fetchone())

        worst_undo = worst_wal = 0
        for i in range(WRITES):

            def write(c: Conn, i: int = i) -> None:
                c.execute("UPDATE t SET v = ? WHERE id = ?", [VALUE + str(i), i % 100])
                c.execute("INSERT INTO t VALUES (?, ?)", [1000 + i, VALUE])

            db.write_sync(write)
            if i % 50 == 49:
                worst_undo = max(worst_undo, _transaction_bytes(db))
                worst_wal = max(worst_wal, _wal_bytes(db))
        written = WRITES * 2 * len(VALUE)  # ≈ 4.9 MB
        # undo versions are released once no transaction needs them: a few writes' worth, not all
        assert worst_undo < written / 4, (worst_undo, written)
        # DuckDB's automatic checkpoint ran at its 1 MiB threshold (a WAL record per write on top)
        assert worst_wal < 2 * 2**20, (worst_wal, written)
        # and an explicit CHECKPOINT is accepted (it was refused: "other write transactions active")
        db.read_sync(lambda c: c.execute("CHECKPOINT"))
        assert _wal_bytes(db) < 64 * 1024
        assert db.read_sync(lambda c: c.execute("SELECT count(*) FROM t").fetchone()) == (100 + WRITES,)
    finally:
        db.close()
