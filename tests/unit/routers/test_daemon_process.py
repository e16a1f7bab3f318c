"""Polling for a daemon's state: bounded in time and in count."""

from __future__ import annotations

from safeship.routers.daemon_process import poll_until


class _Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step, self.sleeps = 0.0, step, 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += self.step * seconds


def test_returns_true_as_soon_as_the_predicate_holds() -> None:
    clock, calls = _Clock(1.0), iter([False, False, True])
    assert poll_until(lambda: next(calls), 1.0, poll_s=0.1, monotonic=clock.monotonic,
                      sleep=clock.sleep)
    assert clock.sleeps == 2


def test_gives_up_at_the_deadline_with_the_last_answer() -> None:
    clock = _Clock(1.0)
    assert not poll_until(lambda: False, 1.0, poll_s=0.1, monotonic=clock.monotonic,
                          sleep=clock.sleep)
    assert clock.now >= 1.0
    assert clock.sleeps <= 12


def test_a_clock_that_never_advances_still_stops() -> None:
    clock = _Clock(0.0)
    assert not poll_until(lambda: False, 1.0, poll_s=0.1, monotonic=clock.monotonic,
                          sleep=clock.sleep)
    assert clock.sleeps == 12  # int(1.0 / 0.1) + 2 looks, one sleep after each but the last
