"""The load backoff schedule: capped doubling, one log line per attempt, no traceback."""

from __future__ import annotations

import logging

import pytest

from serving.loadstate import LoadBackoff, LoadFailed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_doubles_the_delay_up_to_the_cap():
    clock = Clock()
    backoff = LoadBackoff(base=1.0, cap=5.0, clock=clock)
    delays = []
    for _ in range(5):
        backoff.check("v2")  # due: no exception
        failure = backoff.failed("v2", "churn v2", ValueError("broken\nmore detail"))
        delays.append(failure.retry_in)
        clock.now = failure.retry_at
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert failure.attempts == 5
    assert failure.cause == "ValueError: broken"


def test_it_refuses_an_attempt_before_the_retry_time_with_the_last_cause():
    clock = Clock()
    backoff = LoadBackoff(base=2.0, cap=60.0, clock=clock)
    backoff.failed("v2", "churn v2", OSError("disk gone"))
    clock.now += 1.9
    with pytest.raises(LoadFailed, match="OSError: disk gone"):
        backoff.check("v2")
    clock.now += 0.1
    backoff.check("v2")
    assert backoff.next_retry_at() == pytest.approx(102.0)


def test_it_logs_one_line_per_attempt_without_a_traceback(caplog):
    backoff = LoadBackoff(base=1.0, cap=10.0, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="serving.loadstate"):
        try:
            raise RuntimeError("cannot warm")
        except RuntimeError as exc:
            backoff.failed("v2", "churn v2", exc)
    [record] = caplog.records
    assert record.getMessage() == (
        "could not load churn v2 (attempt 1, next in 1s): RuntimeError: cannot warm"
    )
    assert record.exc_info is None


def test_it_forgets_a_success_and_versions_nobody_wants():
    backoff = LoadBackoff(clock=Clock())
    backoff.failed("a", "m v1", ValueError("x"))
    backoff.failed("b", "m v2", ValueError("y"))
    backoff.succeeded("a")
    assert backoff.failure("a") is None
    backoff.forget_except({"a"})
    assert backoff.failure("b") is None and backoff.next_retry_at() is None
