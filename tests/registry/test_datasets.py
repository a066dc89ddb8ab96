"""Datasets: .npz/.csv/.parquet parsing, rejections, content-addressed storage, loading, and
matching a dataset to a model signature."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings

from core.errors import InvalidInput
from registry.models import Dataset
from registry.services import dataset_create, dataset_inputs, dataset_load, version_register
from tests.registry.conftest import assert_nothing_left, files_under


@pytest.mark.django_db
def test_it_reads_an_npz_with_features_and_labels(alice, npz_dataset):
    path = npz_dataset(rows=20)
    dataset = dataset_create(name="holdout", upload=path, filename=path.name, actor=alice)
    assert (dataset.format, dataset.row_count) == ("npz", 20)
    assert dataset.schema == {
        "features": [{"name": f"f{i}", "dtype": "float32"} for i in range(4)],
        "label": "y",
    }
    features, labels = dataset_load(dataset)
    with np.load(path) as raw:
        np.testing.assert_array_equal(features, raw["x"])
        np.testing.assert_array_equal(labels, raw["y"])
    assert features.dtype == np.float32


@pytest.mark.django_db
def test_it_reads_a_csv_with_a_label_column(alice, write_file):
    path = write_file("data.csv", b"a,b,target\n1,2.5,0\n3,4.5,1\n5,6.5,1\n")
    dataset = dataset_create(
        name="csv", upload=path, filename="data.csv", label_column="target", actor=alice
    )
    assert dataset.schema == {
        "features": [{"name": "a", "dtype": "int64"}, {"name": "b", "dtype": "float64"}],
        "label": "target",
    }
    features, labels = dataset_load(dataset)
    np.testing.assert_array_equal(features, [[1, 2.5], [3, 4.5], [5, 6.5]])
    np.testing.assert_array_equal(labels, [0, 1, 1])


@pytest.mark.django_db
def test_it_reads_parquet(alice, tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x1": [0.5, 1.5], "x2": [1, 2], "flag": [True, False]}), path)
    dataset = dataset_create(name="pq", upload=path, filename=path.name, actor=alice)
    assert dataset.row_count == 2 and dataset.label is None
    assert dataset.feature_names == ["x1", "x2", "flag"]
    features, labels = dataset_load(dataset)
    np.testing.assert_array_equal(features, [[0.5, 1, 1], [1.5, 2, 0]])
    assert labels is None


@pytest.mark.django_db
def test_it_stores_identical_files_once(alice, npz_dataset):
    path = npz_dataset()
    first = dataset_create(name="a", upload=path, filename=path.name, actor=alice)
    second = dataset_create(name="b", upload=path, filename=path.name, actor=alice)
    assert first.pk != second.pk and first.path == second.path
    assert files_under(settings.MODELGATE_DATASET_ROOT) == [first.path]


BAD = {
    "empty csv": ("e.csv", b"a,b\n", "the dataset has no rows"),
    "ragged csv": ("r.csv", b"a,b\n1,2\n3\n", "malformed CSV"),
    "non-numeric csv": ("n.csv", b"a,b\n1,x\n2,y\n", "column 'b' is not numeric"),
    "empty cell": ("c.csv", b"a,b\n1,\n2,3\n", "column 'b' has 1 empty values"),
    "missing label": ("l.csv", b"a,b\n1,2\n", "label column 'z' is not in the header (a, b)"),
    "not an npz": ("x.npz", b"garbage", "not a readable .npz file"),
    "not parquet": ("x.parquet", b"garbage", "not a readable Parquet file"),
    "unsupported": ("x.json", b"{}", "unsupported dataset file 'x.json'"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD))
def test_it_rejects_bad_datasets_and_leaves_nothing(alice, write_file, case):
    name, data, message = BAD[case]
    label = "z" if case == "missing label" else None
    with pytest.raises(InvalidInput) as caught:
        dataset_create(
            name="bad",
            upload=write_file(name, data),
            filename=name,
            actor=alice,
            label_column=label,
        )
    assert message in caught.value.message
    assert_nothing_left()


@pytest.mark.django_db
def test_it_rejects_ragged_npz_labels(alice, tmp_path):
    path = tmp_path / "r.npz"
    np.savez(path, x=np.zeros((5, 4), dtype="float32"), y=np.zeros(3))
    with pytest.raises(InvalidInput, match="ragged dataset: 3 labels for 5 rows"):
        dataset_create(name="r", upload=path, filename="r.npz", actor=alice)
    assert_nothing_left()


@pytest.mark.django_db
def test_it_matches_named_columns_to_a_multi_input_model(alice, multi_io_model_file, tmp_path):
    path = tmp_path / "multi.npz"
    rng = np.random.default_rng(0)
    # Named arrays become named columns (feats_0.., extra_0..); `feats` matches no input.
    np.savez(
        path,
        extra=rng.normal(size=(6, 2)).astype("float32"),
        feats=rng.normal(size=(6, 4)).astype("float32"),
        y=np.arange(6),
    )
    bad = dataset_create(name="m", upload=path, filename="m.npz", actor=alice)
    with pytest.raises(InvalidInput, match="no columns for input 'features'"):
        version_register(
            model_name="multi",
            upload=multi_io_model_file,
            filename="m.keras",
            actor=alice,
            reference_dataset=bad,
        )

    csv = tmp_path / "multi.csv"
    header = "features_0,features_1,features_2,features_3,extra_0,extra_1,y"
    rows = "\n".join(",".join(str(v) for v in range(i, i + 7)) for i in range(3))
    csv.write_text(f"{header}\n{rows}\n")
    good = dataset_create(name="m", upload=csv, filename="m.csv", label_column="y", actor=alice)
    version = version_register(
        model_name="multi",
        upload=multi_io_model_file,
        filename="m.keras",
        actor=alice,
        reference_dataset=good,
    )
    feeds, labels = dataset_inputs(good, version.signature)
    assert feeds["features"].shape == (3, 4) and feeds["extra"].shape == (3, 2)
    np.testing.assert_array_equal(feeds["extra"][0], [4, 5])
    np.testing.assert_array_equal(labels, [6, 7, 8])


@pytest.mark.django_db
def test_it_rejects_an_int_input_fed_float_columns(alice, keras_model_file, npz_dataset):
    from registry.datasets import input_columns

    signature = {"inputs": [{"name": "ids", "dtype": "int32", "shape": [-1, 4]}]}
    schema = {"features": [{"name": f"f{i}", "dtype": "float32"} for i in range(4)]}
    with pytest.raises(InvalidInput, match="column 'f0' is float32 but input 'ids' is int32"):
        input_columns(schema, signature)
    assert Dataset.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("compressed", [False, True])
def test_it_gives_a_datasets_inputs_in_batches(alice, keras_model_file, tmp_path, compressed):
    from registry.datasets import npz_features_mapped
    from registry.selectors import dataset_file_path, dataset_input_batches

    rng = np.random.default_rng(3)
    path = tmp_path / "d.npz"
    save = np.savez_compressed if compressed else np.savez
    # float64 features with the labels first in the file: mapped, then cast per batch.
    save(path, features=rng.integers(0, 2, size=10), x=rng.normal(size=(10, 4)))
    dataset = dataset_create(
        name="d", upload=path, filename="d.npz", label_column="features", actor=alice
    )
    version = version_register(
        model_name="small", upload=keras_model_file, filename="s.keras", actor=alice
    )
    mapped = npz_features_mapped(dataset_file_path(dataset), dataset.label)
    assert (mapped is None) == compressed
    if not compressed:
        assert isinstance(mapped, np.memmap) and mapped.shape == (10, 4)
    batches = list(dataset_input_batches(dataset, version.signature, 4))
    whole, _ = dataset_inputs(dataset, version.signature)
    assert [len(b["features"]) for b in batches] == [4, 4, 2]
    joined = np.concatenate([b["features"] for b in batches])
    assert joined.dtype == whole["features"].dtype == np.float32
    np.testing.assert_array_equal(joined, whole["features"])
