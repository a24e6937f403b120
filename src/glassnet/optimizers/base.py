"""The ``Optimizer`` base class: learning rate, clipping, weight decay and state.

An optimizer works on the model's flat parameter array and the flat gradient array of the
same layout (see ``glassnet.layers.storage``). Its state (momentums, velocities, ...) is
flat arrays of that layout too, in ``slots``, so one update is a handful of whole-array
NumPy operations whatever the number of layers. Subclasses write ``update_step`` only,
following ``keras/src/optimizers/*.py`` formula for formula.
"""

from __future__ import annotations

import numbers
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from glassnet._checks import is_finite

# Adam-style moments of units that stop receiving gradient decay geometrically towards
# zero and become float32 subnormals after some hundreds of steps; arithmetic on
# subnormals is up to 100x slower on x86. TensorFlow runs with flush-to-zero; NumPy cannot
# switch it on, so optimizers flush tiny state values to zero every so many steps instead.
_FLUSH_EVERY = 128
_FLUSH_BELOW = {np.dtype(np.float32): 1e-30, np.dtype(np.float64): 1e-290}

# An update is element by element, so a large one is cut into contiguous parts that run
# on several cores at once (NumPy releases the GIL inside its loops): Adam on the 1.6
# million weights of benchmark W4 takes 1.6 ms instead of 2.9 on two cores. Below this
# many weights the thread hand-off costs more than it saves.
_PARALLEL_MIN_WEIGHTS = 2**18
_MAX_UPDATE_THREADS = 4
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool): none after fork


def _update_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_UPDATE_THREADS))


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(_MAX_UPDATE_THREADS - 1, "glassnet-update"))
    return _pool[1]



def _check_non_negative(value, what: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not is_finite(value)
        or value < 0
    ):
        raise ValueError(f"`{what}` must be a non-negative number. Received: {what}={value!r}")
    return float(value)


def _check_in_range(value, what: str, high_open: bool) -> float:
    """``value`` as a float in ``[0, 1)`` (``high_open``) or ``[0, 1]``, else a ``ValueError``
    in Keras's form: ``ValueError: `beta_2` must be a float in [0, 1). Received: beta_2=7.0``.
    The check is where the value is given (and so where a model file's value is read), not
    at the first step of ``fit``, where ``beta_2=7`` overflowed after some hundred steps."""
    span = "[0, 1)" if high_open else "[0, 1]"
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not is_finite(value)
        or value < 0
        or value > 1
        or (high_open and value == 1)
    ):
        raise ValueError(f"`{what}` must be a float in {span}. Received: {what}={value!r}")
    return float(value)



def _check_positive(value, what: str) -> float | None:
    """``None``, or ``value`` as a finite float > 0 (clipping bounds: 0 would zero every
    gradient, a negative bound would flip them)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not is_finite(value)
        or value <= 0
    ):
        raise ValueError(f"`{what}` must be a positive number. Received: {what}={value!r}")
    return float(value)


class Optimizer:
    """Base class of all optimizers.

    Args:
        learning_rate: the step size (also accepted as ``lr``, the Keras 1/2 spelling).
        weight_decay: if set, each step first shrinks every weight by
            ``weight * weight_decay * learning_rate`` (decoupled weight decay).
        clipnorm: clip each weight's gradient to this L2 norm.
        clipvalue: clip every gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip the gradient of all weights together to this L2 norm.
        name: optional name.
    """

    #: Names of the per-parameter state arrays this optimizer keeps.
    slot_names: tuple[str, ...] = ()
    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate: float | None = None,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        lr: float | None = None,
        **kwargs,
    ) -> None:
        for legacy in (
            "decay",
            "use_ema",
            "ema_momentum",
            "ema_overwrite_frequency",
            "loss_scale_factor",
            "gradient_accumulation_steps",
        ):
            if legacy in kwargs:
                value = kwargs.pop(legacy)
                if value not in (None, False, 0, 0.0, 0.99):
                    raise NotImplementedError(
                        f"`{legacy}` is not supported. Received: {legacy}={value!r}"
                    )
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(kwargs))}"
            )
        if lr is not None:
            if learning_rate is not None:
                raise ValueError("Pass either `learning_rate` or its old name `lr`, not both")
            learning_rate = lr
        if learning_rate is None:
            learning_rate = self.default_learning_rate
        self.learning_rate = learning_rate
        self.weight_decay = _check_non_negative(weight_decay, "weight_decay", allow_none=True)
        self.clipnorm = _check_positive(clipnorm, "clipnorm")
        self.clipvalue = _check_positive(clipvalue, "clipvalue")
        self.global_clipnorm = _check_positive(global_clipnorm, "global_clipnorm")
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self.slots: dict[str, np.ndarray] = {}
        self.slices: list[tuple[str, str, int, int]] = []
        self.built = False

    # --- learning rate ------------------------------------------------------------------

    @property
    def learning_rate(self) -> float:
        """The current step size (a number; a schedule is evaluated at ``iterations``)."""
        if callable(self._learning_rate):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if not callable(value):
            value = _check_non_negative(value, "learning_rate")
        self._learning_rate = value

    lr = learning_rate

    # --- state --------------------------------------------------------------------------

    def build(self, parameters: np.ndarray, slices: list[tuple[str, str, int, int]]) -> None:
        """Creates the state arrays for a flat parameter array (zeros, like Keras)."""
        self.slices = list(slices)
        self.slots = {name: np.zeros_like(parameters) for name in self.slot_names}
        self._scratch = np.empty_like(parameters)
        self.built = True
        self._make_parts()

    def _make_parts(self) -> None:
        size = self._scratch.size
        parts = _update_threads() if size >= _PARALLEL_MIN_WEIGHTS else 1
        bounds = np.linspace(0, size, parts + 1).astype(int)
        #: Contiguous parts of the update, each with its views of the state arrays.
        self._parts = [
            (part, {name: slot[part] for name, slot in self.slots.items()}, self._scratch[part])
            for part in (slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        ]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_parts", None)  # views: a copy would hold them apart from its slots
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.built:
            self._make_parts()

    # --- saving (Keras 3's interface) ---------------------------------------------------

    def slot_groups(self) -> list[tuple[str, ...]]:
        """The slots in the order Keras's ``build()`` creates them, one group per call.

        Keras creates the variables of a group together, weight by weight (Adam's
        ``momentum`` and ``velocity`` interleave), and group after group. By default
        each slot is a group of its own, in ``slot_names`` order.
        """
        return [(name,) for name in self.slot_names]

    def variable_layout(self, n_weights: int) -> list[tuple[str, int]]:
        """``(slot, weight index)`` of each slot variable, in Keras 3's order."""
        return [(slot, i) for group in self.slot_groups() for i in range(n_weights)
                for slot in group]

    def save_own_variables(self, store) -> None:
        """Writes the optimizer's variables into ``store`` under ``"0"``, ``"1"``…, in Keras
        3's order (``keras/src/optimizers/base_optimizer.py``, ``save_own_variables``):
        ``iteration`` (int64), ``learning_rate`` (float32), then each slot of each weight
        (flat here; one per weight, in the model's weight order).

        Raises:
            ValueError: when the optimizer is not built (it has no slots yet).
        """
        if not self.built:
            raise ValueError(f"Optimizer {self.name!r} is not built; it has no variables yet")
        store["0"] = np.asarray(self.iterations, dtype=np.int64)
        store["1"] = np.asarray(self.learning_rate, dtype=np.float32)
        for k, (slot, i) in enumerate(self.variable_layout(len(self.slices)), start=2):
            store[str(k)] = self.slot_views(slot)[i].copy()

    def load_own_variables(self, store) -> bool:
        """Reads what ``save_own_variables`` wrote into the built optimizer.

        As Keras (``base_optimizer.py``, ``load_own_variables``), a store that does not fit
        is skipped with nothing changed; the return value says whether it was read. The
        ``learning_rate`` variable replaces the optimizer's own only when they differ as
        float32 (the variable is float32; the config keeps the exact number).
        """
        layout = self.variable_layout(len(self.slices))
        fits = self.built and len(store.keys()) == 2 + len(layout)
        if fits:
            sizes = [stop - start for _, _, start, stop in self.slices]
            values = [np.asarray(store[str(k)]) for k in range(2 + len(layout))]
            fits = values[0].shape == () and all(
                v.size == sizes[i] for v, (_, i) in zip(values[2:], layout, strict=True)
            )
        if not fits:
            warnings.warn(
                f"Skipping variable loading for optimizer {self.name!r}: it has "
                f"{2 + len(layout) if self.built else 0} variables, and the saved optimizer "
                f"{len(store.keys())} that do not fit them",
                UserWarning,
                stacklevel=2,
            )
            return False
        for value, (slot, i) in zip(values[2:], layout, strict=True):
            self.slot_views(slot)[i][...] = value.reshape(-1)
        self.iterations = int(values[0])
        saved_lr = float(values[1])
        if not callable(self._learning_rate) and np.float32(self.learning_rate) != np.float32(
            saved_lr
        ):
            self.learning_rate = saved_lr
        return True

    def slot_views(self, slot: str) -> list[np.ndarray]:
        """One state array per weight (in the model's weight order), for saving."""
        flat = self.slots[slot]
        return [flat[start:stop] for _, _, start, stop in self.slices]

    # --- the step -----------------------------------------------------------------------

    def apply(self, parameters: np.ndarray, gradients: np.ndarray) -> None:
        """One update of ``parameters`` (in place) from ``gradients`` (clipped in place)."""
        if not self.built or self.slots_size() != parameters.size:
            self.build(parameters, self.slices or [("", "", 0, parameters.size)])
        if (
            self.clipvalue is not None
            or self.clipnorm is not None
            or self.global_clipnorm is not None
        ):
            self._clip(gradients)
        lr = self.learning_rate
        if self.weight_decay:
            parameters -= parameters * parameters.dtype.type(self.weight_decay * lr)
        if len(self._parts) == 1:
            self.update_step(parameters, gradients, lr, self.slots, self._scratch)
        else:
            pool = _thread_pool()
            jobs = [
                pool.submit(self.update_step, parameters[part], gradients[part], lr, slots, tmp)
                for part, slots, tmp in self._parts[1:]
            ]
            part, slots, tmp = self._parts[0]
            self.update_step(parameters[part], gradients[part], lr, slots, tmp)
            for job in jobs:
                job.result()
        self.iterations += 1
        if self.slot_names and self.iterations % _FLUSH_EVERY == 0:
            tiny = _FLUSH_BELOW.get(parameters.dtype, 0.0)
            for slot in self.slots.values():
                np.copyto(slot, 0, where=np.abs(slot) < tiny)

    def slots_size(self) -> int:
        return self._scratch.size if self.built else -1

    def _clip(self, g: np.ndarray) -> None:
        if self.clipvalue is not None:
            np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            for _, _, start, stop in self.slices:
                part = g[start:stop]
                norm = float(np.sqrt(np.dot(part, part)))
                if norm > self.clipnorm:
                    part *= part.dtype.type(self.clipnorm / norm)
        if self.global_clipnorm is not None:
            norm = float(np.sqrt(np.dot(g, g)))
            if norm > self.global_clipnorm:
                g *= g.dtype.type(self.global_clipnorm / norm)

    def update_step(
        self, params: np.ndarray, grads: np.ndarray, lr: float, slots: dict, scratch: np.ndarray
    ) -> None:
        """Updates ``params`` in place from ``grads``; subclasses write the formula.

        ``slots`` holds this optimizer's state arrays and ``scratch`` a work array, all
        aligned with ``params``: the whole flat arrays, or one part of them when a large
        update runs on several threads, so an update must be element by element.
        """
        raise NotImplementedError

    # --- configuration ------------------------------------------------------------------

    def get_config(self) -> dict:
        lr = self._learning_rate
        if callable(lr):
            warnings.warn("A learning-rate schedule is saved as its current value", stacklevel=2)
            lr = self.learning_rate
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        known = cls(**{}).get_config().keys()
        return cls(**{k: v for k, v in config.items() if k in known})

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"<{name} learning_rate={self.learning_rate:g} iterations={self.iterations}>"
