"""What the live page shows at one moment: the explain tools' results, copied.

``take`` runs ``explain.trace`` on the chosen row, ``explain.step`` (with ``apply=False``, so
nothing changes; its ``before`` is exactly ``explain.slopes``' result) and, less often,
``explain.diagnose`` on a sample of the rows, and copies every weight. The page's numbers
are read from these results and nowhere else. A ``Snapshot`` holds only copies, so the page
can read it from another thread while training goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from glassnet.explain.diagnostics import Diagnosis, diagnose
from glassnet.explain.step import Step, step
from glassnet.explain.trace import Trace, trace

DIAGNOSE_ROWS = 128  # rows of the sample that ``diagnose`` reads (the first ones)


@dataclass
class Snapshot:
    """The explain tools' results for the chosen row at one moment of training.

    Attributes:
        version: counts snapshots (the page redraws when it changes).
        taken: ``time.time()`` when taken.
        row: the chosen row's index in the rows being explained; -1 for values typed on
            the page.
        learning_rate: the optimizer's learning rate then (``explain.step`` uses it).
        trace: ``explain.trace`` of the chosen row.
        step: ``explain.step(..., apply=False)`` on the chosen row and its target, or
            ``None`` without targets; ``step.before`` is ``explain.slopes``' result.
        diagnosis: ``explain.diagnose`` on the sample, or ``None``.
        weights: ``{layer name: {weight name: copy}}`` of every layer.
        error: why something could not be computed, in words, or ``None``.
        seconds, diagnosis_seconds: how long the snapshot took, and its diagnosis.
    """

    version: int
    taken: float
    row: int
    learning_rate: float | None
    trace: Trace | None
    step: Step | None
    diagnosis: Diagnosis | None
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    diagnosis_seconds: float = 0.0


def learning_rate_of(model) -> float | None:
    """The optimizer's current learning rate as a float, or ``None`` without one."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        return float(optimizer.learning_rate)
    except (TypeError, ValueError, AttributeError):
        return None


def copy_weights(model) -> dict[str, dict[str, np.ndarray]]:
    """Every layer's weights, copied, by layer and weight name."""
    return {
        layer.name: {name: np.array(value, copy=True) for name, value in layer.values.items()}
        for layer in model.layers
    }


def take(
    model,
    x,
    y,
    row: int,
    version: int,
    diagnosis: Diagnosis | None = None,
    with_diagnosis: bool = False,
    typed: tuple | None = None,
) -> Snapshot:
    """Reads the model now: trace, slopes and step for row ``row`` of ``x`` (and ``y``).

    Args:
        model: a built glassnet model.
        x: the rows to explain (an array of rows).
        y: their targets, or ``None`` (then only the trace is shown).
        row: which row.
        version: the new snapshot's number.
        diagnosis: the last diagnosis, kept when ``with_diagnosis`` is false.
        with_diagnosis: run ``explain.diagnose`` on the first ``DIAGNOSE_ROWS`` rows.
        typed: ``(row, target or None)`` typed on the page, explained instead of row ``row``.
    """
    started = time.perf_counter()
    lr = learning_rate_of(model)
    if typed is not None:
        one_x, one_y = typed
    else:
        one_x = x[row : row + 1]
        one_y = None if y is None else y[row : row + 1]
    error = None
    traced = trace(model, one_x)
    stepped = None
    if one_y is not None and getattr(model, "compiled", False):
        try:
            stepped = step(model, one_x, one_y, learning_rate=lr or 0.0, apply=False)
        except (ValueError, TypeError) as problem:
            error = f"slopes are not available: {problem}"
    weights = copy_weights(model)
    seconds = time.perf_counter() - started
    diagnosis_seconds = 0.0
    if with_diagnosis and y is not None and getattr(model, "compiled", False):
        try:
            diagnosis = diagnose(model, x[:DIAGNOSE_ROWS], y[:DIAGNOSE_ROWS])
        except (ValueError, TypeError) as problem:
            error = f"the diagnosis is not available: {problem}"
        diagnosis_seconds = time.perf_counter() - started - seconds
    return Snapshot(
        version=version,
        taken=time.time(),
        row=-1 if typed is not None else row,
        learning_rate=lr,
        trace=traced,
        step=stepped,
        diagnosis=diagnosis,
        weights=weights,
        error=error,
        seconds=seconds,
        diagnosis_seconds=diagnosis_seconds,
    )
