"""The I/O around a batch job's model calls, kept off the scoring thread so that it overlaps with
the model: inputs are read ahead on one thread, the CSV is formatted and written on another.

Both threads spend their time in code that releases the GIL (numpy copies out of a memory map,
pyarrow's CSV writer), as does TensorFlow, so the model is not slowed by Python on either side.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")
_END = object()
_POLL_SECONDS = 0.1


@contextmanager
def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """Iterate `items` on a background thread, at most `depth` items ahead of the consumer.

    The producer's exception is raised to the consumer at the point it happened; leaving the
    block early (cancel, error) stops the producer at its next item.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
            offer((_END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            offer((_END, exc))

    def consume() -> Iterator[T]:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item

    producer = threading.Thread(target=produce, name="batch-prefetch", daemon=True)
    producer.start()
    try:
        yield consume()
    finally:
        stop.set()
        producer.join()


def csv_header(outputs: dict[str, np.ndarray]) -> list[str]:
    """`row`, then one column per output value: `name`, or `name_0..` for a wider output."""
    header = ["row"]
    for name, values in outputs.items():
        width = _width(values)
        header += [name] if width == 1 else [f"{name}_{i}" for i in range(width)]
    return header


def _width(values: np.ndarray) -> int:
    return int(np.prod(values.shape[1:], dtype=np.int64))


def _csv_ready(column: np.ndarray) -> np.ndarray:
    """Booleans as 0/1 and half floats widened, as the CSV always wrote them."""
    if column.dtype == np.bool_:
        return column.astype(np.uint8)
    if column.dtype == np.float16:
        return column.astype(np.float32)
    return column


def _csv_schema(outputs: dict[str, np.ndarray]):
    import pyarrow as pa

    types = [pa.int64()]
    for values in outputs.values():
        types += [pa.from_numpy_dtype(_csv_ready(values[:0]).dtype)] * _width(values)
    return pa.schema(list(zip(csv_header(outputs), types, strict=True)))


class PredictionWriter:
    """A job's predictions, gathered batch by batch into `predictions.npz` and `predictions.csv`
    in `folder`.

    Each batch's CSV rows are formatted and appended by one background thread (in order) while
    the model scores the next batch; floats are written in their shortest round-trip form. The
    .npz is written whole at `finish()`, from arrays that hold every row.
    """

    def __init__(self, folder: Path, rows: int) -> None:
        self.folder = folder
        self.rows = rows
        self.outputs: dict[str, np.ndarray] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-csv")
        self._pending: deque[Future] = deque()
        self._sink = None
        self._writer = None
        self._schema = None

    def add(self, start: int, result: dict[str, np.ndarray]) -> int:
        """Keep rows `start..` of the predictions; the number of rows added."""
        if not self.outputs:
            self._allocate(result)
        count = len(next(iter(result.values())))
        for name, value in result.items():
            self.outputs[name][start : start + count] = value
        self._pending.append(self._pool.submit(self._append_csv, start, count))
        while self._pending and self._pending[0].done():
            self._pending.popleft().result()  # a failed write fails the job now
        return count

    def finish(self) -> None:
        """Wait for the CSV, then write the .npz; both files are complete afterwards."""
        if self._sink is None:
            self._open_csv()  # no batch came: a header-only CSV
        while self._pending:
            self._pending.popleft().result()
        self._close_csv()
        np.savez(self.folder / "predictions.npz", **self.outputs)

    def close(self) -> None:
        """Stop writing (after `finish`, or to abandon the files)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._close_csv()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _allocate(self, result: dict[str, np.ndarray]) -> None:
        self.outputs = {
            name: np.empty((self.rows, *value.shape[1:]), dtype=value.dtype)
            for name, value in result.items()
        }
        self._open_csv()

    def _open_csv(self) -> None:
        import pyarrow as pa
        from pyarrow import csv as pacsv

        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(csv_header(self.outputs))
        self._sink = pa.OSFile(str(self.folder / "predictions.csv"), "wb")
        self._sink.write(header.getvalue().encode())
        if self.outputs:
            self._schema = _csv_schema(self.outputs)
            options = pacsv.WriteOptions(include_header=False)
            self._writer = pacsv.CSVWriter(self._sink, self._schema, write_options=options)

    def _append_csv(self, start: int, count: int) -> None:
        import pyarrow as pa

        columns = [pa.array(np.arange(start, start + count, dtype=np.int64))]
        for values in self.outputs.values():
            flat = values[start : start + count].reshape(count, -1)
            columns += [pa.array(_csv_ready(flat[:, i])) for i in range(flat.shape[1])]
        self._writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=self._schema))

    def _close_csv(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None
