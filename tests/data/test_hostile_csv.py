"""``glassnet.data.read_csv`` on hostile cells (issue 22): a value beyond float32 is named
with its row and column, without NumPy's ``RuntimeWarning``; ``1_000`` is not a number."""

from __future__ import annotations

import warnings

import pytest

from glassnet.data import read_csv
from glassnet.models import DataError

ENGINES = ["pandas", "python"]


def write(path, cell):
    rows = [f"{i}.5,{cell if i == 3 else i},{i % 2}" for i in range(8)]
    path.write_text("a,b,target\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_beyond_float32_is_named_without_a_warning(tmp_path, engine):
    if engine == "pandas":
        pytest.importorskip("pandas")
    batches = read_csv(write(tmp_path / "t.csv", "1e308"), "target", engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(
            DataError,
            match=r"data row 4: column 'b' holds 1e\+308, too large "
            r"for float32",
        ):
            list(batches)


@pytest.mark.parametrize("engine", ENGINES)
def test_underscores_are_not_numbers(tmp_path, engine):
    if engine == "pandas":
        pytest.importorskip("pandas")
    batches = read_csv(write(tmp_path / "t.csv", "1_000"), "target", engine=engine)
    with pytest.raises(
        DataError,
        match=r"data row 4: column 'b' holds '1_000', which is not a "
        "number",
    ):
        list(batches)


def test_a_parquet_value_beyond_float32_is_named_without_a_warning(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from glassnet.data import read_parquet

    values = {"a": [0.5, 1.5, 2.5, 3.5], "b": [0.0, 1.0, -2e39, 3.0], "target": [0, 1, 0, 1]}
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(values), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(DataError, match=r"data row 3: column 'b' holds -2e\+39, too large"):
            list(read_parquet(path, "target"))
