"""One training run, the unit of work every experiment is made of, and its bookkeeping.

``train_run`` is a pure function of its arguments: it builds a model with a seed, trains
it, and returns a ``Run`` of plain numbers. Experiments turn their plan into a list of
such calls, hand the list to ``run_tasks`` (here, local processes, Dask or Ray), and
regroup the runs into ``Trial`` objects. Since nothing else varies, the same plan gives
the same numbers wherever it runs.
"""

from __future__ import annotations

import copy
import math
import numbers
import time
from collections.abc import Callable, Sequence

import numpy as np

from glassnet.callbacks import EarlyStopping
from glassnet.callbacks.monitoring import improvement_direction
from glassnet.experiments._build import call_build_fn, fresh_seed, run_seeds, seeded
from glassnet.experiments._parallel import run_tasks
from glassnet.experiments._results import Run, Trial
from glassnet.models import NonFiniteLossError


def as_array(data, what: str) -> np.ndarray:
    """``data`` (array, list, DataFrame, Series) as a NumPy array with rows first."""
    if data is None:
        raise ValueError(f"`{what}` is required. Received: {what}=None")
    arr = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
    if arr.ndim == 0 or len(arr) == 0:
        raise ValueError(f"`{what}` must hold at least one row. Received shape {arr.shape}")
    return arr


def check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Both as arrays with the same number of rows."""
    x, y = as_array(x, "x"), as_array(y, "y")
    if len(x) != len(y):
        raise ValueError(f"`x` and `y` must have the same number of rows; x has {len(x)}, "
                         f"y has {len(y)}")
    return x, y


def check_positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
    return int(value)


def check_seed(seed) -> int:
    """A seed for the whole study: the given one, or a fresh one that the results record."""
    if seed is None:
        return fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")
    return int(seed)


def validation_of(validation_split, validation_data, monitor: str):
    """What ``train_run`` receives as ``validation``: a fraction, ``(x_val, y_val)`` or None."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("`validation_data` must be a pair (x_val, y_val). Received: "
                             f"{type(validation_data).__name__}")
        return (as_array(validation_data[0], "x_val"), as_array(validation_data[1], "y_val"))
    split = float(validation_split or 0.0)
    if not 0.0 <= split < 1.0:
        raise ValueError(f"`validation_split` must be in [0, 1). Received: {validation_split!r}")
    if split == 0.0:
        if monitor.startswith("val_"):
            raise ValueError(
                f"`monitor`={monitor!r} needs validation data: pass validation_split=0.3 (the "
                "course's choice) or validation_data=(x_val, y_val), or monitor 'loss'."
            )
        return None
    return split


def train_run(
    build_fn: Callable,
    available: dict,
    x: np.ndarray,
    y: np.ndarray,
    validation,
    fit_kwargs: dict,
    monitor: str,
    patience: int | None,
    seed: int,
    fold: int | None = None,
) -> tuple[Run, int]:
    """Builds a model with ``seed``, trains it, and scores it by ``monitor``.

    Returns:
        ``(run, n_params)``. A loss that becomes NaN or infinite does not raise: the run
        gets score ``nan`` and says so in ``error`` (a learning rate of 1 is allowed to fail).
    """
    start = time.perf_counter()
    with seeded(seed):
        model = call_build_fn(build_fn, **available)
        kwargs = dict(fit_kwargs)
        callbacks = copy.deepcopy(list(kwargs.pop("callbacks", None) or []))
        if patience is not None:
            callbacks.append(EarlyStopping(monitor=monitor, patience=patience,
                                           restore_best_weights=True))
        if isinstance(validation, float):
            kwargs["validation_split"] = validation
        elif validation is not None:
            kwargs["validation_data"] = validation
        kwargs.setdefault("verbose", 0)
        error = None
        try:
            history = dict(model.fit(x, y, callbacks=callbacks, **kwargs).history)
        except NonFiniteLossError as err:
            history = dict(model.history.history) if model.history is not None else {}
            error = "diverged: " + str(err).split(";")[0].removeprefix("The ").lower()
    seconds = time.perf_counter() - start
    values = history.get(monitor)
    if values is None and error is None:
        raise ValueError(f"`monitor`={monitor!r} is not logged by fit. Logged keys: "
                         f"{', '.join(sorted(history)) or '(none)'}")
    values = [float(v) for v in values or []]
    history = {k: [float(v) for v in vs] for k, vs in history.items()}
    if error is not None or not values:
        score, best = math.nan, max(len(values) - 1, 0)
    elif patience is not None:
        pick = np.argmin if improvement_direction(monitor, "auto") == "min" else np.argmax
        best = int(pick(values))
        score = values[best]
    else:
        best, score = len(values) - 1, values[-1]
    epochs = len(history.get("loss", values))
    run = Run(seed=int(seed), score=float(score), best_epoch=best, epochs=epochs,
              seconds=seconds, history=history, fold=fold, error=error)
    return run, model.count_params()


def run_trials(
    plans: Sequence[dict],
    x: np.ndarray,
    y: np.ndarray,
    *,
    validation,
    fit_kwargs: dict,
    monitor: str,
    patience: int | None,
    seeds: Sequence[int],
    n_jobs,
    client,
    timeout: float,
) -> list[Trial]:
    """Trains every plan once per seed (all runs in parallel) and returns one Trial per plan.

    A plan is a dict with ``name``, ``build_fn``, ``available`` (what the build function
    may ask for), ``params`` (shown in tables) and optionally ``stage``.
    """
    tasks = [
        (plan["build_fn"], plan["available"], x, y, validation, fit_kwargs, monitor, patience,
         seed)
        for plan in plans
        for seed in seeds
    ]
    outputs = run_tasks(train_run, tasks, n_jobs=n_jobs, client=client, timeout=timeout)
    mode = improvement_direction(monitor, "auto")
    trials = []
    for i, plan in enumerate(plans):
        mine = outputs[i * len(seeds):(i + 1) * len(seeds)]
        trials.append(Trial(name=plan["name"], params=dict(plan.get("params", {})),
                            runs=tuple(run for run, _ in mine), n_params=mine[0][1],
                            monitor=monitor, mode=mode, stage=plan.get("stage", "")))
    return trials


def study_seeds(seed: int, repeats: int) -> list[int]:
    """The seeds of the runs of every model: the same for all models (a fair comparison)."""
    return run_seeds(seed, check_positive_int(repeats, "repeats"))


def check_build_fn(build_fn: Callable, what: str, **available) -> None:
    """Calls ``build_fn`` once here, so a broken one fails now with a clear error, not in a
    worker process."""
    with seeded(0):
        call_build_fn(build_fn, what, **available)
