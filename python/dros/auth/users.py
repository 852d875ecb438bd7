"""User records, the default users, and the in-memory directory the guards read."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime

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


def seed_default_users(conn: Conn) -> None:
    """Insert the default users that do not exist yet (first start)."""
    existing = {row[0] for row in conn.execute("SELECT name FROM app_user").fetchall()}
    for user_id, name, role, order, listed in DEFAULT_USERS:
        if name in existing:
            continue
        # guest never logs in with a password: its hash is of a random secret nobody knows.
        password = DEFAULT_PASSWORD if role != Role.GUEST else secrets.token_urlsafe(32)
        conn.execute(
            "INSERT INTO app_user (id, name, role, password_hash, list_order, is_listed) VALUES (?, ?, ?, ?, ?, ?)",
            [user_id, name, str(role), hash_password(password), order, listed],
        )


def load_users(conn: Conn) -> list[UserRecord]:
    rows = conn.execute(
        "SELECT id, name, role, avatar, password_hash, list_order, is_listed FROM app_user ORDER BY list_order, id"
    ).fetchall()
    return [UserRecord(User(r[0], r[1], r[2], r[3]), r[4], r[5], r[6]) for r in rows]


def set_password_hash(conn: Conn, user_id: int, password_hash: str) -> None:
    conn.execute(
        "UPDATE app_user SET password_hash = ?, password_changed_at = ? WHERE id = ?",
        [password_hash, datetime.now(UTC), user_id],
    )


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
