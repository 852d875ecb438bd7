"""Start-up tasks: load the shipped catalog into DuckDB, and draw its position pictograms into the data dir.

Upgrade rule: the factory tables (0010) hold exactly one catalog release. When the shipped files differ from
the installed release (content hash), all factory rows are replaced in the start-up transaction; the user's
APR edits live in protocol_apr_exposure_edit (0011), which is never touched here, so they keep winning over
the new factory values until reset.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from dros import catalog_data
from dros.catalog_data import PRODUCT_FILES, THICKNESS_FILE, Catalog, icons
from dros.settings import Settings
from dros.store.db import Conn

log = logging.getLogger("dros.protocol")

# data file → table
TABLES = {
    "patient_types": "protocol_patient_type",
    "body_parts": "protocol_body_part",
    "views": "protocol_view",
    "aprs": "protocol_apr",
    "exposures": "protocol_apr_exposure",
    "devices": "protocol_apr_device",
    "procedures": "protocol_procedure",
    "procedure_views": "protocol_procedure_view",
}
# CSV column → table column where they differ (SQL identifiers are case-insensitive)
RENAME = {"kV": "kv", "mA": "ma", "ms": "ms", "mAs": "mas"}


@functools.lru_cache(maxsize=4)
def load_catalog(root: Path = catalog_data.ROOT) -> Catalog:
    return catalog_data.load(root)


def _columns_spec(cols: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{c}': '{t}'" for c, t in cols.items()) + "}"


def _insert_csv(conn: Conn, table: str, path: Path, cols: dict[str, str], prefix: dict[str, str]) -> None:
    # the files were parsed and checked by catalog_data.load(); DuckDB reads them again, typed, in bulk
    targets = [*prefix, *(RENAME.get(c, c) for c in cols)]
    selects = [*("?" for _ in prefix), *(f'"{c}"' for c in cols)]
    conn.execute(
        f"INSERT INTO {table} ({', '.join(targets)}) SELECT {', '.join(selects)} "
        f"FROM read_csv(?, header = true, auto_detect = false, quote = '\"', escape = '\"', "
        f"columns = {_columns_spec(cols)})",
        [*prefix.values(), str(path)],
    )


def installed_release(conn: Conn) -> tuple[str, str] | None:
    row = conn.execute("SELECT catalog_version, content_hash FROM protocol_catalog_release WHERE id = 1").fetchone()
    return (row[0], row[1]) if row else None


def install_catalog(conn: Conn, catalog: Catalog) -> bool:
    """Replace the factory catalog with `catalog` unless it is already installed; True when it was installed."""
    current = installed_release(conn)
    if current is not None and current[1] == catalog.content_hash:
        return False
    for table in (*TABLES.values(), "protocol_thickness_apr"):
        conn.execute(f"DELETE FROM {table}")
    for product, pc in catalog.products.items():
        for name, table in TABLES.items():
            _insert_csv(
                conn,
                table,
                pc.path(name),
                PRODUCT_FILES[name],
                {"product": product, "catalog_version": catalog.version},
            )
    _insert_csv(
        conn,
        "protocol_thickness_apr",
        catalog.root / "thickness.csv",
        THICKNESS_FILE,
        {"catalog_version": catalog.version},
    )
    conn.execute(
        "INSERT INTO protocol_catalog_release (id, catalog_version, content_hash, installed_at) "
        "VALUES (1, ?, ?, current_timestamp) ON CONFLICT (id) DO UPDATE SET "
        "catalog_version = excluded.catalog_version, content_hash = excluded.content_hash, "
        "installed_at = excluded.installed_at",
        [catalog.version, catalog.content_hash],
    )
    log.info(
        "protocol catalog installed",
        extra={"catalog_version": catalog.version, "previous": current[0] if current else None},
    )
    return True


def image_root(settings: Settings) -> Path:
    """The directory served as /pub/Image/."""
    return settings.data_path / "Image"


def install_catalog_task(conn: Conn, settings: Settings) -> None:
    install_catalog(conn, load_catalog())


def install_icons_task(conn: Conn, settings: Settings) -> None:
    written = icons.install(image_root(settings), load_catalog())
    if written:
        log.info("position pictograms written", extra={"files": written})
