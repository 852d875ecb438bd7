"""Helpers of the PACS API tests: nodes through the API, waiting for the queue."""

from __future__ import annotations

import time
from typing import Any

API = "/dr/api/v1/auth"


def add_node(
    client: Any,
    headers: dict[str, str],
    name: str,
    port: int,
    *,
    aet: str = "STORESCP",
    aec: str = "DROS",
    default: bool = False,
    enabled: bool = True,
    **params: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "type": "PACS",
        "address": "127.0.0.1",
        "port": port,
        "aet": aet,
        "aec": aec,
        "is_enabled": enabled,
        "is_default": default,
    }
    if params:
        body["params"] = params
    r = client.post(f"{API}/manage/pacs", headers=headers, json=body)
    assert r.status_code == 200, r.text
    nodes = client.get(f"{API}/manage/pacs", headers=headers).json()["data"]["scp"]
    return next(n for n in nodes if n["name"] == name)


def queue(client: Any, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    r = client.get(f"{API}/scp/store", headers=headers, params=query)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def wait_tasks(client: Any, headers: dict[str, str], done: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        tasks = queue(client, headers)
        if done(tasks):
            return tasks
        if time.monotonic() > deadline:
            raise AssertionError(f"queue did not reach the expected state: {tasks}")
        time.sleep(0.1)
