"""Reading dataset files (.npz, .csv, .parquet) into one shape, and checking a dataset against a
model signature.

Every format becomes named numeric feature columns plus an optional label column. In a `.npz`,
arrays `x`/`features` hold the features (columns `f0`, `f1`, ...) and `y`/`labels` the labels;
without `x`/`features`, every other array is a named input (`extra` of width 2 gives the columns
`extra_0`, `extra_1`). For multi-input models the columns are matched to inputs by these names.
"""

from __future__ import annotations

import math
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InvalidInput
from registry.constants import DatasetFormat

FEATURE_KEYS = ("x", "features")
LABEL_KEYS = ("y", "labels")


@dataclass
class ParsedDataset:
    """Feature columns (name -> 1-D array) in order, and the label column if any."""

    columns: dict[str, np.ndarray]
    label_name: str | None
    labels: np.ndarray | None

    @property
    def row_count(self) -> int:
        return len(next(iter(self.columns.values())))

    @property
    def schema(self) -> dict:
        features = [{"name": n, "dtype": str(c.dtype)} for n, c in self.columns.items()]
        return {"features": features, "label": self.label_name}

    def features(self) -> np.ndarray:
        return np.column_stack(list(self.columns.values())).astype("float32", copy=False)


def dataset_format(filename: str) -> str:
    lowered = filename.lower()
    for fmt in DatasetFormat.values:
        if lowered.endswith(f".{fmt}"):
            return fmt
    raise InvalidInput(
        f"unsupported dataset file {filename!r}: upload a .npz, .csv or .parquet file"
    )


def _numeric(name: str, array: np.ndarray) -> np.ndarray:
    if array.dtype == np.bool_:
        return array.astype("int64")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidInput(f"column {name!r} is not numeric (dtype {array.dtype})")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise InvalidInput(f"column {name!r} has missing, NaN or infinite values")
    return array


def _columns_of(name: str, array: np.ndarray, *, named: bool) -> dict[str, np.ndarray]:
    if array.ndim == 1:
        return {name if named else "f0": _numeric(name, array)}
    if array.ndim != 2:
        raise InvalidInput(
            f"array {name!r} has {array.ndim} dimensions; expected 1 or 2 (rows x columns)"
        )
    prefix = f"{name}_" if named else "f"
    return {f"{prefix}{i}": _numeric(name, array[:, i]) for i in range(array.shape[1])}


def _parse_npz(path: Path, label_column: str | None) -> ParsedDataset:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as exc:  # numpy raises OSError, ValueError, BadZipFile... for bad files
        raise InvalidInput(f"not a readable .npz file: {exc}") from exc
    label_key = label_column or next((k for k in LABEL_KEYS if k in arrays), None)
    if label_column and label_column not in arrays:
        raise InvalidInput(
            f"label array {label_column!r} is not in the file (it has {sorted(arrays)})"
        )
    labels = arrays.pop(label_key) if label_key else None
    feature_key = next((k for k in FEATURE_KEYS if k in arrays), None)
    if feature_key is not None:
        columns = _columns_of(feature_key, arrays[feature_key], named=False)
    else:
        if not arrays:
            raise InvalidInput("the .npz file has no feature arrays (expected 'x' or 'features')")
        columns = {}
        for key in sorted(arrays):
            columns.update(_columns_of(key, arrays[key], named=True))
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise InvalidInput(f"labels must be one value per row; got shape {list(labels.shape)}")
        labels = _numeric(label_key, labels)
    return ParsedDataset(columns, label_key if labels is not None else None, labels)


def _from_table(table, label_column: str | None) -> ParsedDataset:
    import pyarrow as pa

    names = list(table.column_names)
    if label_column and label_column not in names:
        raise InvalidInput(
            f"label column {label_column!r} is not in the header ({', '.join(names)})"
        )
    if table.num_rows == 0:
        raise InvalidInput("the dataset has no rows")
    columns: dict[str, np.ndarray] = {}
    labels = None
    for name in names:
        column = table.column(name)
        if column.null_count:
            raise InvalidInput(f"column {name!r} has {column.null_count} empty values")
        if not (
            pa.types.is_integer(column.type)
            or pa.types.is_floating(column.type)
            or pa.types.is_boolean(column.type)
        ):
            raise InvalidInput(f"column {name!r} is not numeric (type {column.type})")
        values = _numeric(name, column.to_numpy())
        if name == label_column:
            labels = values
        else:
            columns[name] = values
    if not columns:
        raise InvalidInput("the dataset has no feature columns")
    return ParsedDataset(columns, label_column, labels)


def _parse_csv(path: Path, label_column: str | None) -> ParsedDataset:
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        table = pacsv.read_csv(path)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"malformed CSV: {exc}") from exc
    return _from_table(table, label_column)


def _parse_parquet(path: Path, label_column: str | None) -> ParsedDataset:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"not a readable Parquet file: {exc}") from exc
    return _from_table(table, label_column)


_PARSERS = {
    DatasetFormat.NPZ: _parse_npz,
    DatasetFormat.CSV: _parse_csv,
    DatasetFormat.PARQUET: _parse_parquet,
}


def dataset_parse(path: Path, fmt: str, *, label_column: str | None = None) -> ParsedDataset:
    """Parse and check a dataset file: non-empty, rectangular, numeric."""
    parsed = _PARSERS[fmt](Path(path), label_column or None)
    if not parsed.columns:
        raise InvalidInput("the dataset has no feature columns")
    lengths = {name: len(col) for name, col in parsed.columns.items()}
    rows = next(iter(lengths.values()))
    if rows == 0:
        raise InvalidInput("the dataset has no rows")
    ragged = {name: n for name, n in lengths.items() if n != rows}
    if ragged:
        raise InvalidInput(
            f"ragged dataset: columns have different lengths ({ragged}, expected {rows})"
        )
    if parsed.labels is not None and len(parsed.labels) != rows:
        raise InvalidInput(f"ragged dataset: {len(parsed.labels)} labels for {rows} rows")
    return parsed


def npz_features_mapped(path: Path, label_column: str | None = None) -> np.ndarray | None:
    """The feature matrix (`x`/`features`) of a stored .npz mapped from disk, not read into memory.

    None when the file holds its features any other way (named arrays, a compressed member,
    Fortran order, object dtype): the caller then parses the file. Only for files that
    `dataset_parse` already accepted; nothing is checked again here.
    """
    with zipfile.ZipFile(path) as archive:
        members = {
            info.filename.removesuffix(".npy"): info
            for info in archive.infolist()
            if info.filename.endswith(".npy")
        }
    label_key = label_column or next((k for k in LABEL_KEYS if k in members), None)
    feature_key = next((k for k in FEATURE_KEYS if k in members and k != label_key), None)
    if feature_key is None or members[feature_key].compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as raw:
        header = _stored_npy_header(raw, members[feature_key].header_offset)
    if header is None:
        return None
    data_offset, shape, fortran_order, dtype = header
    if fortran_order or dtype.hasobject or len(shape) not in (1, 2):
        return None
    matrix = np.memmap(path, dtype=dtype, mode="r", offset=data_offset, shape=shape)
    return matrix.reshape(-1, 1) if matrix.ndim == 1 else matrix


def _stored_npy_header(raw, member_offset: int) -> tuple | None:
    """(data offset, shape, fortran_order, dtype) of the .npy stored at a zip member's offset."""
    raw.seek(member_offset)
    signature, name_length, extra_length = struct.unpack("<4s22xHH", raw.read(30))
    if signature != b"PK\x03\x04":
        return None
    raw.seek(member_offset + 30 + name_length + extra_length)
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    reader = readers.get(np.lib.format.read_magic(raw))
    if reader is None:
        return None
    shape, fortran_order, dtype = reader(raw)
    return raw.tell(), shape, fortran_order, dtype


# --- matching a dataset to a model signature -------------------------------------------------


def _width(shape: list[int]) -> int | None:
    """Values per row of an input, None when a non-batch dimension is variable."""
    dims = shape[1:]
    if any(d < 0 for d in dims):
        return None
    return math.prod(dims) if dims else 1


def _dtype_compatible(column_dtype: str, input_dtype: str) -> bool:
    if input_dtype.startswith(("float", "bfloat", "half", "double")):
        return True
    if input_dtype.startswith(("int", "uint")) or input_dtype == "bool":
        return column_dtype.startswith(("int", "uint", "bool"))
    return False


def input_columns(schema: dict, signature: dict) -> dict[str, list[str]]:
    """Which dataset columns feed which model input; InvalidInput naming any mismatch."""
    features = schema.get("features", [])
    dtypes = {f["name"]: f["dtype"] for f in features}
    names = [f["name"] for f in features]
    inputs = signature.get("inputs", [])
    mapping: dict[str, list[str]] = {}
    if len(inputs) == 1:
        spec = inputs[0]
        width = _width(spec["shape"])
        if width is not None and width != len(names):
            raise InvalidInput(
                f"the dataset has {len(names)} feature columns but input {spec['name']!r} "
                f"takes {width} values per row (shape {spec['shape']})"
            )
        mapping[spec["name"]] = names
    else:
        for spec in inputs:
            width = _width(spec["shape"])
            name = spec["name"]
            wanted = [name] if width == 1 else [f"{name}_{i}" for i in range(width or 0)]
            if width is None or any(w not in dtypes for w in wanted):
                if width == 1 and f"{spec['name']}_0" in dtypes:
                    wanted = [f"{spec['name']}_0"]
                else:
                    raise InvalidInput(
                        f"the dataset has no columns for input {spec['name']!r} (expected "
                        f"{', '.join(wanted) if wanted else 'a fixed width'}; the dataset has "
                        f"{', '.join(names)})"
                    )
            mapping[spec["name"]] = wanted
        used = {c for cols in mapping.values() for c in cols}
        extra = [n for n in names if n not in used]
        if extra:
            raise InvalidInput(f"dataset columns {extra} match no model input")
    by_name = {spec["name"]: spec for spec in inputs}
    for input_name, cols in mapping.items():
        for col in cols:
            if not _dtype_compatible(dtypes[col], by_name[input_name]["dtype"]):
                raise InvalidInput(
                    f"column {col!r} is {dtypes[col]} but input {input_name!r} is "
                    f"{by_name[input_name]['dtype']}"
                )
    return mapping


def dataset_check_signature(schema: dict, signature: dict, *, role: str) -> None:
    """InvalidInput if this dataset cannot feed the model (role names it in the message)."""
    try:
        input_columns(schema, signature)
    except InvalidInput as exc:
        raise InvalidInput(f"the {role} dataset does not match the model: {exc.message}") from None
