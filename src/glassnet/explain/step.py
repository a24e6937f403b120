"""``step``: one plain gradient-descent step, ``new weight = old weight - learning_rate × slope``.

The slopes are those ``slopes`` reports, read from the model's own ``compute_gradients``
pass; the step shows each weight's update and the loss, prediction and error before and
after it, as the course works them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.explain import _common
from glassnet.explain.slopes import Slopes, slopes


@dataclass
class Step:
    """One plain gradient-descent step: ``new weight = old weight - learning_rate × slope``.

    Attributes:
        learning_rate: the step size.
        applied: whether the new weights were written into the model.
        weight_names: ``"layer/weight"`` of each trainable weight array.
        before: ``Slopes`` at the old weights (the slopes the step used).
        after: ``Slopes`` at the new weights (the loss, prediction and slopes there).
        weights_before, weights_after: the arrays, in ``model.trainable_weights`` order.
    """

    learning_rate: float
    applied: bool
    weight_names: list[str]
    before: Slopes
    after: Slopes
    weights_before: list[np.ndarray]
    weights_after: list[np.ndarray]

    @property
    def updates(self) -> list[np.ndarray]:
        """``-learning_rate × slope`` for each weight array (what the step adds)."""
        return [new - old for new, old in zip(self.weights_after, self.weights_before,
                                              strict=True)]

    @property
    def loss_before(self) -> float:
        return self.before.loss

    @property
    def loss_after(self) -> float:
        return self.after.loss

    def __getitem__(self, name: str) -> np.ndarray:
        """The new value of one weight array, by ``"layer/weight"`` name."""
        if name in self.weight_names:
            return self.weights_after[self.weight_names.index(name)]
        raise KeyError(f"No trainable weight {name!r}. Weights: {self.weight_names}")

    def records(self) -> list[dict]:
        """One dict per weight: ``weight`` (``"layer/weight[i, j]"``), ``old``, ``slope``,
        ``update`` and ``new``."""
        out = []
        for name, old, slope, new in zip(self.weight_names, self.weights_before,
                                         self.before.gradients, self.weights_after, strict=True):
            for index in np.ndindex(old.shape):
                out.append({"weight": f"{name}[{', '.join(map(str, index))}]",
                            "old": float(old[index]), "slope": float(slope[index]),
                            "update": float(new[index] - old[index]), "new": float(new[index])})
        return out

    def to_frame(self):
        """The records as a pandas DataFrame (``pip install pandas``)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records(),
                                         columns=["weight", "old", "slope", "update", "new"])

    def format(self, max_weights: int = 16, digits: int = 6) -> str:
        """The step as text: each weight's update, then the loss before and after."""
        f = _common.fmt
        lr = f(self.learning_rate, digits)
        cells = [[r["weight"], f(r["old"], digits), f(r["slope"], digits),
                  f(r["new"], digits)] for r in self.records()[:max_weights]]
        lines = [f"Gradient descent step, learning rate {lr}"
                 + ("" if self.applied else " (shown only; the model is unchanged)"),
                 _common.table(["weight", "old", "slope", f"new = old - {lr} x slope"], cells)]
        total = sum(w.size for w in self.weights_before)
        if total > max_weights:
            lines.append(f"  ... {total - max_weights} more weights (see to_frame())")
        lines.append(f"loss: {f(self.loss_before, digits)} -> {f(self.loss_after, digits)}")
        if len(self.before.prediction) == 1 and self.before.error is not None:
            lines.append(f"prediction: {_common.vector_text(self.before.prediction[0], digits)} -> "
                         f"{_common.vector_text(self.after.prediction[0], digits)}; error: "
                         f"{_common.vector_text(self.before.error[0], digits)} -> "
                         f"{_common.vector_text(self.after.error[0], digits)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def step(model, x, y, learning_rate: float = 0.01, loss=None, apply: bool = True,
         sample_weight=None) -> Step:
    """Takes (or, with ``apply=False``, only shows) one plain gradient-descent step.

    Each trainable weight becomes ``weight - learning_rate × slope``, the slopes being those
    ``slopes(model, x, y)`` reports. This is the course's update, whatever optimizer the
    model was compiled with; the optimizer and its state (iterations, momentum) are not
    used or changed.

    Args:
        model: a glassnet model.
        x: one row or a batch of rows.
        y: the target(s).
        learning_rate: the step size (the course uses 0.01).
        loss: a loss to use instead of the compiled one (needed if not compiled).
        apply: write the new weights into the model (default). With ``apply=False`` the
            model keeps its weights and the step is only shown.
        sample_weight: optional weight per row.

    Returns:
        A ``Step`` with the weights before and after, each slope, and the loss, prediction
        and error before and after.

    Raises:
        ValueError: when ``learning_rate`` is not a non-negative number.
        NotCompiledError: when the model is not compiled and no ``loss`` is given.

    Example:
        >>> from glassnet.explain import from_node_weights, step
        >>> model = from_node_weights({"output": [1, 2]})
        >>> s = step(model, [3, 4], [6], learning_rate=0.01, loss="mse")
        >>> s["output/kernel"].ravel()          # [1, 2] - 0.01 x [30, 40]
        array([0.7, 1.6])
        >>> s.before.error, s.after.error
        (array([[5.]]), array([[2.5]]))
    """
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number)) \
            or not np.isfinite(learning_rate) or learning_rate < 0:
        raise ValueError(
            "`learning_rate` must be a non-negative number. "
            f"Received: learning_rate={learning_rate!r}"
        )
    _common.require_model(model, "step")
    _common.require_loss(model, loss, "step")
    before = slopes(model, x, y, loss=loss, sample_weight=sample_weight)
    targets = model.trainable_weights
    old = [w.copy() for w in targets]
    new = [w - w.dtype.type(learning_rate) * g for w, g in zip(old, before.gradients, strict=True)]
    for target, value in zip(targets, new, strict=True):
        target[...] = value
    try:
        after = slopes(model, x, y, loss=loss, sample_weight=sample_weight)
    finally:
        if not apply:
            for target, value in zip(targets, old, strict=True):
                target[...] = value
    return Step(learning_rate=float(learning_rate), applied=bool(apply),
                weight_names=before.weight_names, before=before, after=after,
                weights_before=old, weights_after=[w.copy() for w in new])
