"""The worklist's stored list row (repo._LIST_ROW): always the same study as its columns, after every
kind of write; a row another writer marked stale is read from its columns and rendered again; and no
writer of the `study` table forgets it."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from dros.acquisition import repo as acquisition_repo
from dros.domain.study import repo
from dros.domain.study.repo import ListFilter
from tests.studies import DOG, register

STUDY = "/dr/api/v1/auth/study"
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "dros"
# Writes of `study` that change no field of the list row (Study): the bin flags are not in it.
NOT_IN_LIST_ROW = {("domain/study/repo.py", "set_in_bin")}


def columns_vs_list_rows(conn) -> list[tuple[bytes, bytes | None]]:
    """Every study as read from its columns and as its list row (None while stale), encoded."""
    cols = conn.execute(f"SELECT {repo._STUDY_SELECT} FROM study ORDER BY study_id").fetchall()
    rows = conn.execute("SELECT list_row FROM study ORDER BY study_id").fetchall()
    return [
        (
            msgspec.json.encode(repo.study_from_row(c)),
            None if r[0] is None else msgspec.json.encode(repo.study_from_list_row(r[0])),
        )
        for c, r in zip(cols, rows, strict=True)
    ]


def test_list_row_equals_the_columns_after_every_kind_of_write(client, auth_headers):
    h, vet = auth_headers(), auth_headers(product="VETDROS")
    human = register(client, h)
    dog = register(client, vet, DOG)
    chinese = register(client, h, patient_name="张^伟", patient_english_name="Zhang Wei", comment='胸痛 "quoted" \\')
    edit = {"accession_number": "ACC-NEW", "patient_id": "P-2", "patient_name": "Li^Si", "patient_size": "Small",
            "patient_sex": "F", "patient_dob": "2021-06-11T03:12:36.181739Z", "weight": 35, "thickness": 25,
            "length": 70, "comment": "edited", "operator_id": "OP1"}  # fmt: skip
    assert client.put(f"{STUDY}/{human['study_id']}", headers=h, json=edit).status_code == 200
    assert client.put(f"{STUDY}/{dog['study_id']}/lock", headers=vet, json={"lock": "Locked"}).status_code == 200
    assert client.request("DELETE", STUDY, headers=h, json=[chinese["study_id"]]).status_code == 200
    db = client.app.state.db
    db.write_sync(lambda c: acquisition_repo.set_study_status(c, human["study_id"], "Completed", datetime.now(UTC)))
    db.write_sync(repo.refresh_stale_list_rows)

    pairs = db.read_sync(columns_vs_list_rows)
    assert len(pairs) == 3
    for from_columns, from_list_row in pairs:
        assert from_list_row == from_columns
    listed = client.get(STUDY, headers=h, params={"status": "Completed"}).json()["data"]["studies"]
    assert [(s["patient_name"], s["study_status"], s["study_end_datetime"] is not None) for s in listed] == [
        ("Li^Si", "Completed", True)
    ]


def test_a_stale_row_is_read_from_its_columns_and_rendered_again(client, auth_headers):
    h = auth_headers()
    s = register(client, h)
    db = client.app.state.db
    # the acquisition's exposure commit: status changed, list row marked stale in the same statement
    db.write_sync(lambda c: acquisition_repo.set_study_status(c, s["study_id"], "InProgress", datetime.now(UTC)))
    assert db.read_sync(repo.stale_list_rows) == 1

    page = db.read_sync(lambda c: repo.list_studies(c, ListFilter(), deleted=False, page=1, page_size=10))
    assert page.stale == 1 and [x.study_status for x in page.studies] == ["InProgress"]

    listed = client.get(STUDY, headers=h).json()["data"]["studies"]  # the service renders it again
    assert [x["study_status"] for x in listed] == ["InProgress"]
    assert db.read_sync(repo.stale_list_rows) == 0
    page = db.read_sync(lambda c: repo.list_studies(c, ListFilter(), deleted=False, page=1, page_size=10))
    assert page.stale == 0 and page.studies[0].study_status == "InProgress"


def _functions_writing_study(source: str) -> list[tuple[str, str]]:
    """(function name, its source) of every function whose code writes the `study` table."""
    tree = ast.parse(source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            text = ast.get_source_segment(source, node) or ""
            if re.search(r"UPDATE study SET|INSERT INTO study\b|_insert\(conn, \"study\"", text):
                out.append((node.name, text))
    return out


def test_every_writer_of_the_study_table_keeps_the_list_row():
    writers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for name, text in _functions_writing_study(path.read_text()):
            writers.append((rel, name))
            if (rel, name) in NOT_IN_LIST_ROW:
                continue
            assert re.search(r"list_row = (NULL|\{_LIST_ROW\})", text) or "refresh_list_rows(" in text, (
                f"{rel}::{name} writes the study table without rendering or clearing its list row"
            )
    # the scan sees the writers it must see (a scan that finds nothing proves nothing)
    assert {("domain/study/repo.py", "insert_study"), ("domain/study/repo.py", "update_study"),
            ("acquisition/repo.py", "set_study_status"), ("domain/document/repo.py", "set_portrait")} <= set(writers)  # fmt: skip
    for sql in sorted((PACKAGE / "store" / "migrations").glob("*.sql")):
        if sql.name > "0038" and re.search(r"UPDATE study\b", sql.read_text()):
            assert "list_row = NULL" in sql.read_text(), f"{sql.name} changes studies but leaves their list rows"


def test_start_up_renders_rows_written_without_one(tmp_path):
    """Rows inserted by SQL that knows nothing of the list row (an older release, a migration) get one
    on the next start."""
    from dros.lifespan import open_store
    from dros.settings import Settings

    settings = Settings.load(environ={}, overrides={"data_dir": str(tmp_path / "data"), "log_level": "WARNING"})
    db = open_store(settings)
    try:
        db.write_sync(
            lambda c: c.execute(
                "INSERT INTO study (study_id, study_instance_uid, product, accession_number, patient_id, "
                "patient_name, patient_size, patient_type, study_type, study_start_datetime, create_time) "
                "VALUES ('100000000000001', '2.25.1', 'DROS', 'A1', 'P1', 'Old^Row', 'Medium', 'Human', 'Normal', "
                "now(), now())"
            )
        )
        assert db.read_sync(repo.stale_list_rows) == 1
    finally:
        db.close()
    db = open_store(settings)
    try:
        assert db.read_sync(repo.stale_list_rows) == 0
        (from_columns, from_list_row), *_ = db.read_sync(columns_vs_list_rows)
        assert from_list_row == from_columns and b'"Old^Row"' in from_list_row
    finally:
        db.close()
