"""User records, the default users, and the in-memory directory the guards read."""

from __future__ import annotations

import secrets
import threading
import time

import msgspec

from dros.auth.passwords import hash_password
from dros.auth.roles import Role
from dros.store.db import Conn

# The seed's users, in the order pub/users lists them; ids follow the seed's login example
# (admin = 1, guest = 2). Default password for all: 123456 (documented; change it on install).
DEFAULT_PASSWORD = "123456"
DEFAULT_USERS: list[tuple[int, str, Role, int, bool]] = [
    (3, "service", Role.SERVICE, 0, True),
    (1, "admin", Role.ADMIN, 1, True),
    (4, "mgr", Role.MGR, 2, True),
    (5, "tech", Role.TECH, 3, True),
    (2, "guest", Role.GUEST, 99, False),
]


class User(msgspec.Struct, frozen=True):
    id: int
    name: str
    role: str
    avatar: str = ""


class UserRecord(msgspec.Struct, frozen=True):
    user: User
    password_hash: str
    list_order: int
    is_listed: bool
    # whole epoch seconds of the last password change; tokens issued before that second are refused
    password_changed_at: int | None = None
    password_is_default: bool = False


def seed_default_users(conn: Conn) -> None:
    """Insert the default users that do not exist yet (first start)."""
    existing = {row[0] for row in conn.execute("SELECT name FROM app_user").fetchall()}
    for user_id, name, role, order, listed in DEFAULT_USERS:
        if name in existing:
            continue
        # guest never logs in with a password: its hash is of a random secret nobody knows.
        password = DEFAULT_PASSWORD if role != Role.GUEST else secrets.token_urlsafe(32)
        conn.execute(
            "INSERT INTO app_user (id, name, role, password_hash, list_order, is_listed, password_is_default)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [user_id, name, str(role), hash_password(password), order, listed, role != Role.GUEST],
        )


def load_users(conn: Conn) -> list[UserRecord]:
    rows = conn.execute(
        "SELECT id, name, role, avatar, password_hash, list_order, is_listed,"
        " CAST(floor(epoch(password_changed_at)) AS BIGINT), password_is_default"
        " FROM app_user ORDER BY list_order, id"
    ).fetchall()
    return [UserRecord(User(r[0], r[1], r[2], r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows]


def set_password_hash(conn: Conn, user_id: int, password_hash: str, *, is_default: bool = False) -> None:
    """Store a new password; `password_changed_at` ends the sessions issued before it."""
    conn.execute(
        "UPDATE app_user SET password_hash = ?, password_changed_at = to_timestamp(?), password_is_default = ?"
        " WHERE id = ?",
        [password_hash, time.time(), is_default, user_id],
    )


def default_password_users(records: list[UserRecord]) -> list[str]:
    """Login users that still have the installation's default password."""
    return [r.user.name for r in records if r.password_is_default and r.user.role != Role.GUEST]


class UserDirectory:
    """Users by id and by name, kept in memory: every authenticated request looks one up."""

    def __init__(self, records: list[UserRecord]) -> None:
        self._lock = threading.Lock()
        self.replace(records)

    def replace(self, records: list[UserRecord]) -> None:
        with self._lock:
            self._by_id = {r.user.id: r for r in records}
            self._by_name = {r.user.name: r for r in records}
            self._listed = [r.user.name for r in records if r.is_listed]

    def by_id(self, user_id: int) -> UserRecord | None:
        return self._by_id.get(user_id)

    def by_name(self, name: str) -> UserRecord | None:
        return self._by_name.get(name)

    def listed_names(self) -> list[str]:
        return list(self._listed)

    def with_default_password(self) -> list[str]:
        return default_password_users(list(self._by_id.values()))
