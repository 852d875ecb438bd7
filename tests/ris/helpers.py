"""Worklist/MPPS test helpers: nodes with roles through manage/pacs, queries, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from tests.pacs.helpers import API, add_node

TODAY = date.today().strftime("%Y%m%d")


def worklist_node(client: Any, h: dict[str, str], name: str, port: int, aet: str) -> dict[str, Any]:
    return add_node(client, h, name, port, aet=aet, roles=["worklist"])


def query(client: Any, h: dict[str, str], **params: Any) -> Any:
    return client.get(f"{API}/worklist", headers=h, params=params)


def entries(client: Any, h: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = query(client, h, **params)
    assert r.status_code == 200, r.text
    return list(r.json()["data"]["entries"])


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
