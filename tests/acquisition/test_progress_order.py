"""Stage names → progress messages (dros.acquisition.progress): the contract's order whatever order the
chain's stages end in, each message once, and batches committed in the order they were sent."""

from __future__ import annotations

import asyncio
import json
import threading

from dros.acquisition.progress import ProgressLane, StageProgress

ORDER = ["TASK_RecvMask", "TASK_RecvEnhance", "TASK_RecvForeground", "TASK_RecvApply"]


def statuses(batches: list[list[bytes]]) -> list[str]:
    return [json.loads(p)["status"] for batch in batches for p in batch]


def test_messages_follow_the_contract_order_not_the_chain_order() -> None:
    sent: list[list[bytes]] = []
    sp = StageProgress("1.2.3", sent.append)
    sp.stage_done("prepare")
    sp.stage_done("collimator_rect")
    assert sent == []  # the mask needs both collimation stages
    sp.stage_done("collimator_circle")
    assert statuses(sent) == ["TASK_RecvMask"]
    sp.stage_done("foreground")  # before enhance in the chain: held back
    assert statuses(sent) == ["TASK_RecvMask"]
    sp.stage_done("enhance")
    assert statuses(sent) == ["TASK_RecvMask", "TASK_RecvEnhance", "TASK_RecvForeground"]
    sp.stage_done("apply")
    sp.finish()
    assert statuses(sent) == ORDER
    assert all(json.loads(p)["sop"] == "1.2.3" for b in sent for p in b)


def test_finish_releases_what_a_chain_did_not_report() -> None:
    sent: list[list[bytes]] = []
    sp = StageProgress("9", sent.append)
    sp.finish()
    sp.finish()
    assert statuses(sent) == ORDER  # each once


def test_lane_commits_batches_in_send_order_after_the_first_from_any_thread() -> None:
    async def main() -> list[str]:
        written: list[str] = []
        raw_committed = asyncio.Event()

        async def write(payloads: list[bytes]) -> None:
            await asyncio.sleep(0.01 if "Mask" in payloads[0].decode() else 0)  # a slow first batch
            written.extend(json.loads(p)["status"] for p in payloads)

        async def raw() -> None:
            await raw_committed.wait()
            written.append("TASK_RecvRaw")

        lane = ProgressLane(write, asyncio.get_running_loop())
        lane.after(raw())
        sp = StageProgress("1", lane.send)
        worker = threading.Thread(
            target=lambda: [sp.stage_done(s) for s in ("collimator_rect", "collimator_circle", "foreground", "enhance")]
        )
        worker.start()
        await asyncio.to_thread(worker.join)
        sp.finish()
        await asyncio.sleep(0.02)
        assert written == []  # nothing before the raw row
        raw_committed.set()
        await lane.drain()
        return written

    assert asyncio.run(main()) == ["TASK_RecvRaw", *ORDER]
