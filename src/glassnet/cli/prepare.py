"""New data as a saved model's inputs and targets, for ``evaluate``, ``predict``, ``explain``.

With a columns file, the data is encoded exactly as in training. Without one, the data's
columns other than the target feed the model as they are (they must all be numbers, and as
many as the model takes), and the target's meaning is read off the output layer: one
sigmoid unit means classes 0 and 1, ``k`` softmax units classes 0 to ``k - 1``, anything
else a number.
"""

from __future__ import annotations

import numpy as np

from glassnet.cli.encoding import InputColumn, InputEncoding
from glassnet.cli.errors import CommandError
from glassnet.cli.modelfiles import ModelInfo
from glassnet.cli.tabular import Table, column
from glassnet.cli.target import Target


def target_from_model(model, name: str) -> Target:
    """What a model without a columns file predicts, judged by its output layer."""
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "name", "linear")
    units = int(model.output_shape[-1]) if model.output_shape else 1
    if activation == "sigmoid" and units == 1:
        return Target(name, "classification", "binary_crossentropy", [0, 1])
    if activation == "softmax" and units > 1:
        return Target(name, "classification", "sparse_categorical_crossentropy",
                      list(range(units)))
    return Target(name, "regression", "mean_squared_error")


def encoding_for(model, info: ModelInfo | None, table: Table, target: str | None) -> InputEncoding:
    """How to encode ``table`` for the model: the recorded encoding, or its numeric columns.

    Raises:
        CommandError: without a columns file, when a column holds text or the number of
            columns differs from the model's inputs.
    """
    if info is not None:
        return info.inputs
    names = [name for name in table.columns if name != target]
    for name in names:
        if not column(table, name).is_numeric:
            raise CommandError(
                f"column {name!r} of {table.source} holds text; without a columns file next "
                "to the model, every input column must hold numbers"
            )
    expected = model.input_shape[-1] if model.input_shape else len(names)
    if len(names) != expected:
        target_hint = "" if target else " (name the target column with --target to leave it out)"
        raise CommandError(
            f"the model takes {expected} inputs, but {table.source} has {len(names)} input "
            f"columns{target_hint}"
        )
    return InputEncoding([InputColumn(name, "numeric") for name in names])


def recompile(model, target: Target) -> None:
    """Compiles a loaded model with its target's loss and metric, for ``evaluate``."""
    model.compile(optimizer=model.optimizer or "adam", loss=target.loss, metrics=[target.metric])


def prediction_columns(target: Target, outputs: np.ndarray) -> dict[str, list]:
    """The prediction columns of ``predict``'s CSV: ``predicted_<target>`` and, for
    classification, ``probability_<class>`` for each class."""
    predicted, probabilities = target.decode(outputs)
    result: dict[str, list] = {f"predicted_{target.name}": predicted}
    if probabilities is not None:
        from glassnet.cli.tabular import format_value

        for k, label in enumerate(target.classes):
            result[f"probability_{format_value(label)}"] = probabilities[:, k].tolist()
    return result
