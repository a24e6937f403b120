"""Several models on the same data: ``compare`` and the course's ``learning_rate_sweep``."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable, Mapping, Sequence

from glassnet.experiments._build import call_build_fn, make_optimizer
from glassnet.experiments._results import Results
from glassnet.experiments._runs import (
    check_build_fn,
    check_positive_int,
    check_seed,
    check_xy,
    run_trials,
    study_seeds,
    validation_of,
)
from glassnet.models import Sequential


class _CopyOf:
    """A build function that returns a copy of a model (its current weights included)."""

    def __init__(self, model: Sequential) -> None:
        self.model = model
        self.__name__ = model.name

    def __call__(self) -> Sequential:
        return copy.deepcopy(self.model)


class _WithLearningRate:
    """A build function for one learning rate of a sweep (see ``learning_rate_sweep``)."""

    def __init__(self, build_fn, learning_rate, optimizer, loss, metrics) -> None:
        self.build_fn = build_fn
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.__name__ = getattr(build_fn, "__name__", "build_fn")

    def _takes_learning_rate(self) -> bool:
        try:
            return "learning_rate" in inspect.signature(self.build_fn).parameters
        except (TypeError, ValueError):
            return False

    def __call__(self, **available) -> Sequential:
        if self._takes_learning_rate():
            return call_build_fn(self.build_fn, learning_rate=self.learning_rate, **available)
        model = call_build_fn(self.build_fn, compiled=False, **available)
        loss = self.loss if self.loss is not None else model.loss
        if loss is None:
            raise ValueError(
                "learning_rate_sweep needs a loss: the build function returned an uncompiled "
                "model, so pass loss=... (for example loss='categorical_crossentropy')"
            )
        # Keep the metrics the model was compiled with unless new ones are given.
        metrics = self.metrics if self.metrics is not None else getattr(model, "_metric_specs", [])
        model.compile(optimizer=make_optimizer(self.optimizer, self.learning_rate), loss=loss,
                      metrics=list(metrics))
        return model


def _plans(models) -> list[dict]:
    if isinstance(models, Mapping):
        items = list(models.items())
    elif isinstance(models, Sequence) and not isinstance(models, (str, bytes)):
        items = [(getattr(m, "name", None) if isinstance(m, Sequential)
                  else getattr(m, "__name__", None), m) for m in models]
    else:
        raise TypeError(
            "`models` must be a dict {name: build function or model} or a list of them. "
            f"Received: {type(models).__name__}"
        )
    if not items:
        raise ValueError("`models` is empty; give at least one build function or model")
    plans, seen = [], set()
    for i, (name, item) in enumerate(items):
        name = str(name or f"model_{i + 1}")
        if name in seen:
            name = f"{name}_{i + 1}"
        seen.add(name)
        build_fn = _CopyOf(item) if isinstance(item, Sequential) else item
        plans.append({"name": name, "build_fn": build_fn, "available": {}, "params": {}})
    return plans


def compare(
    models,
    x,
    y,
    *,
    epochs: int = 20,
    batch_size: int = 32,
    validation_split: float = 0.3,
    validation_data=None,
    monitor: str = "val_loss",
    patience: int | None = None,
    repeats: int = 1,
    seed: int | None = None,
    n_jobs: int | None = None,
    client=None,
    timeout: float = 10.0,
    callbacks=None,
    fit_kwargs: dict | None = None,
    title: str = "compare",
) -> Results:
    """Trains several models on the same data and compares their validation scores.

    As in the course, where ``model_1`` and ``model_2`` are fitted with
    ``validation_split=0.3`` and their ``val_loss`` curves drawn in one picture. Every model
    gets the same seeds (one per repeat), so differences come from the models, not the luck
    of the draw. Models given as objects are copied (their weights as they are), never
    trained themselves.

    Args:
        models: ``{name: build function or compiled model}``, or a list of them (named by
            the function's ``__name__`` or the model's ``name``). A build function may take
            ``n_features`` and ``n_outputs``.
        x: inputs.
        y: targets.
        epochs: epochs per run.
        batch_size: rows per step.
        validation_split: the last fraction of rows held out (Keras's rule).
        validation_data: ``(x_val, y_val)`` instead of a split.
        monitor: the logged value to score by (``"val_loss"``, ``"val_accuracy"``...).
        patience: early stopping on ``monitor``, restoring the best epoch's weights.
        repeats: runs per model (different seeds); the score is their mean.
        seed: the seed every run's seed derives from; ``None`` draws one (see ``.seed``).
        n_jobs: local processes (``None``: all cores; 1: in this process).
        client: a Dask ``Client`` or scheduler address, or a Ray address.
        timeout: seconds to wait to reach a cluster.
        callbacks: more callbacks for every ``fit``.
        fit_kwargs: more arguments for ``fit``.
        title: the name of the study in tables and pictures.

    Returns:
        ``Results``: ``print`` it for the table, ``.plot(path)`` for the curves, ``.best``.
    """
    x, y = check_xy(x, y)
    seed = check_seed(seed)
    plans = _plans(models)
    available = {"n_features": x.shape[1] if x.ndim > 1 else 1,
                 "n_outputs": y.shape[1] if y.ndim > 1 else 1}
    for plan in plans:
        plan["available"] = available
        check_build_fn(plan["build_fn"], f"models[{plan['name']!r}]", **available)
    fit = {**(fit_kwargs or {}), "epochs": check_positive_int(epochs, "epochs"),
           "batch_size": batch_size, "callbacks": list(callbacks or [])}
    trials = run_trials(plans, x, y, validation=validation_of(validation_split, validation_data,
                                                              monitor),
                        fit_kwargs=fit, monitor=monitor, patience=patience,
                        seeds=study_seeds(seed, repeats), n_jobs=n_jobs, client=client,
                        timeout=timeout)
    return Results(trials=tuple(trials), title=title, seed=seed)


def learning_rate_sweep(
    build_fn: Callable,
    x,
    y,
    learning_rates: Sequence[float] = (1e-6, 0.01, 1.0),
    *,
    optimizer="sgd",
    loss=None,
    metrics=None,
    epochs: int = 10,
    batch_size: int = 32,
    validation_split: float = 0.3,
    validation_data=None,
    monitor: str = "val_loss",
    patience: int | None = None,
    repeats: int = 1,
    seed: int | None = None,
    n_jobs: int | None = None,
    client=None,
    timeout: float = 10.0,
) -> Results:
    """The course's SGD experiment: the same model trained with several learning rates.

    The course loops over ``lr_to_test = [.000001, 0.01, 1]``, builds a new model with
    ``get_new_model()``, compiles it with ``SGD(lr=lr)`` and watches the loss: too small a
    rate barely moves, too large a rate overshoots (here a loss that becomes NaN is
    reported as "diverged" instead of stopping the sweep).

    Args:
        build_fn: returns a model. If it takes a ``learning_rate`` parameter it must return
            the model compiled with that rate; otherwise the sweep compiles what it returns
            with ``optimizer`` at each rate (keeping its loss and metrics if it was
            compiled; else ``loss`` is required).
        x: inputs.
        y: targets.
        learning_rates: the rates to try.
        optimizer: the optimizer (name or object, copied) when the sweep compiles.
        loss: the loss when the build function returns an uncompiled model.
        metrics: metrics when the sweep compiles (default: the model's own).
        epochs, batch_size, validation_split, validation_data, monitor, patience, repeats,
            seed, n_jobs, client, timeout: as in ``compare``.

    Returns:
        ``Results`` with one trial per learning rate, named ``"lr=..."``.
    """
    rates = list(learning_rates)
    if not rates:
        raise ValueError("`learning_rates` is empty; give at least one rate")
    models = {f"lr={rate:g}": _WithLearningRate(build_fn, rate, optimizer, loss, metrics)
              for rate in rates}
    results = compare(models, x, y, epochs=epochs, batch_size=batch_size,
                      validation_split=validation_split, validation_data=validation_data,
                      monitor=monitor, patience=patience, repeats=repeats, seed=seed,
                      n_jobs=n_jobs, client=client, timeout=timeout,
                      title=f"learning rates ({_optimizer_name(optimizer)})")
    trials = tuple(dataclasses.replace(t, params={"learning_rate": rate})
                   for t, rate in zip(results.trials, rates, strict=True))
    return Results(trials=trials, title=results.title, seed=results.seed)


def _optimizer_name(optimizer) -> str:
    return optimizer if isinstance(optimizer, str) else type(optimizer).__name__
