"""Models of several inputs or outputs: their data, losses and metrics, as Keras 3 names them.

A functional model may take several arrays and give several. The training loop stays the
one loop: several arrays of the same rows travel as one ``ArrayGroup`` (sliced and shuffled
together), the outputs' losses as one ``OutputLosses`` (the weighted sum, and each output's
own loss), and each output's metrics as ``OutputMetric``s. The names in the logs are Keras
3's (``keras/src/trainers/compile_utils.py``): ``loss`` is the weighted sum,
``<output>_loss`` each output's unweighted loss, ``<output>_<metric>`` each metric, and
every name after ``loss`` in sorted order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import losses as losses_module
from glassnet import metrics as metrics_module


class ArrayGroup:
    """Arrays with the same number of rows, indexed and sliced together by row."""

    __slots__ = ("arrays",)

    def __init__(self, arrays) -> None:
        self.arrays = list(arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index) -> ArrayGroup:
        return ArrayGroup([array[index] for array in self.arrays])

    def __iter__(self):
        return iter(self.arrays)

    @property
    def ndim(self) -> int:
        return 1  # never one matrix: no column of ones, no row sums

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self.arrays)

    @property
    def dtype(self):
        return self.arrays[0].dtype


def structure_for(names: list[str], value: Any, what: str) -> list:
    """``value`` given per output (a list in output order, or a dict by output name) as a
    list in output order; a single value is used for every output.

    Raises:
        ValueError: when a list has another length, or a dict names no output.
    """
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ValueError(
                f"`{what}` names {unknown[0]!r}, which is not an output of the model; its "
                f"outputs are {names}"
            )
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"`{what}` has {len(value)} entries, but the model has {len(names)} outputs "
                f"({names}); give one per output, or a dict keyed by output name"
            )
        return list(value)
    return [value] * len(names)


class OutputLosses:
    """The losses of a model of several outputs, summed with their weights.

    ``values``/``reduce`` and ``reduced`` behave as a single loss's do, on lists of targets
    and outputs; ``last`` keeps each output's reduced loss of the latest batch for the
    ``<output>_loss`` entries of the logs.
    """

    fused_activation = None
    from_logits = False
    name = "loss"

    def __init__(self, losses: list, weights: list[float], names: list[str]) -> None:
        self.losses = losses
        self.weights = weights
        self.names = names
        self.last: list[float] = [0.0] * len(losses)

    def reduced(self, y, out, sample_weight=None):
        total = 0.0
        grads = []
        for i, (loss, weight, target, output) in enumerate(
            zip(self.losses, self.weights, y, out, strict=True)
        ):
            if loss is None:
                grads.append(np.zeros_like(output))
                continue
            value, grad = loss.reduced(target, output, sample_weight)
            self.last[i] = float(value)
            total += weight * value
            grads.append(grad if weight == 1 else grad * grad.dtype.type(weight))
        return total, grads

    def values(self, y, out):
        return [
            None if loss is None else loss.values(target, output)
            for loss, target, output in zip(self.losses, y, out, strict=True)
        ]

    def reduce(self, values, sample_weight=None) -> float:
        total = 0.0
        for i, (loss, weight, value) in enumerate(zip(self.losses, self.weights, values,
                                                      strict=True)):
            if loss is None:
                continue
            self.last[i] = float(loss.reduce(value, sample_weight))
            total += weight * self.last[i]
        return total

    def get_config(self) -> dict:
        return {name: loss for name, loss in zip(self.names, self.losses, strict=True)}

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted sum of the outputs' losses (``model.compute_loss``), each loss
        called as the user would, so that an open tape records it."""
        targets = y_true.arrays if isinstance(y_true, ArrayGroup) else list(y_true)
        total = None
        for loss, weight, target, output in zip(self.losses, self.weights, targets, y_pred,
                                                strict=True):
            if loss is None:
                continue
            term = loss(target, output, sample_weight)
            term = term * weight if weight != 1 else term
            total = term if total is None else total + term
        return total


class OutputMetric:
    """A metric of one output: reads that output's targets and predictions."""

    def __init__(self, metric: Any, index: int, name: str) -> None:
        self.metric = metric
        self.index = index
        self.name = name

    def update_state(self, y, out, sample_weight=None) -> None:
        self.metric.update_state(y.arrays[self.index], out[self.index], sample_weight)

    def result(self) -> float:
        return self.metric.result()

    def reset_state(self) -> None:
        self.metric.reset_state()


class OutputLossMean:
    """The mean over rows of one output's (unweighted) loss: ``<output>_loss``."""

    def __init__(self, losses: OutputLosses, index: int) -> None:
        self.losses = losses
        self.index = index
        self.name = f"{losses.names[index]}_loss"
        self.reset_state()

    def update_state(self, y, out, sample_weight=None) -> None:
        rows = len(y)
        self.total += self.losses.last[self.index] * rows
        self.count += rows

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0


def compile_outputs(names: list[str], loss, loss_weights, metrics, weighted_metrics):
    """The ``OutputLosses`` and the per-output metric specs ``compile`` received.

    Returns:
        ``(losses, specs)``, ``specs`` a list of ``(output index, spec, weighted)``.
    """
    per_output = structure_for(names, loss, "loss")
    losses = [None if spec is None else losses_module.get(spec) for spec in per_output]
    if all(item is None for item in losses):
        raise ValueError("compile() needs a loss for at least one output")
    weights = structure_for(names, 1.0 if loss_weights is None else loss_weights, "loss_weights")
    weights = [1.0 if w is None else float(w) for w in weights]
    specs = []
    for weighted, given in ((False, metrics), (True, weighted_metrics)):
        if not given:
            continue
        if isinstance(given, (list, tuple)) and not any(
            isinstance(item, (list, tuple, dict)) for item in given
        ) and len(given) != len(names):
            given = [list(given)] * len(names)  # a flat list: every output reports them
        for index, entry in enumerate(structure_for(names, given, "metrics")):
            if entry is None:
                continue
            for spec in entry if isinstance(entry, (list, tuple)) else [entry]:
                metrics_module.resolve(spec, (1, 1), (1, 1))  # unknown names fail now
                specs.append((index, spec, weighted))
    return OutputLosses(losses, weights, names), specs


def metric_entries(model, specs: list, target_shapes: list[tuple]) -> list[tuple]:
    """``(metric, weighted, log name)`` for every output's loss and metrics, sorted by name
    as Keras 3 logs them."""
    losses: OutputLosses = model.loss
    entries = [
        (OutputLossMean(losses, index), False, f"{name}_loss")
        for index, name in enumerate(losses.names)
        if losses.losses[index] is not None
    ]
    for index, spec, weighted in specs:
        shape = (None, *target_shapes[index][1:]) if len(target_shapes[index]) > 1 else (
            None,
            1,
        )
        out_shape = (None, *model.output_shape[index])
        metric = metrics_module.resolve(spec, shape, out_shape)
        name = f"{losses.names[index]}_{metric.name}"
        if weighted and any(entry[2] == name for entry in entries):
            name = f"{losses.names[index]}_weighted_{metric.name}"
        entries.append((OutputMetric(metric, index, name), weighted, name))
    return sorted(entries, key=lambda entry: entry[2])
