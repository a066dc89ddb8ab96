"""Batch-job I/O without a database: reading ahead on a thread, writing predictions behind."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest

from jobs.batch_io import PredictionWriter, prefetched


def test_it_yields_every_item_in_order_from_another_thread():
    threads = set()

    def items():
        for i in range(7):
            threads.add(threading.current_thread().name)
            yield i

    with prefetched(items(), depth=2) as ahead:
        assert list(ahead) == list(range(7))
    assert threads == {"batch-prefetch"}


def test_it_raises_the_producers_error_where_it_happened():
    def items():
        yield 1
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"), prefetched(items()) as ahead:
        seen.extend(ahead)
    assert seen == [1]


def test_leaving_early_stops_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    with prefetched(items(), depth=2) as ahead:
        assert next(ahead) == 0
    assert len(produced) <= 4  # the one taken, `depth` queued, one waiting to be queued
    assert not [t for t in threading.enumerate() if t.name == "batch-prefetch"]


def test_it_writes_the_npz_and_a_csv_with_one_column_per_value(tmp_path):
    rows = 5
    score = np.random.default_rng(0).random((rows, 2, 2)).astype("float32")
    label = np.array([True, False, True, True, False])
    with PredictionWriter(tmp_path, rows) as writer:
        assert writer.add(0, {"score": score[:3], "label": label[:3]}) == 3
        assert writer.add(3, {"score": score[3:], "label": label[3:]}) == 2
        writer.finish()
    with np.load(tmp_path / "predictions.npz") as npz:
        np.testing.assert_array_equal(npz["score"], score)
        np.testing.assert_array_equal(npz["label"], label)
    with open(tmp_path / "predictions.csv", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["row", "score_0", "score_1", "score_2", "score_3", "label"]
    assert [line[0] for line in lines[1:]] == ["0", "1", "2", "3", "4"]
    assert [line[5] for line in lines[1:]] == ["1", "0", "1", "1", "0"]
    parsed = np.array([[np.float32(v) for v in line[1:5]] for line in lines[1:]])
    np.testing.assert_array_equal(parsed, score.reshape(rows, 4))  # shortest form round-trips


def test_without_a_batch_it_writes_a_header_only_csv(tmp_path):
    with PredictionWriter(tmp_path, 0) as writer:
        writer.finish()
    assert (tmp_path / "predictions.csv").read_text() == "row\n"
    with np.load(tmp_path / "predictions.npz") as npz:
        assert npz.files == []
