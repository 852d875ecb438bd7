"""The generator driver against the generator simulator over a real pty and over TCP: commands, the
exposure sequence, every injected fault, resynchronisation after garbage (hypothesis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dros.device.base import DeviceFault, EndOfExposure, GeneratorState, LinkState
from dros.device.framing import encode
from dros.device.generator import GeneratorDriver, LinkDown
from dros.device.protocol import Fault, Refusal, r10_step, r10_values
from dros.simulators.generator import GeneratorSimulator, SimLimits

LINKS = ("pty", "tcp")


@asynccontextmanager
async def rig(
    link: str, profile: str = "instant", **kw: float
) -> AsyncIterator[tuple[GeneratorSimulator, GeneratorDriver]]:
    sim = GeneratorSimulator(profile)
    url = await sim.serve_pty() if link == "pty" else f"socket://127.0.0.1:{await sim.serve_tcp()}"
    opts = {"loop_time_s": 0.2, "reply_timeout_s": 0.1, "reconnect_interval_s": 0.1, **kw}
    drv = GeneratorDriver(url, **opts)  # type: ignore[arg-type]
    await drv.start()
    try:
        assert await drv.wait_connected(5.0)
        await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 5.0)
        yield sim, drv
    finally:
        await drv.stop()
        await sim.close()


def run(link: str, body: Callable[[GeneratorSimulator, GeneratorDriver], Awaitable[None]], **kw: float) -> None:
    async def main() -> None:
        async with rig(link, **kw) as (sim, drv):
            await body(sim, drv)

    asyncio.run(main())


async def until(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("link", LINKS)
def test_handshake_parameters_and_one_exposure(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        st_ = drv.status
        assert st_.link == LinkState.CONNECTED and st_.limits is not None and st_.limits.kv_max == 150
        assert drv.identity[:2] == ("DROS", "SIM-GEN")
        assert await drv.set_param("KV", 81) == 81
        assert await drv.set_param("MA", 250) == 250
        assert await drv.set_param("MS", 40) == 40
        assert drv.status.technique is not None and drv.status.technique.mas == 10.0  # mAs follows mA × ms
        await drv.prepare()
        assert drv.status.state == GeneratorState.READY
        await drv.expose()
        post = await drv.wait_exposure_end(1.0)
        assert (post.kv, post.ma, post.ms, post.mas, post.end) == (81, 250, 40, 10, EndOfExposure.NORMAL)
        assert drv.status.state == GeneratorState.WAIT_FOOT_RELEASE
        assert drv.status.heat_pct > 0  # 81 kV × 10 mAs × 1.35 HU
        await drv.release()
        await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 1.0)

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_one_exposure_per_hand_switch_press(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        await drv.prepare()
        await drv.expose()
        await drv.wait_exposure_end(1.0)
        with pytest.raises(DeviceFault) as exc:
            await drv.call("EX")
        assert exc.value.device_code == Refusal.RELEASE_REQUIRED
        with pytest.raises(DeviceFault):
            await drv.call("PR", "1")  # no new prep either until the switch is released
        assert sim.s.exposures == 1

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_limits_are_enforced_by_the_generator(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        for name, value in (("KV", 151), ("KV", 39), ("MA", 1001), ("MS", 0.5), ("MAS", 1001)):
            with pytest.raises(DeviceFault) as exc:
                await drv.set_param(name, value)
            assert exc.value.device_code == Refusal.OUT_OF_RANGE, name
        with pytest.raises(DeviceFault) as exc:
            await drv.call("KV", "abc")
        assert exc.value.device_code == Refusal.BAD_ARGUMENT
        with pytest.raises(DeviceFault) as exc:
            await drv.call("QQ")
        assert exc.value.device_code == Refusal.UNKNOWN_COMMAND
        await drv.set_param("KV", 150)
        await drv.set_param("MA", 1000)  # 150 kW > 80 kW
        with pytest.raises(DeviceFault) as exc:
            await drv.prepare()
        assert exc.value.device_code == Refusal.POWER_LIMIT

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_door_open_refuses_and_aborts_a_running_prep(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("door", 0)
        await until(lambda: not drv.status.door_closed)
        with pytest.raises(DeviceFault) as exc:
            await drv.prepare()
        assert exc.value.device_code == Refusal.INTERLOCK_OPEN
        sim.inject("door", 1)
        await until(lambda: drv.status.door_closed)
        await drv.prepare()
        sim.inject("door", 0)  # opened while ready: the generator stops and reports the fault
        await until(lambda: drv.status.state == GeneratorState.ERROR)
        assert Fault.INTERLOCK in drv.status.errors
        with pytest.raises(DeviceFault):
            await drv.clear_errors()  # the door is still open
        sim.inject("door", 1)
        await drv.clear_errors()
        assert drv.status.state == GeneratorState.STANDBY and not drv.status.errors

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_overheat_and_heat_budget(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("heat", 99.9)
        await drv.set_param("KV", 120)
        await drv.set_param("MA", 500)
        await drv.set_param("MS", 200)  # 100 mAs × 120 kV × 1.35 = 16,200 HU > what is left
        with pytest.raises(DeviceFault) as exc:
            await drv.prepare()
        assert exc.value.device_code == Refusal.HEAT_LIMIT
        sim.inject("overheat")
        await until(lambda: drv.status.state == GeneratorState.ERROR)
        assert Fault.OVER_TEMPERATURE in drv.status.errors and drv.status.heat_pct == pytest.approx(100, abs=0.2)

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_nak_storm_is_retried_within_bounds(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("nak", 2)  # two busy answers, the third attempt goes through
        assert await drv.set_param("KV", 90) == 90
        sim.inject("nak", 10)  # more than the bounded retries
        with pytest.raises(DeviceFault) as exc:
            await drv.set_param("KV", 91)
        assert exc.value.device_code == Refusal.BUSY
        assert drv.status.link == LinkState.CONNECTED  # busy is an answer: the link is alive
        sim.inject("clear")
        assert await drv.set_param("KV", 92) == 92

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_dropped_and_garbled_frames_are_retried_never_executed_twice(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        retries = drv.stats["retries"]
        sim.inject("drop", 1)  # the command never arrives: timeout, sent again
        assert await drv.set_param("KV", 85) == 85
        assert drv.stats["retries"] == retries + 1
        await drv.prepare()
        sim.inject("garble", 1)  # the answer to EX is corrupted: the repeat is answered from the cache
        await drv.expose()
        await drv.wait_exposure_end(1.0)
        assert sim.s.exposures == 1
        assert drv.stats["retries"] == retries + 2

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_silence_is_a_lost_link_then_reconnects(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        states: list[LinkState] = []
        drv.add_listener(lambda: states.append(drv.status.link))
        sim.inject("silence", 0.8)
        await until(lambda: drv.status.link == LinkState.LOST, 3.0)
        assert drv.status.seed_status == "GENERATOR_STATUS_DISCONNECTED"
        with pytest.raises(LinkDown):
            await drv.set_param("KV", 80)
        await until(lambda: drv.status.link == LinkState.CONNECTED, 5.0)
        assert drv.status.reconnects == 1
        assert states.count(LinkState.LOST) >= 1
        assert await drv.set_param("KV", 80) == 80

    run(link, body)


@pytest.mark.parametrize("link", LINKS)
def test_stuck_exposure_hits_the_backup_wait(link: str) -> None:
    async def body(sim: GeneratorSimulator, drv: GeneratorDriver) -> None:
        sim.inject("stuck", 1)
        await drv.prepare()
        await drv.expose()
        with pytest.raises(TimeoutError):
            await drv.wait_exposure_end(0.3)
        await drv.abort()
        post = await drv.read_post_exposure()
        assert post.end == EndOfExposure.ABORTED_HOST

    run(link, body)


def test_host_watchdog_stops_the_generator_when_the_console_falls_silent() -> None:
    async def main() -> None:
        sim = GeneratorSimulator("realistic")
        url = f"socket://127.0.0.1:{await sim.serve_tcp()}"
        drv = GeneratorDriver(url, loop_time_s=0.1, reply_timeout_s=0.1)
        await drv.start()
        try:
            assert await drv.wait_connected(5.0)
            await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 5.0)
            await drv.call("PR", "1")
            drv._runner.cancel() if drv._runner else None  # the console hangs: no more frames
            await until(lambda: sim.s.state == GeneratorState.ERROR, 3.0)
            assert Fault.WATCHDOG in sim.s.faults
        finally:
            await drv.stop()
            await sim.close()

    asyncio.run(main())


GARBAGE = st.lists(
    st.one_of(
        st.binary(min_size=1, max_size=60),
        st.just(b"\x02" + b"Z" * 400 + b"\x03"),  # oversized
        st.just(encode("ST", "9", "$", "2", "0", "1")[:-2] + b"\x41\x03"),  # wrong checksum
        st.just(encode("SE", "2", "0", "1")[:5]),  # truncated
        st.just(encode("SE", "x", "y")),  # valid frame, nonsense status
        st.just(encode("KV", "99", "$", "1")),  # a reply nobody asked for
    ),
    max_size=6,
)


@pytest.mark.parametrize("link", LINKS)
def test_bad_bytes_never_crash_the_driver_and_it_resyncs(link: str) -> None:
    async def main() -> None:
        async with rig(link) as (sim, drv):

            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
            @given(GARBAGE)
            def check(chunks: list[bytes]) -> None:
                async def one() -> None:
                    assert sim._send is not None
                    for chunk in chunks:
                        sim._send(chunk)  # straight onto the line, around the framing
                    v = await drv.set_param("KV", 77)
                    assert v == 77
                    assert drv.status.link == LinkState.CONNECTED

                fut = asyncio.run_coroutine_threadsafe(one(), loop)
                fut.result(10)

            loop = asyncio.get_running_loop()
            await asyncio.to_thread(check)

    asyncio.run(main())


def test_r10_series_steps() -> None:
    assert r10_values(1, 10) == [1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8, 10]
    assert r10_step(50, 1, 1, 10000) == 63
    assert r10_step(50, 3, 1, 10000) == 100
    assert r10_step(55, 1, 1, 10000) == 63  # off-series: the next member up
    assert r10_step(55, -1, 1, 10000) == 50
    assert r10_step(1.0, -1, 1, 10000) == 1.0  # clamped at the bottom
    assert r10_step(8000, 5, 1, 10000) == 10000


def test_releasing_the_hand_switch_mid_exposure_stops_x_rays() -> None:
    async def main() -> None:
        sim = GeneratorSimulator("realistic")
        url = await sim.serve_pty()
        drv = GeneratorDriver(url, loop_time_s=0.2, reply_timeout_s=0.1)
        await drv.start()
        try:
            assert await drv.wait_connected(5.0)
            await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 5.0)
            await drv.set_param("MS", 2000)  # a 2 s exposure
            await drv.prepare()
            await drv.expose()
            await asyncio.sleep(0.2)
            await drv.release()  # dead-man switch let go
            await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 1.0)
            post = await drv.read_post_exposure()
            assert post.end == EndOfExposure.ABORTED_RELEASE
            assert 0 < post.ms < 2000 and post.mas < drv.status.technique.mas  # type: ignore[union-attr]
        finally:
            await drv.stop()
            await sim.close()

    asyncio.run(main())


def test_prep_is_capped() -> None:
    async def main() -> None:
        sim = GeneratorSimulator("instant", SimLimits(prep_cap_s=0.3))
        url = f"socket://127.0.0.1:{await sim.serve_tcp()}"
        drv = GeneratorDriver(url, loop_time_s=0.1, reply_timeout_s=0.1)
        await drv.start()
        try:
            assert await drv.wait_connected(5.0)
            await drv._wait(lambda s: s.state == GeneratorState.STANDBY, 5.0)
            await drv.prepare()  # held in Ready, never exposed
            await drv._wait(lambda s: s.state == GeneratorState.ERROR, 2.0)
            assert Fault.PREP_TIMEOUT in drv.status.errors
        finally:
            await drv.stop()
            await sim.close()

    asyncio.run(main())


def test_heartbeat_runs_at_loop_time() -> None:
    async def main() -> None:
        sim = GeneratorSimulator("instant")
        url = f"socket://127.0.0.1:{await sim.serve_tcp()}"
        drv = GeneratorDriver(url, loop_time_s=0.1, reply_timeout_s=0.1)
        await drv.start()
        try:
            assert await drv.wait_connected(5.0)
            before = sim.frames_received
            await asyncio.sleep(1.0)
            beats = (sim.frames_received - before) / 2  # each heartbeat is HB + ST
            assert 4 <= beats <= 11, beats  # ≈ 10 at a 100 ms loop time, fewer when the machine is loaded
            assert sim.s.watchdog_s == pytest.approx(0.3)  # HB told the generator: 3 × loop time
        finally:
            await drv.stop()
            await sim.close()

    asyncio.run(main())
