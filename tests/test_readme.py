"""The README's tables are the code's tables."""

from __future__ import annotations

import re
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


ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_speak_of_the_project_only():
    """No absolute path of one machine and no word about how work sessions are organised."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for pattern in (
            r"(?<![\w.])/w[o]rk/",  # written so that the pattern is not itself such a path
            r"(?<![\w.])/home/\w",
            r"(?<![\w.])/root/",
            r"\bhelper session",
            r"\bparallel (work )?sessions?\b",
        ):
            assert not re.search(pattern, text, re.IGNORECASE), f"{doc.name}: {pattern}"
    assert not (ROOT / "docs" / "HELPERS.md").exists()


def test_contributing_names_every_lint_command_ci_runs():
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    script = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    linters = [
        line.replace('"$py/', ".venv/bin/").replace('"', "")
        for line in script.splitlines()
        if re.match(r'^("\$py/(ruff|mypy)"|cargo (fmt|clippy))', line)
    ]
    assert len(linters) >= 5, linters
    for command in linters:
        assert command in contributing, command
