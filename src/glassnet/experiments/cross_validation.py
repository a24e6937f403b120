"""k-fold cross-validation of a model: ``cross_validate``.

The course explains why deep learning rarely does this: each fold trains a new model, so
k folds cost k trainings. Here the k trainings run in parallel, which is what makes it
affordable on small tables such as the course's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet.callbacks.monitoring import improvement_direction
from glassnet.experiments._parallel import run_tasks
from glassnet.experiments._results import Trial
from glassnet.experiments._runs import (
    check_build_fn,
    check_positive_int,
    check_seed,
    check_xy,
    run_seeds,
    train_run,
)


def fold_indices(rows: int, folds: int, *, shuffle: bool = True,
                 seed: int | None = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train_rows, held_out_rows)`` for each of ``folds`` folds of ``rows`` rows.

    Folds differ in size by at most one row; with ``shuffle`` the rows are first put in an
    order fixed by ``seed``.

    Raises:
        ValueError: when ``folds`` is below 2 or above the number of rows.
    """
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"`folds` must be an integer of at least 2. Received: folds={folds!r}")
    if folds > rows:
        raise ValueError(
            f"`folds`={folds} is larger than the number of rows ({rows}): every fold needs at "
            f"least one row to hold out. Use folds <= {rows}."
        )
    order = np.random.default_rng(seed).permutation(rows) if shuffle else np.arange(rows)
    parts = np.array_split(order, folds)
    return [(np.concatenate(parts[:i] + parts[i + 1:]), part) for i, part in enumerate(parts)]


def cross_validate(
    build_fn: Callable,
    x,
    y,
    folds: int = 5,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    monitor: str = "val_loss",
    patience: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    n_jobs: int | None = None,
    client=None,
    timeout: float = 10.0,
    callbacks=None,
    fit_kwargs: dict | None = None,
) -> Trial:
    """Trains a new model on each k-1 folds and scores it on the fold held out.

    Each fold's model is built by ``build_fn`` with its own seed (derived from ``seed``)
    and trained for ``epochs``; the held-out fold is passed to ``fit`` as
    ``validation_data``, so its learning curve is recorded, but it never trains the model.
    The score of a fold is ``monitor`` at the last epoch: the held-out loss of the final
    model (with ``patience``, early stopping watches the held-out fold and restores the
    best epoch, which makes the score optimistic).

    Args:
        build_fn: returns a compiled model; it may take ``n_features`` and ``n_outputs``.
        x: inputs, one row per example.
        y: targets.
        folds: number of folds, at least 2 and at most the number of rows.
        epochs: epochs per fold.
        batch_size: rows per step.
        monitor: the logged value to score by, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: stop a fold when ``monitor`` has not improved for this many epochs.
        shuffle: shuffle rows (with ``seed``) before cutting folds.
        seed: fixes the folds and every model's seed; ``None`` draws one (recorded in
            each run's ``seed``).
        n_jobs: local processes (``None``: all cores; 1: in this process).
        client: a Dask ``Client`` or scheduler address, or a Ray address (see
            ``run_tasks``); the folds then train on the cluster.
        timeout: seconds to wait to reach a cluster.
        callbacks: more callbacks for every fold's ``fit``.
        fit_kwargs: more arguments for ``fit`` (``shuffle``, ``class_weight``...).

    Returns:
        A ``Trial`` whose runs are the folds: ``.score`` (mean), ``.std``, ``.scores``,
        ``.to_frame()``, ``.plot()``.

    Raises:
        ValueError: for ``folds`` outside ``[2, rows]`` or a build function returning an
            uncompiled model. TypeError: when it returns something else than a model.

    Example:
        >>> import numpy as np
        >>> from glassnet.experiments import cross_validate, dense_network
        >>> x = np.random.default_rng(0).normal(size=(40, 3)); y = x.sum(axis=1)
        >>> result = cross_validate(lambda: dense_network(3, (8,)), x, y, folds=4,
        ...                         epochs=2, seed=0, n_jobs=1)
        >>> len(result.runs)
        4
    """
    x, y = check_xy(x, y)
    seed = check_seed(seed)
    epochs = check_positive_int(epochs, "epochs")
    splits = fold_indices(len(x), folds, shuffle=shuffle, seed=seed)
    available = {"n_features": x.shape[1] if x.ndim > 1 else 1,
                 "n_outputs": y.shape[1] if y.ndim > 1 else 1}
    check_build_fn(build_fn, "build_fn", **available)
    fit = {**(fit_kwargs or {}), "epochs": epochs, "batch_size": batch_size,
           "callbacks": list(callbacks or [])}
    seeds = run_seeds(seed, len(splits))
    tasks = [(build_fn, available, x[train], y[train], (x[held], y[held]), fit, monitor, patience,
              fold_seed, i)
             for i, ((train, held), fold_seed) in enumerate(zip(splits, seeds, strict=True))]
    outputs = run_tasks(train_run, tasks, n_jobs=n_jobs, client=client, timeout=timeout)
    name = getattr(build_fn, "__name__", type(build_fn).__name__)
    return Trial(name=f"{name}, {len(splits)}-fold", params={}, runs=tuple(r for r, _ in outputs),
                 n_params=outputs[0][1], monitor=monitor,
                 mode=improvement_direction(monitor, "auto"))
