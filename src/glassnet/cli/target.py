"""What a model predicts from a table's target column: the task, the output layer, the loss.

:class:`Target` records what the model predicts: a number (regression) or one of a fixed
list of classes, with the output layer and loss that go with it. It is saved with the model
(see :mod:`glassnet.cli.modelfiles`).

How the target decides the task, when neither ``--task`` nor ``--loss`` says:

* text values, or exactly two distinct values: classes;
* whole numbers with at most ``max_classes`` (20) distinct values: classes;
* any other numbers: regression.

And the output layer and loss for each:

=====================  ======================  ===================================  ========
task                   output layer            loss                                 metric
=====================  ======================  ===================================  ========
regression             ``Dense(1)``            ``mean_squared_error``               ``mae``
two classes            ``Dense(1, sigmoid)``   ``binary_crossentropy``              accuracy
three or more classes  ``Dense(k, softmax)``   ``sparse_categorical_crossentropy``  accuracy
=====================  ======================  ===================================  ========

``--loss categorical_crossentropy`` gives ``Dense(k, softmax)`` with one-hot targets, also for
two classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet import losses
from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import Table, column, format_value, require_complete

#: Whole-number targets with at most this many distinct values are classes by default.
MAX_CLASSES = 20

CLASSIFICATION_LOSSES = (
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)
REGRESSION_LOSSES = (
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "poisson",
)



def canonical_loss(name: str) -> str:
    """The canonical name of a supported loss: ``"mse"`` → ``"mean_squared_error"``.

    Raises:
        CommandError: for an unknown loss, or one the command line cannot pair with an
            output layer; the message lists the supported names.
    """
    try:
        kind = type(losses.get(name))
    except ValueError as error:
        raise CommandError(str(error)) from None
    for known in CLASSIFICATION_LOSSES + REGRESSION_LOSSES:
        if type(losses.get(known)) is kind:
            return known
    raise CommandError(
        f"the command line does not support loss {name!r}; use one of: "
        + ", ".join(CLASSIFICATION_LOSSES + REGRESSION_LOSSES)
    )


def _class_value(value: object) -> int | float | str:
    """A class label as a JSON scalar: whole numbers become ints."""
    if isinstance(value, np.floating):  # float32 0.1 is 0.1, not 0.10000000149011612
        value = float(str(value))
    if isinstance(value, float):
        return int(value) if float(value).is_integer() else float(value)
    return str(value)


class _Lookup:
    """``shown[inverse[row]]`` for ``[row]``: the cells of a number column as text, made only
    for the row a message names."""

    def __init__(self, shown: list[str], inverse: np.ndarray) -> None:
        self.shown, self.inverse = shown, inverse

    def __getitem__(self, row: int) -> str:
        return self.shown[int(self.inverse[row])]


@dataclass
class Target:
    """What the model predicts from a table's target column, and how it is trained.

    Attributes:
        name: the target column.
        task: ``"regression"`` or ``"classification"``.
        loss: the canonical loss name.
        classes: for classification, the class labels, sorted (ints, floats or strings);
            the model's output ``k`` is about ``classes[k]`` (for one sigmoid output, about
            ``classes[1]``).
    """

    name: str
    task: str
    loss: str
    classes: list = field(default_factory=list)

    @property
    def units(self) -> int:
        """Units of the output layer."""
        if self.task == "regression" or self.loss == "binary_crossentropy":
            return 1
        return len(self.classes)

    @property
    def activation(self) -> str:
        """Activation of the output layer."""
        if self.task == "regression":
            return "linear"
        return "sigmoid" if self.loss == "binary_crossentropy" else "softmax"

    @property
    def metric(self) -> str:
        """The metric reported besides the loss."""
        return "accuracy" if self.task == "classification" else "mae"

    def describe(self) -> str:
        """One line saying what the model predicts and how."""
        if self.task == "regression":
            return (f"{self.name!r} is a number: regression with a linear output and "
                    f"{self.loss}")
        shown = ", ".join(map(format_value, self.classes[:10])) + (
            ", ..." if len(self.classes) > 10 else "")
        output = ("one sigmoid output (the probability of "
                  f"{format_value(self.classes[1])})" if self.units == 1
                  else f"{self.units} softmax outputs")
        return (f"{self.name!r} has {len(self.classes)} classes ({shown}): {output} and "
                f"{self.loss}")

    @classmethod
    def infer(
        cls,
        table: Table,
        name: str,
        task: str = "auto",
        loss: str | None = None,
        max_classes: int = MAX_CLASSES,
    ) -> Target:
        """Chooses the task, the loss and the classes from the target column's values.

        Args:
            table: the data.
            name: the target column.
            task: ``"auto"``, ``"classification"`` or ``"regression"``.
            loss: a loss name that overrides the choice (it also decides the task).
            max_classes: whole-number targets with at most this many values are classes.

        Raises:
            CommandError: for a missing target column, missing target values, a single
                class, a constant number, or a loss that does not fit the target.
        """
        col = column(table, name, "target column")
        require_complete(table, col, "target column")
        loss_name = canonical_loss(loss) if loss else None
        if loss_name:
            wanted = "classification" if loss_name in CLASSIFICATION_LOSSES else "regression"
            if task not in ("auto", wanted):
                raise CommandError(f"--loss {loss} is for {wanted}, but --task is {task}")
            task = wanted
        values = col.present()
        distinct = np.unique(values)
        if task == "auto":
            task = "regression"
            if not col.is_numeric or len(distinct) == 2 or (
                len(distinct) <= max_classes and np.all(distinct == np.round(distinct))
            ):
                task = "classification"
        if task == "regression":
            if not col.is_numeric:
                raise CommandError(
                    f"target column {name!r} of {table.source} holds text (such as "
                    f"{values[0]!r}), but regression needs numbers"
                )
            if len(distinct) < 2:
                raise CommandError(
                    f"target column {name!r} of {table.source} has the same value "
                    f"{format_value(distinct[0])} in every row; there is nothing to learn"
                )
            return cls(name, "regression", loss_name or "mean_squared_error")
        if len(distinct) < 2:
            raise CommandError(
                f"target column {name!r} of {table.source} has only one class "
                f"({format_value(distinct[0])!r} in all {table.rows} rows); a classifier "
                "needs at least two"
            )
        classes = [_class_value(v) for v in distinct]
        if loss_name is None:
            loss_name = ("binary_crossentropy" if len(classes) == 2
                         else "sparse_categorical_crossentropy")
        if loss_name == "binary_crossentropy" and len(classes) != 2:
            raise CommandError(
                f"binary_crossentropy needs a target with two classes; {name!r} has "
                f"{len(classes)} different values. For several classes use --loss "
                "sparse_categorical_crossentropy; to predict a number, a regression loss "
                "such as mean_squared_error"
            )
        return cls(name, "classification", loss_name, classes)

    def labels(self, table: Table) -> np.ndarray:
        """The target column as class indices (int64) or numbers (float64).

        Raises:
            CommandError: for missing values, text in a regression target, or a class the
                model does not know.
        """
        col = column(table, self.name, "target column")
        require_complete(table, col, "target column")
        if self.task == "regression":
            if not col.is_numeric:
                raise CommandError(
                    f"target column {self.name!r} of {table.source} holds text, but the "
                    "model predicts numbers"
                )
            return col.numbers
        keys = [format_value(c) for c in self.classes]
        index = {key: k for k, key in enumerate(keys)}
        if col.texts is not None:
            texts = col.texts
            found = np.array([index.get(str(t), -1) for t in texts], dtype=np.int64)
        else:  # each distinct number once, not a string per row (memory of a large file)
            distinct, inverse = np.unique(col.numbers, return_inverse=True)
            shown = [format_value(v) for v in distinct]
            found = np.array([index.get(t, -1) for t in shown], dtype=np.int64)[inverse]
            texts = _Lookup(shown, inverse)
        if (found < 0).any():
            row = int(np.flatnonzero(found < 0)[0])
            raise CommandError(
                f"target column {self.name!r} of {table.source} has {texts[row]!r} at "
                f"{table.where(row)}, a class the model does not know; it knows: "
                + ", ".join(keys)
            )
        return found

    def encode(self, labels: np.ndarray) -> np.ndarray:
        """What ``fit``/``evaluate`` take as ``y`` for these labels (see :meth:`labels`)."""
        if self.task == "regression":
            return labels.astype(np.float32).reshape(-1, 1)
        if self.loss == "categorical_crossentropy":
            return np.eye(len(self.classes), dtype=np.float32)[labels]
        if self.loss == "binary_crossentropy":
            return labels.astype(np.float32).reshape(-1, 1)
        return labels

    def decode(self, outputs: np.ndarray) -> tuple[list, np.ndarray | None]:
        """Predicted values or classes, and class probabilities, from model outputs.

        Returns:
            ``(predicted, probabilities)``: a list with one prediction per row (numbers, or
            class labels as in the data), and for classification an array of shape
            (rows, classes) with the probability of each class (``None`` for regression).
        """
        outputs = np.asarray(outputs, dtype=np.float64)
        if self.task == "regression":
            return outputs[:, 0].tolist(), None
        if outputs.shape[1] == 1:
            positive = outputs[:, 0]
            probabilities = np.column_stack([1.0 - positive, positive])
        else:
            probabilities = outputs
        chosen = np.argmax(probabilities, axis=1)
        return [self.classes[k] for k in chosen], probabilities

    def to_dict(self) -> dict:
        """A JSON-ready description (see :meth:`from_dict`)."""
        return {"name": self.name, "task": self.task, "loss": self.loss,
                "classes": list(self.classes)}

    @classmethod
    def from_dict(cls, data: dict) -> Target:
        """The target that :meth:`to_dict` described."""
        return cls(str(data["name"]), str(data["task"]), str(data["loss"]),
                   list(data.get("classes") or []))
