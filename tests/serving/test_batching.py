"""The leader batcher: ordering under concurrency, splitting, bounds, errors, draining, overhead."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from serving.batching import Batcher, BatcherClosed, QueueFull


def echo(feeds):
    """Return each row's id, doubled, so a request can check it got its own rows back."""
    return {"ids": feeds["ids"] * 2, "first": feeds["ids"][:, :1] + 0.5}


def ids(start: int, rows: int) -> dict[str, np.ndarray]:
    column = np.arange(start, start + rows, dtype=np.float64).reshape(rows, 1)
    return {"ids": np.hstack([column, column])}


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


class Gate:
    """A run_batch that holds its first call until opened, so tests can queue work behind it."""

    def __init__(self, inner=echo):
        self.inner = inner
        self.opened = threading.Event()
        self.entered = threading.Event()
        self.calls: list[int] = []

    def __call__(self, feeds):
        self.calls.append(next(iter(feeds.values())).shape[0])
        self.entered.set()
        self.opened.wait(5)
        return self.inner(feeds)


def in_thread(fn, *args):
    box: dict = {}

    def run():
        try:
            box["result"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def test_it_returns_each_request_its_own_rows_under_64_threads():
    batcher = Batcher(echo, max_batch_size=16, max_queue_rows=4096)
    wrong: list[tuple[int, int]] = []

    def client(worker: int) -> None:
        for j in range(40):
            rows = (worker + j) % 6  # includes 0-row requests
            feeds = ids(worker * 100_000 + j * 10, rows)
            out = batcher.submit(feeds)
            if not (
                np.array_equal(out["ids"], feeds["ids"] * 2)
                and np.array_equal(out["first"], feeds["ids"][:, :1] + 0.5)
            ):
                wrong.append((worker, j))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = batcher.stats()
    assert wrong == []
    assert stats["requests"] == 64 * 40
    assert stats["rows"] == sum((w + j) % 6 for w in range(64) for j in range(40))
    assert stats["queue_rows"] == 0
    assert stats["max_batch_seen"] <= 16
    assert sum(stats["batch_sizes"].values()) == stats["batches"]


def test_it_splits_a_request_larger_than_the_batch_and_keeps_the_order():
    sizes: list[int] = []

    def run(feeds):
        sizes.append(feeds["ids"].shape[0])
        return echo(feeds)

    batcher = Batcher(run, max_batch_size=4)
    feeds = ids(0, 10)
    out = batcher.submit(feeds)
    assert sizes == [4, 4, 2]
    assert np.array_equal(out["ids"], feeds["ids"] * 2)
    assert batcher.stats()["batch_sizes"] == {4: 2, 2: 1}


def test_it_forms_batches_when_the_model_is_slow():
    def slow(feeds):
        time.sleep(0.002)
        return echo(feeds)

    batcher = Batcher(slow, max_batch_size=32)

    def client(worker: int) -> None:
        for j in range(10):
            batcher.submit(ids(worker * 1000 + j, 1))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = batcher.stats()
    assert stats["rows"] == 160
    assert stats["mean_batch_rows"] > 2
    assert stats["max_batch_seen"] > 1


def test_it_adds_no_hand_off_at_concurrency_1():
    # The caller's own thread runs its batch (bench/hot_path_costs.py measures what that saves).
    callers = []

    def run(feeds):
        callers.append(threading.get_ident())
        return feeds

    batcher = Batcher(run, max_batch_size=64)
    for _ in range(200):
        batcher.submit(ids(0, 1))
    assert set(callers) == {threading.get_ident()}
    assert batcher.stats()["batch_sizes"] == {1: 200}


def test_it_refuses_when_the_queue_is_full_and_recovers():
    gate = Gate()
    batcher = Batcher(gate, max_batch_size=4, max_queue_rows=8)
    leader, leader_box = in_thread(batcher.submit, ids(0, 1))
    assert gate.entered.wait(5)
    waiters = [in_thread(batcher.submit, ids(10 * (i + 1), 4)) for i in range(2)]
    wait_until(lambda: batcher.stats()["queue_rows"] == 8)

    with pytest.raises(QueueFull) as refused:
        batcher.submit(ids(99, 1))
    assert refused.value.retry_after_seconds > 0
    assert "queue is full" in str(refused.value)

    gate.opened.set()
    leader.join()
    for thread, box in waiters:
        thread.join()
        assert "error" not in box
    assert np.array_equal(leader_box["result"]["ids"], ids(0, 1)["ids"] * 2)
    assert np.array_equal(waiters[1][1]["result"]["ids"], ids(20, 4)["ids"] * 2)
    assert batcher.stats()["queue_rows"] == 0
    assert np.array_equal(batcher.submit(ids(99, 1))["ids"], ids(99, 1)["ids"] * 2)


def test_it_refuses_a_request_that_could_never_fit_the_queue():
    batcher = Batcher(echo, max_batch_size=4, max_queue_rows=8)
    with pytest.raises(ValueError, match="the request has 9 rows; this model queues at most 8"):
        batcher.submit(ids(0, 9))
    assert batcher.stats()["requests"] == 0


def test_it_raises_a_model_error_in_every_request_of_the_batch_and_keeps_working():
    def poisoned(feeds):
        if (feeds["ids"] < 0).any():
            raise RuntimeError("model blew up")
        return echo(feeds)

    gate = Gate(poisoned)
    batcher = Batcher(gate, max_batch_size=8)
    leader, leader_box = in_thread(batcher.submit, ids(0, 1))
    assert gate.entered.wait(5)
    queued = [in_thread(batcher.submit, ids(start, 1)) for start in (5, -3, 7)]
    wait_until(lambda: batcher.stats()["queue_rows"] == 3)
    gate.opened.set()
    leader.join()
    for thread, _ in queued:
        thread.join()

    assert "error" not in leader_box
    assert [str(box.get("error")) for _, box in queued] == ["model blew up"] * 3
    assert gate.calls == [1, 3]
    out = batcher.submit(ids(1, 2))
    assert np.array_equal(out["ids"], ids(1, 2)["ids"] * 2)


def test_it_drains_queued_work_on_close_and_refuses_new_work():
    gate = Gate()
    batcher = Batcher(gate, max_batch_size=8)
    leader, leader_box = in_thread(batcher.submit, ids(0, 1))
    assert gate.entered.wait(5)
    queued, queued_box = in_thread(batcher.submit, ids(50, 2))
    wait_until(lambda: batcher.stats()["queue_rows"] == 2)

    assert batcher.close(timeout=0.05) is False  # still busy: the gate holds the batch
    with pytest.raises(BatcherClosed):
        batcher.submit(ids(1, 1))

    gate.opened.set()
    assert batcher.close(timeout=5) is True
    leader.join()
    queued.join()
    assert np.array_equal(queued_box["result"]["ids"], ids(50, 2)["ids"] * 2)
    assert "error" not in leader_box
    assert batcher.stats()["closed"] is True


class StepClock:
    """The batcher's clock, moved only by its condition waits: a wait of t seconds takes t."""

    def __init__(self):
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        self.now += timeout
        return False


def test_it_waits_up_to_max_delay_for_a_batch_to_fill():
    sizes: list[int] = []

    def run(feeds):
        sizes.append(feeds["ids"].shape[0])
        return echo(feeds)

    # A delay far longer than the test: filling the batch must run it without waiting that out.
    batcher = Batcher(run, max_batch_size=4, max_delay_ms=600_000)
    first, first_box = in_thread(batcher.submit, ids(0, 1))
    wait_until(lambda: batcher.stats()["queue_rows"] == 1)
    second, second_box = in_thread(batcher.submit, ids(10, 3))  # fills the batch: runs at once
    first.join(10)
    second.join(10)
    assert not first.is_alive() and not second.is_alive()
    assert sizes == [4]
    assert np.array_equal(second_box["result"]["ids"], ids(10, 3)["ids"] * 2)


def test_a_lone_request_waits_out_max_delay_then_runs(monkeypatch):
    clock = StepClock()
    monkeypatch.setattr("serving.batching._perf", clock)
    sizes: list[int] = []
    batcher = Batcher(lambda f: sizes.append(len(f["ids"])) or f, max_batch_size=4, max_delay_ms=30)
    batcher._filled.wait = clock.wait
    batcher.submit(ids(0, 1))
    assert clock.waits == [pytest.approx(0.030)]  # one wait, for the whole delay, then it ran
    assert sizes == [1]


def test_it_never_mixes_requests_whose_trailing_shapes_differ():
    gate = Gate(lambda feeds: {"sum": feeds["seq"].sum(axis=1)})
    batcher = Batcher(gate, max_batch_size=8)
    leader, _ = in_thread(batcher.submit, {"seq": np.ones((1, 3))})
    assert gate.entered.wait(5)
    short, short_box = in_thread(batcher.submit, {"seq": np.ones((2, 3))})
    wait_until(lambda: batcher.stats()["queue_rows"] == 2)
    long, long_box = in_thread(batcher.submit, {"seq": np.ones((1, 5))})
    wait_until(lambda: batcher.stats()["queue_rows"] == 3)
    gate.opened.set()
    for thread in (leader, short, long):
        thread.join()
    assert gate.calls == [1, 2, 1]
    assert short_box["result"]["sum"].tolist() == [3.0, 3.0]
    assert long_box["result"]["sum"].tolist() == [5.0]


def test_it_rejects_a_request_whose_inputs_disagree_on_rows():
    batcher = Batcher(echo)
    with pytest.raises(
        ValueError, match=r"inputs disagree on the number of rows \(2 vs 3 in 'b'\)"
    ):
        batcher.submit({"a": np.zeros((2, 1)), "b": np.zeros((3, 1))})
    with pytest.raises(ValueError, match="at least one input"):
        batcher.submit({})
    assert batcher.stats()["requests"] == 0


def test_it_rejects_nonsense_configuration():
    with pytest.raises(ValueError, match="max_batch_size"):
        Batcher(echo, max_batch_size=0)
    with pytest.raises(ValueError, match="max_queue_rows"):
        Batcher(echo, max_batch_size=8, max_queue_rows=4)
