"""Which stored file a requested name stands for: only names an image row refers to are served."""

from __future__ import annotations

from dros.store.db import Conn

#: (study_id, study in the recycle bin) of the image a file belongs to
Owner = tuple[str, bool]


def owner_of_dcm(conn: Conn, name: str) -> Owner | None:
    row = conn.execute(
        "SELECT i.study_id, s.is_deleted FROM image i JOIN study s USING (study_id) "
        "WHERE i.image_file = ? AND NOT i.is_deleted LIMIT 1",
        [name],
    ).fetchone()
    return None if row is None else (str(row[0]), bool(row[1]))


def owner_of_thumbnail(conn: Conn, name: str) -> Owner | None:
    row = conn.execute(
        "SELECT i.study_id, s.is_deleted FROM image i JOIN study s USING (study_id) "
        "WHERE i.thumbnail_file = ? AND NOT i.is_deleted LIMIT 1",
        [name],
    ).fetchone()
    return None if row is None else (str(row[0]), bool(row[1]))


def image_of_capture(conn: Conn, sop_uid: str) -> tuple[str, bool, str] | None:
    """(study_id, in bin, DICOM file name) of an image that has a DICOM file."""
    row = conn.execute(
        "SELECT i.study_id, s.is_deleted, i.image_file FROM image i JOIN study s USING (study_id) "
        "WHERE i.sop_instance_uid = ? AND NOT i.is_deleted AND i.image_file <> ''",
        [sop_uid],
    ).fetchone()
    return None if row is None else (str(row[0]), bool(row[1]), str(row[2]))
