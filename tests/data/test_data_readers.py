"""glassnet.data: CSV and Parquet files streamed as shuffled (x, y) batches."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from glassnet.data import Batches, read_csv, read_parquet
from glassnet.experiments import dense_network
from glassnet.models import DataError
from glassnet.utils import set_random_seed

COLUMNS = ["a", "b", "c", "target"]


def table(rows: int) -> np.ndarray:
    """Row i holds (i, 2i, -i, i): a row's x can be checked against its y."""
    i = np.arange(rows, dtype=np.float64)
    return np.column_stack([i, 2 * i, -i, i])


def write_csv(path, values, columns=COLUMNS):
    np.savetxt(path, values, delimiter=",", header=",".join(columns), comments="", fmt="%.9g")
    return path


def write_parquet(path, values, columns=COLUMNS, row_group_size=50):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({c: values[:, j] for j, c in enumerate(columns)}), path,
                   row_group_size=row_group_size)
    return path


@pytest.fixture(params=["csv-pandas", "csv-python", "parquet"])
def reader(request, tmp_path):
    """A function (rows, **options) -> Batches over a file of ``table(rows)``."""

    def make(rows, **options):
        values = table(rows)
        if request.param == "parquet":
            return read_parquet(write_parquet(tmp_path / "t.parquet", values), "target",
                                **options)
        if request.param == "csv-pandas":
            pytest.importorskip("pandas")
        return read_csv(write_csv(tmp_path / "t.csv", values), "target",
                        engine=request.param.split("-")[1], **options)

    return make


def epoch(batches: Batches) -> tuple[np.ndarray, np.ndarray]:
    pairs = list(batches)
    return np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs])


def test_every_row_once_per_epoch_with_its_own_target(reader):
    batches = reader(500, batch_size=32, shuffle_buffer=64, seed=0, chunk_rows=40)
    assert len(batches) == math.ceil(500 / 32) and batches.features == ["a", "b", "c"]
    for _ in range(2):
        x, y = epoch(batches)
        assert x.dtype == y.dtype == np.float32 and x.shape == (500, 3) and y.shape == (500,)
        assert sorted(y.tolist()) == list(range(500))
        np.testing.assert_array_equal(x, np.column_stack([y, 2 * y, -y]))
        assert not np.array_equal(y, np.arange(500))


def test_shuffling_is_reproducible_and_new_each_epoch(reader):
    one = reader(300, batch_size=50, shuffle_buffer=100, seed=3, chunk_rows=64)
    first, second = epoch(one)[1], epoch(one)[1]
    again = reader(300, batch_size=50, shuffle_buffer=100, seed=3, chunk_rows=64)
    np.testing.assert_array_equal(epoch(again)[1], first)
    np.testing.assert_array_equal(epoch(again)[1], second)
    assert not np.array_equal(first, second)


def test_no_buffer_keeps_the_file_order(reader):
    y = epoch(reader(100, batch_size=7, shuffle_buffer=0))[1]
    np.testing.assert_array_equal(y, np.arange(100))


def test_a_row_never_comes_out_more_than_the_buffer_ahead(tmp_path):
    # The buffer bounds what shuffling may do: row i is emitted at position >= i - buffer.
    path = write_csv(tmp_path / "t.csv", table(2000))
    y = epoch(read_csv(path, "target", batch_size=100, shuffle_buffer=128, seed=1,
                       chunk_rows=300))[1]
    positions = np.empty(2000, dtype=int)
    positions[y.astype(int)] = np.arange(2000)
    assert (positions >= np.arange(2000) - 128).all()


def test_drop_remainder_and_multi_column_targets(tmp_path):
    path = write_csv(tmp_path / "t.csv", table(100))
    batches = read_csv(path, ["target", "c"], features=["a"], batch_size=30, seed=0,
                       drop_remainder=True)
    assert len(batches) == 3 and batches.targets == ["target", "c"]
    shapes = [(x.shape, y.shape) for x, y in batches]
    assert shapes == [((30, 1), (30, 2))] * 3


def test_several_files_are_one_stream(tmp_path):
    values = table(90)
    paths = [write_csv(tmp_path / f"part{k}.csv", values[k * 30:(k + 1) * 30]) for k in range(3)]
    batches = read_csv(paths, "target", batch_size=16, shuffle_buffer=10, seed=0)
    assert len(batches) == 6
    assert sorted(epoch(batches)[1].tolist()) == list(range(90))


def test_memory_stays_bounded_by_the_buffer(tmp_path):
    # A 2.4 MB table (as float32) read through a 1,000-row buffer: the reader's peak memory
    # is a fraction of the table, and it does not grow with the file (measured: ~300 kB here
    # and the same for a file four times larger).
    rows = 150_000
    path = write_csv(tmp_path / "big.csv", table(rows))
    full_bytes = rows * 4 * 4
    batches = read_csv(path, "target", batch_size=256, shuffle_buffer=1_000, seed=0,
                       chunk_rows=1_000)
    next(iter(batches))  # imports and first allocations happen outside the measurement
    tracemalloc.start()
    try:
        count = sum(len(y) for _, y in batches)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert peak < full_bytes / 4, f"peak {peak} bytes for a {full_bytes}-byte table"


def test_training_by_hand_on_a_streamed_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 1.0
    path = write_csv(tmp_path / "train.csv", np.column_stack([x, y]))
    batches = read_csv(path, "target", batch_size=64, shuffle_buffer=500, seed=0)
    set_random_seed(0)
    model = dense_network(3, (16,), learning_rate=0.01)
    losses = []
    for _ in range(4):
        losses.append(np.mean([model.train_on_batch(xb, yb) for xb, yb in batches]))
    assert losses[-1] < 0.1 * losses[0]
    assert model.evaluate(x, y, verbose=0) < 0.1


# --- errors --------------------------------------------------------------------------------


def test_unknown_target_lists_the_columns(tmp_path):
    path = write_csv(tmp_path / "t.csv", table(5))
    with pytest.raises(ValueError, match=r"has no column 'targte'\. Did you mean 'target'\?"
                                         r" Its columns are: a, b, c, target"):
        read_csv(path, "targte")
    with pytest.raises(ValueError, match=r"\['a'\] are both features and target"):
        read_csv(path, "a", features=["a", "b"])
    with pytest.raises(ValueError, match="`target` is required"):
        read_csv(path, None)


@pytest.mark.parametrize("engine", ["pandas", "python"])
@pytest.mark.parametrize(("cell", "message"), [
    ("abc", r"data row 3: column 'b' holds 'abc', which is not a number"),
    ("", r"data row 3: column 'b' is empty or NaN"),
])
def test_bad_values_name_the_row_and_column(tmp_path, engine, cell, message):
    if engine == "pandas":
        pytest.importorskip("pandas")
    path = tmp_path / "bad.csv"
    path.write_text(f"a,b,target\n1,2,3\n4,5,6\n7,{cell},9\n1,1,1\n")
    batches = read_csv(path, "target", engine=engine, shuffle_buffer=0)
    with pytest.raises(DataError, match=message):
        list(batches)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"batch_size": 0}, ValueError, "`batch_size` must be a positive integer"),
    ({"shuffle_buffer": -5}, ValueError, "`shuffle_buffer` must be an integer >= 0"),
    ({"seed": 1.5}, ValueError, "`seed` must be an integer >= 0"),
    ({"engine": "arrow"}, ValueError, "`engine` must be one of"),
])
def test_bad_options(tmp_path, kwargs, error, message):
    path = write_csv(tmp_path / "t.csv", table(5))
    with pytest.raises(error, match=message):
        read_csv(path, "target", **kwargs)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="No such file: 'nowhere.csv'"):
        read_csv("nowhere.csv", "target")


def test_parquet_text_column_is_refused_at_once(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "city": ["x", "y"], "target": [0.0, 1.0]}), path)
    with pytest.raises(DataError, match="column 'city' has type string, not a number"):
        read_parquet(path, "target")
    batches = read_parquet(path, "target", features=["a"], shuffle_buffer=0)
    assert [y.tolist() for _, y in batches] == [[0.0, 1.0]]


def test_parquet_missing_value(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1.0, None, 3.0], "target": [0, 1, 2]}), path)
    with pytest.raises(DataError, match="data row 2: column 'a' is empty or NaN"):
        list(read_parquet(path, "target", shuffle_buffer=0))
