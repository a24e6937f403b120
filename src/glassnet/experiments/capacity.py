"""``capacity_search``: the course's workflow for choosing a network's size, automated.

The course's recipe: "Start with a simple network, and get the validation score. Then keep
adding capacity as long as the score keeps improving. Once it stops improving, you can
decrease capacity slightly, but you are probably near the ideal." Its worked example goes
1 layer of 100 units, then more units, then 2 layers of 250, then 3 layers (worse), then
3 layers of 200 (best). The search below follows the same steps:

1. **start**: the starting network (one layer of 100 units by default);
2. **wider**: multiply every layer's width by ``width_factor`` while the score improves;
3. **deeper**: add a layer of the same width while the score improves;
4. **step back**: try slightly less capacity (width times ``step_back``) at the depth that
   was rejected and at the best depth, as the course's 3 x 200 after 3 x 250.

Each model is trained ``repeats`` times with the same seeds as every other model, and its
score is the mean; all the runs of a step train in parallel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from glassnet import losses as losses_module
from glassnet.callbacks.monitoring import improvement_direction
from glassnet.experiments._build import dense_network
from glassnet.experiments._results import Results, Trial
from glassnet.experiments._runs import (
    check_build_fn,
    check_positive_int,
    check_seed,
    check_xy,
    run_trials,
    study_seeds,
    validation_of,
)


def architecture_name(sizes: Sequence[int]) -> str:
    """``"2x250"`` for equal layers, ``"100-50"`` otherwise, ``"linear"`` for none."""
    if not sizes:
        return "linear"
    if len(set(sizes)) == 1:
        return f"{len(sizes)}x{sizes[0]}"
    return "-".join(str(s) for s in sizes)


def _output_for(loss, y) -> tuple[int, str | None]:
    """Units and activation of the output layer that ``loss`` expects for targets ``y``."""
    fused = getattr(losses_module.get(loss), "fused_activation", None)
    if isinstance(losses_module.get(loss), losses_module.SparseCategoricalCrossentropy):
        return int(y.max()) + 1, "softmax"
    return (y.shape[1] if y.ndim > 1 else 1), fused


def _scaled(sizes: tuple[int, ...], factor: float) -> tuple[int, ...]:
    return tuple(max(1, int(round(units * factor))) for units in sizes)


class _Search:
    """The state of one search: what was tried, the best so far, and how to try more."""

    def __init__(self, run_round: Callable[[list[tuple[tuple[int, ...], str]]], list[Trial]],
                 mode: str, min_delta: float) -> None:
        self.run_round = run_round
        self.sign = 1.0 if mode == "min" else -1.0
        self.min_delta = min_delta
        self.tried: dict[tuple[int, ...], Trial] = {}
        self.order: list[Trial] = []
        self.best: Trial | None = None

    def _better(self, trial: Trial) -> bool:
        if trial.failed or trial.score != trial.score:  # diverged: never an improvement
            return False
        if self.best is None:
            return True
        return self.sign * (trial.score - self.best.score) < -self.min_delta

    def try_round(self, candidates: list[tuple[tuple[int, ...], str]]) -> list[bool]:
        """Trains the new candidates together; for each, whether it beat the best so far."""
        new = [(sizes, stage) for sizes, stage in candidates if sizes not in self.tried]
        trials = self.run_round(new) if new else []
        for (sizes, _), trial in zip(new, trials, strict=True):
            self.tried[sizes] = trial
            self.order.append(trial)
        improved = []
        for sizes, _ in candidates:
            trial = self.tried[sizes]
            better = self._better(trial)
            if better:
                self.best = trial
            improved.append(better)
        return improved


def capacity_search(
    x,
    y,
    *,
    start: Sequence[int] = (100,),
    width_factor: float = 2.0,
    max_units: int = 1024,
    max_layers: int = 4,
    step_back: float = 0.8,
    build_fn: Callable | None = None,
    activation: str = "relu",
    optimizer="adam",
    learning_rate: float | None = None,
    loss="mean_squared_error",
    metrics=None,
    epochs: int = 30,
    batch_size: int = 32,
    validation_split: float = 0.3,
    validation_data=None,
    monitor: str = "val_loss",
    patience: int | None = 2,
    min_delta: float = 0.0,
    repeats: int = 3,
    seed: int | None = None,
    n_jobs: int | None = None,
    client=None,
    timeout: float = 10.0,
) -> Results:
    """Grows a dense network wider, then deeper, while the validation score improves.

    Args:
        x: inputs (scale them first, as the course does).
        y: targets.
        start: hidden layer sizes of the first model.
        width_factor: how much wider each "wider" step is (> 1).
        max_units: widest layer to try.
        max_layers: deepest network to try.
        step_back: width factor (< 1) of the "step back" models.
        build_fn: your own builder instead of ``dense_network``; it must take
            ``hidden_layer_sizes`` (and may take ``n_features``, ``n_outputs``) and return
            a compiled model. The options below up to ``metrics`` then do not apply.
        activation: activation of the hidden layers.
        optimizer: optimizer name or object (copied for each model).
        learning_rate: overrides the optimizer's default.
        loss: the loss; cross-entropies get a softmax (or sigmoid) output layer.
        metrics: metrics to log (to monitor ``"val_accuracy"``, pass ``["accuracy"]``).
        epochs: most epochs per run.
        batch_size: rows per step.
        validation_split: the last fraction of rows held out to score the models.
        validation_data: ``(x_val, y_val)`` instead of a split.
        monitor: the score, ``"val_loss"`` by default (smaller is better; accuracy-like
            names are maximised).
        patience: early stopping on ``monitor`` with the best epoch's weights restored
            (the course uses ``EarlyStopping(patience=2)``); ``None`` trains every epoch.
        min_delta: how much better a model must score to count as an improvement.
        repeats: runs per model, with seeds shared by all models; the score is the mean.
        seed: the seed all runs derive from; ``None`` draws one (see ``.seed``).
        n_jobs: local processes (``None``: all cores; 1: in this process).
        client: a Dask ``Client`` or scheduler address, or a Ray address.
        timeout: seconds to wait to reach a cluster.

    Returns:
        ``Results``: every model tried, in order, with its stage, score, parameter count
        and time; ``.best`` is the chosen one; ``.plot(path)`` draws the curves.

    Example:
        >>> import numpy as np
        >>> from glassnet.experiments import capacity_search
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(60, 3)); y = np.sin(x).sum(axis=1)
        >>> found = capacity_search(x, y, start=(4,), max_units=8, max_layers=2, epochs=2,
        ...                         repeats=1, seed=0, n_jobs=1)
        >>> found.best.name in [t.name for t in found]
        True
    """
    x, y = check_xy(x, y)
    seed = check_seed(seed)
    start = tuple(start)
    if not start:
        raise ValueError("`start` must name at least one hidden layer, e.g. start=(100,)")
    if not width_factor > 1:
        raise ValueError(f"`width_factor` must be above 1. Received: {width_factor!r}")
    if not 0 < step_back < 1:
        raise ValueError(f"`step_back` must be between 0 and 1. Received: {step_back!r}")
    max_units = check_positive_int(max_units, "max_units")
    max_layers = check_positive_int(max_layers, "max_layers")
    n_features = x.shape[1] if x.ndim > 1 else 1
    if build_fn is None:
        n_outputs, output_activation = _output_for(loss, y)
        build_fn = functools.partial(dense_network, activation=activation,
                                     output_activation=output_activation, optimizer=optimizer,
                                     learning_rate=learning_rate, loss=loss, metrics=metrics)
    else:
        n_outputs = y.shape[1] if y.ndim > 1 else 1
    available = {"n_features": n_features, "n_outputs": n_outputs}
    check_build_fn(build_fn, "build_fn", hidden_layer_sizes=start, **available)
    validation = validation_of(validation_split, validation_data, monitor)
    fit = {"epochs": check_positive_int(epochs, "epochs"), "batch_size": batch_size}
    seeds = study_seeds(seed, repeats)

    def run_round(candidates):
        plans = [{"name": architecture_name(sizes), "build_fn": build_fn, "stage": stage,
                  "available": {**available, "hidden_layer_sizes": sizes},
                  "params": {"layers": len(sizes), "units": max(sizes)}}
                 for sizes, stage in candidates]
        return run_trials(plans, x, y, validation=validation, fit_kwargs=fit, monitor=monitor,
                          patience=patience, seeds=seeds, n_jobs=n_jobs, client=client,
                          timeout=timeout)

    search = _Search(run_round, improvement_direction(monitor, "auto"), float(min_delta))
    search.try_round([(start, "start")])
    sizes = start
    while max(_scaled(sizes, width_factor)) <= max_units:  # 2. wider
        wider = _scaled(sizes, width_factor)
        if not search.try_round([(wider, "wider")])[0]:
            break
        sizes = wider
    rejected_deeper = None
    while len(sizes) < max_layers:  # 3. deeper
        deeper = (*sizes, sizes[-1])
        if not search.try_round([(deeper, "deeper")])[0]:
            rejected_deeper = deeper
            break
        sizes = deeper
    backs = [_scaled(rejected_deeper, step_back)] if rejected_deeper else []  # 4. step back
    backs.append(_scaled(sizes, step_back))
    search.try_round([(b, "step back") for b in dict.fromkeys(backs)])
    return Results(trials=tuple(search.order), title="capacity search", seed=seed)
