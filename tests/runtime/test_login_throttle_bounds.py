"""The login-throttle table is bounded: invented user names cannot grow it without limit, entries
that no longer matter are forgotten, and a lockout is not lifted by flooding the table."""

from __future__ import annotations

from dros.auth.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_invented_names_cannot_grow_the_table_past_its_cap() -> None:
    throttle = LoginThrottle(5, 900, 300, Clock(), max_entries=100)
    for i in range(5000):
        throttle.failed(f"invented-{i}", "10.0.0.9")
    assert len(throttle) == 100


def test_entries_out_of_the_window_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(5, 900, 300, clock, max_entries=10_000)
    for i in range(50):
        throttle.failed(f"name-{i}", "10.0.0.9")
    assert len(throttle) == 50
    clock.now += 901  # every failure has left the 15-minute window
    throttle.failed("another", "10.0.0.9")
    assert len(throttle) == 1


def test_flooding_the_table_does_not_lift_a_lockout() -> None:
    clock = Clock()
    throttle = LoginThrottle(5, 900, 300, clock, max_entries=100)
    for _ in range(5):
        throttle.failed("admin", "10.0.0.9")
    assert throttle.retry_after("admin", "10.0.0.9") == 300
    for i in range(1000):  # the oldest pairs are evicted, but not the locked one
        throttle.failed(f"invented-{i}", "10.0.0.9")
    assert len(throttle) == 100
    assert throttle.retry_after("admin", "10.0.0.9") == 300
    clock.now += 301
    assert throttle.retry_after("admin", "10.0.0.9") == 0


def test_lockout_and_success_still_behave() -> None:
    clock = Clock()
    throttle = LoginThrottle(3, 900, 300, clock)
    throttle.failed("tech", "a")
    throttle.failed("tech", "a")
    assert throttle.retry_after("tech", "a") == 0
    throttle.succeeded("tech", "a")
    assert len(throttle) == 0
    for _ in range(3):
        throttle.failed("tech", "a")
    assert throttle.retry_after("tech", "a") == 300 and throttle.retry_after("tech", "b") == 0
