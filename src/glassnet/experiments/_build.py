"""Building models for experiments: seeds, build functions and the standard dense network.

Experiments never ship a model object to another process. They ship a *build function*
and a seed; the worker builds, trains and scores the model and sends back plain numbers.
A build function is any callable returning a compiled glassnet model; it may ask for what
the experiment knows by naming it as a parameter (``n_features``, ``n_outputs``,
``hidden_layer_sizes``, ``learning_rate``), and gets only what it names.
"""

from __future__ import annotations

import copy
import inspect
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from glassnet import optimizers as optimizers_module
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.utils import seeding

_SEED_LOCK = threading.RLock()


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Runs a block as if ``set_random_seed(seed)`` had been called, then restores the state.

    Inside the block glassnet, NumPy's global generator and Python's ``random`` draw from
    ``seed``; afterwards they continue exactly where they were, so an experiment leaves the
    caller's random state untouched. ``seed=None`` changes nothing.

    That state is global to the process, so seeded blocks of different threads (a Dask
    worker with several threads, joblib's threading backend) take turns: results stay
    reproducible, and parallel speed comes from processes.
    """
    if seed is None:
        yield
        return
    with _SEED_LOCK:
        saved = (seeding._seed_sequence, np.random.get_state(), random.getstate())
        seeding.set_random_seed(int(seed))
        try:
            yield
        finally:
            seeding._seed_sequence, numpy_state, python_state = saved
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def run_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds derived from ``seed`` (the same ``n`` for the same ``seed``)."""
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(n)]


def fresh_seed() -> int:
    """A seed from the operating system's entropy, for runs that were given none."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def make_optimizer(optimizer, learning_rate: float | None = None):
    """A new optimizer from a name or a template object, with ``learning_rate`` if given.

    An optimizer object is copied, never used itself, so that its state never leaks from
    one model to the next.
    """
    if isinstance(optimizer, optimizers_module.Optimizer):
        opt = copy.deepcopy(optimizer)
    else:
        opt = optimizers_module.get(optimizer)
    if learning_rate is not None:
        opt.learning_rate = learning_rate
    return opt


def dense_network(
    n_features: int,
    hidden_layer_sizes: Sequence[int] = (100,),
    n_outputs: int = 1,
    *,
    activation: str = "relu",
    output_activation: str | None = None,
    optimizer="adam",
    learning_rate: float | None = None,
    loss="mean_squared_error",
    metrics=None,
) -> Sequential:
    """The course's network: ``Dense`` hidden layers, then an output layer, compiled.

    Args:
        n_features: columns of the input.
        hidden_layer_sizes: units of each hidden layer, e.g. ``(250, 250)``.
        n_outputs: units of the output layer.
        activation: activation of the hidden layers.
        output_activation: activation of the output layer (``None``: linear, for regression;
            ``"softmax"`` for classes).
        optimizer: an optimizer name or object (copied).
        learning_rate: overrides the optimizer's default step size.
        loss: the loss to compile with.
        metrics: metrics to compile with.

    Returns:
        A compiled ``Sequential`` model.

    Example:
        >>> model = dense_network(9, (100, 100), loss="mean_squared_error")
        >>> [layer.units for layer in model.layers]
        [100, 100, 1]
    """
    sizes = tuple(hidden_layer_sizes)
    for units in sizes:
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                "`hidden_layer_sizes` must hold positive integers. "
                f"Received: hidden_layer_sizes={hidden_layer_sizes!r}"
            )
    model = Sequential()
    shape = {"input_shape": (int(n_features),)}
    for units in sizes:
        model.add(Dense(int(units), activation=activation, **shape))
        shape = {}
    model.add(Dense(int(n_outputs), activation=output_activation, **shape))
    model.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss,
                  metrics=list(metrics or []))
    return model


def _accepted(fn: Callable, available: dict) -> dict:
    """The entries of ``available`` that ``fn`` names as parameters (all with ``**kwargs``)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or C callable: pass nothing
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(available)
    return {k: v for k, v in available.items() if k in params}


def call_build_fn(build_fn: Callable, what: str = "build_fn", *, compiled: bool = True,
                  **available) -> Sequential:
    """Calls ``build_fn`` with the entries of ``available`` it names and checks the result.

    Raises:
        TypeError: when ``build_fn`` is not callable or does not return a glassnet model.
        ValueError: when ``compiled`` and the model it returns is not compiled.
    """
    if not callable(build_fn):
        raise TypeError(
            f"`{what}` must be a function that returns a compiled glassnet model. "
            f"Received: {build_fn!r} of type {type(build_fn).__name__}"
        )
    model = build_fn(**_accepted(build_fn, available))
    name = getattr(build_fn, "__name__", repr(build_fn))
    if not isinstance(model, Sequential):
        raise TypeError(
            f"`{what}` ({name}) must return a glassnet model (a Sequential). "
            f"It returned {type(model).__name__}: {model!r:.80}. Did it forget `return model`?"
        )
    if compiled and not model.compiled:
        raise ValueError(
            f"`{what}` ({name}) returned a model that is not compiled. Call "
            "model.compile(optimizer=..., loss=...) before returning it."
        )
    return model
