"""The README's tables are the code's tables."""

from __future__ import annotations

from pathlib import Path

from dros.auth.roles import ROLE_PERMISSIONS, Permission, Role
from dros.errors import ErrorCode

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_error_code_table_matches_code():
    for c in ErrorCode:
        i = c.info
        assert f"| `{i.code}` | {i.status} | {c.name} | {i.en} | {i.zh} | {i.solution_en} |" in README, c.name


def test_permission_table_matches_code():
    for p in Permission:
        row = f"| `{p.value}` | " + " | ".join("✔" if p in ROLE_PERMISSIONS[r] else "" for r in Role) + " |"
        assert row in README, p
