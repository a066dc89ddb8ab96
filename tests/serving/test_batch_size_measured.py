"""The batcher tells each caller the size of the batch that ran its rows (what monitoring charts
as "Batch size"), not the caller's own row count."""

from __future__ import annotations

import threading

import numpy as np

from serving.batching import Batcher


def _rows(n: int) -> dict[str, np.ndarray]:
    return {"x": np.arange(n, dtype=np.float32).reshape(n, 1)}


def test_it_reports_the_batch_a_lone_request_ran_in():
    batcher = Batcher(lambda feeds: feeds, max_batch_size=8)
    outputs, batch_rows = batcher.submit_measured(_rows(3))
    assert batch_rows == 3 and outputs["x"].shape == (3, 1)


def test_it_reports_the_shared_batch_to_every_request_in_it():
    entered, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def model(feeds):
        sizes.append(feeds["x"].shape[0])
        if len(sizes) == 1:  # hold the first batch so the next requests queue behind it
            entered.set()
            release.wait(5)
        return feeds

    batcher = Batcher(model, max_batch_size=16)
    results: dict[int, int] = {}

    def call(i: int, rows: int) -> None:
        results[i] = batcher.submit_measured(_rows(rows))[1]

    first = threading.Thread(target=call, args=(0, 1))
    first.start()
    assert entered.wait(5)
    queued = [threading.Thread(target=call, args=(i, 2)) for i in range(1, 4)]
    for thread in queued:
        thread.start()
    while batcher.stats()["queue_rows"] < 6:
        threading.Event().wait(0.001)
    release.set()
    for thread in [first, *queued]:
        thread.join(5)
    assert sizes == [1, 6]
    # One row asked, one ran alone; three 2-row requests rode one 6-row batch.
    assert results == {0: 1, 1: 6, 2: 6, 3: 6}


def test_a_request_split_over_batches_reports_its_largest():
    batcher = Batcher(lambda feeds: feeds, max_batch_size=4, max_queue_rows=16)
    outputs, batch_rows = batcher.submit_measured(_rows(10))
    assert batch_rows == 4 and outputs["x"].shape == (10, 1)
