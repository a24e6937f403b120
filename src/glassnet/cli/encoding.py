"""Turning a table's columns into a model's inputs, the same way every time.

:class:`InputEncoding` records which columns feed the model and how: numeric columns as
they are, text columns with few distinct values as one-hot columns (``sex`` becomes
``sex=female`` and ``sex=male``). It is saved as JSON next to the model (see
:mod:`glassnet.cli.modelfiles`), so that ``predict`` and ``evaluate`` encode new data
exactly as ``train`` did. What the model predicts is :mod:`glassnet.cli.target`'s part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import (
    Column,
    Table,
    column,
    first_text,
    format_value,
    missing_columns_message,
    require_complete,
)

#: Text columns with at most this many distinct values are one-hot encoded by default.
MAX_CATEGORIES = 20


@dataclass(frozen=True)
class InputColumn:
    """How one column of the data becomes model inputs.

    Attributes:
        name: the column's name in the data.
        kind: ``"numeric"`` (one input, the value) or ``"categorical"`` (one 0/1 input per
            category).
        categories: the categories, sorted, for a categorical column.
    """

    name: str
    kind: str
    categories: tuple[str, ...] = ()

    @property
    def features(self) -> list[str]:
        """The names of the model inputs this column becomes."""
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={category}" for category in self.categories]


@dataclass
class InputEncoding:
    """The columns that feed a model, and how each becomes numbers.

    Example:
        >>> encoding = InputEncoding([InputColumn("age", "numeric"),
        ...                           InputColumn("sex", "categorical", ("female", "male"))])
        >>> encoding.feature_names
        ['age', 'sex=female', 'sex=male']
    """

    columns: list[InputColumn]

    @property
    def feature_names(self) -> list[str]:
        """The model's inputs, in order."""
        return [feature for col in self.columns for feature in col.features]

    @property
    def categorical(self) -> list[InputColumn]:
        """The one-hot encoded columns."""
        return [col for col in self.columns if col.kind == "categorical"]

    @classmethod
    def fit(
        cls, table: Table, exclude: list[str], max_categories: int = MAX_CATEGORIES
    ) -> InputEncoding:
        """Decides how each column of ``table`` but those in ``exclude`` becomes inputs.

        Raises:
            CommandError: for a column with missing values, a text column with more than
                ``max_categories`` distinct values, or when no column is left.
        """
        encoded = []
        for name in table.columns:
            if name in exclude:
                continue
            col = column(table, name)
            require_complete(table, col, "column")
            if col.is_numeric:
                encoded.append(InputColumn(name, "numeric"))
                continue
            categories = sorted(set(col.texts.tolist()))
            if len(categories) > max_categories:
                raise CommandError(
                    f"column {name!r} of {table.source} holds text with {len(categories)} "
                    f"different values, too many to use as categories (at most "
                    f"{max_categories}, e.g. {', '.join(map(repr, categories[:2]))}); leave it "
                    f"out with --drop {name}, or allow more with --max-categories"
                )
            encoded.append(InputColumn(name, "categorical", tuple(categories)))
        if not encoded:
            raise CommandError(f"{table.source} has no columns left to use as inputs")
        return cls(encoded)

    def transform(self, table: Table) -> np.ndarray:
        """The model inputs for every row of ``table``, as float32 of shape (rows, features).

        Raises:
            CommandError: if a column is missing, has missing values, holds text where the
                model was trained on numbers, or a category the model never saw.
        """
        absent = [col.name for col in self.columns if not table.has(col.name)]
        if absent:
            raise CommandError(missing_columns_message(table, absent, "input column"))
        blocks = []  # float32 from the start: no float64 copy of the whole matrix
        for spec in self.columns:
            col = column(table, spec.name)
            require_complete(table, col, "column")
            if spec.kind == "numeric":
                if not col.is_numeric:
                    row = first_text(col)
                    raise CommandError(
                        f"column {spec.name!r} of {table.source} holds text (such as "
                        f"{col.texts[row]!r} at {table.where(row)}), but the model was "
                        "trained on numbers in that column"
                    )
                blocks.append(col.numbers.astype(np.float32).reshape(-1, 1))
            else:
                blocks.append(_one_hot(table, spec, _as_texts(col)))
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)

    def notes(self) -> list[str]:
        """One sentence per one-hot encoded column, for the user."""
        return [
            f"encoded text column {col.name!r} as {len(col.categories)} one-hot columns: "
            + ", ".join(col.features)
            for col in self.categorical
        ]

    def to_dict(self) -> dict:
        """A JSON-ready description (see :meth:`from_dict`)."""
        return {
            "columns": [
                {"name": c.name, "kind": c.kind}
                | ({"categories": list(c.categories)} if c.kind == "categorical" else {})
                for c in self.columns
            ],
            "features": self.feature_names,
        }

    @classmethod
    def from_dict(cls, data: dict) -> InputEncoding:
        """The encoding that :meth:`to_dict` described."""
        return cls([
            InputColumn(str(c["name"]), str(c["kind"]), tuple(map(str, c.get("categories", ()))))
            for c in data["columns"]
        ])


def _as_texts(col: Column) -> np.ndarray:
    if col.texts is not None:
        return col.texts
    return np.array([format_value(v) for v in col.numbers], dtype=object)


def _one_hot(table: Table, spec: InputColumn, texts: np.ndarray) -> np.ndarray:
    index = {category: k for k, category in enumerate(spec.categories)}
    positions = np.array([index.get(text, -1) for text in texts], dtype=np.int64)
    unknown = np.flatnonzero(positions < 0)
    if len(unknown):
        row = int(unknown[0])
        raise CommandError(
            f"column {spec.name!r} of {table.source} has {texts[row]!r} at {table.where(row)}, "
            f"a category the model never saw; it knows: {', '.join(spec.categories)}"
        )
    block = np.zeros((len(texts), len(spec.categories)), dtype=np.float32)
    block[np.arange(len(texts)), positions] = 1.0
    return block
