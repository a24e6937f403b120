"""The ``Optimizer`` base class: learning rate, clipping, weight decay, EMA and state.

An optimizer works on the model's flat parameter array and the flat gradient array of the
same layout (see ``glassnet.layers.storage``). Its state (momentums, velocities, ...) is
flat arrays of that layout too, in ``slots``, so one update is a handful of whole-array
NumPy operations whatever the number of layers. Subclasses write ``update_step`` only,
following ``keras/src/optimizers/*.py`` formula for formula.
"""

from __future__ import annotations

import copy
import inspect
import numbers
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from glassnet._checks import check_flag, is_finite
from glassnet.optimizers.schedules import LearningRateSchedule, deserialize, serialize
from glassnet.optimizers.variable_updates import apply_to_variables

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
# An update makes several passes over its arrays (Adam twelve); on arrays larger than the
# cache every pass goes out to main memory. Run block by block, each block's arrays small
# enough to stay in cache between passes (2**17 numbers: 512 KiB per float32 array), the
# passes after the first read from cache: Adam on 2.6 million weights (an Embedding(20000,
# 128)) takes 3.4 ms a step instead of 4.4 on two cores, 6.8 instead of 8.9 on one. Smaller
# blocks lose it again to Python's time between operations (2**15: 5.6 ms on two cores).
# Element by element, so the numbers are the same to the last bit.
_CACHE_BLOCK = 2**17
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


def _check_ema(use_ema, ema_momentum, ema_overwrite_frequency) -> None:
    """Keras's checks (``base_optimizer.py``, ``__init__``), made only when EMA is on."""
    if not use_ema:
        return
    if (
        isinstance(ema_momentum, bool)
        or not isinstance(ema_momentum, numbers.Real)
        or not is_finite(ema_momentum)
        or not 0 <= ema_momentum <= 1
    ):
        raise ValueError(
            f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
        )
    if ema_overwrite_frequency and (
        isinstance(ema_overwrite_frequency, bool)
        or not isinstance(ema_overwrite_frequency, numbers.Integral)
        or ema_overwrite_frequency < 1
    ):
        raise ValueError(
            "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
            f"ema_overwrite_frequency={ema_overwrite_frequency}"
        )


def _check_accumulation(steps) -> int | None:
    if steps is None:
        return None
    if (
        isinstance(steps, bool)
        or not isinstance(steps, numbers.Integral)
        or steps < 2
    ):
        raise ValueError(
            "`gradient_accumulation_steps` must be an integer >= 2. Received: "
            f"gradient_accumulation_steps={steps}"
        )
    return int(steps)


def check_rate(rate, source, step: int) -> float:
    """The learning rate a schedule (or callable) gave at ``step`` as a float, or a
    ``ValueError`` naming the schedule, the step and the value when it is not a finite
    number >= 0 (a negative rate would climb the loss; NaN would poison every weight)."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        value = None
    if value is None or not is_finite(value) or value < 0:
        raise ValueError(
            f"The learning-rate schedule {source!r} gave learning_rate={rate!r} at step {step}; "
            "a learning rate must be a finite number >= 0."
        )
    return value


class Optimizer:
    """Base class of all optimizers (``keras/src/optimizers/base_optimizer.py``).

    One update (``apply``) does, in Keras's order: divide the gradients by
    ``loss_scale_factor``; (with ``gradient_accumulation_steps``, add them to the
    accumulator and update only every that many steps, from the mean); clip them; shrink
    the weights by ``weight * weight_decay * learning_rate``; the optimizer's own formula
    (``update_step``); the moving average of the weights (``use_ema``); count the step;
    apply the weights' constraints.

    Args:
        learning_rate: a number, a ``LearningRateSchedule`` (evaluated at ``iterations``)
            or a callable of no arguments (also accepted as ``lr``, the Keras 1/2 spelling).
        weight_decay: if set, decoupled weight decay.
        clipnorm: clip each weight's gradient to this L2 norm.
        clipvalue: clip every gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip the gradient of all weights together to this L2 norm.
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: ``average = ema_momentum * average + (1 - ema_momentum) * weight``.
        ema_overwrite_frequency: every that many steps, the weights become their average
            (``None``: only at the end of ``fit``, ``finalize_variable_values``).
        loss_scale_factor: the loss is multiplied by it (``scale_loss``) and the gradients
            divided by it before the update.
        gradient_accumulation_steps: update every that many steps, from the mean gradient.
        name: optional name.
    """

    #: Names of the per-parameter state arrays this optimizer's formula keeps.
    slot_names: tuple[str, ...] = ()
    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate=None,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        lr=None,
        **kwargs,
    ) -> None:
        if kwargs.pop("decay", None) not in (None, 0, 0.0):
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        for inert in ("jit_compile", "mesh", "is_legacy_optimizer"):
            kwargs.pop(inert, None)
        if kwargs:
            raise ValueError(
                f"Argument(s) not recognized: {kwargs} ({type(self).__name__} got unexpected "
                f"keyword argument(s): {', '.join(sorted(kwargs))})"
            )
        if lr is not None:
            if learning_rate is not None:
                raise ValueError("Pass either `learning_rate` or its old name `lr`, not both")
            learning_rate = lr
        if learning_rate is None:
            learning_rate = self.default_learning_rate
        self._learning_rate = None
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
        self.use_ema = check_flag(use_ema, "use_ema")
        _check_ema(self.use_ema, ema_momentum, ema_overwrite_frequency)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = _check_positive(loss_scale_factor, "loss_scale_factor")
        self.gradient_accumulation_steps = _check_accumulation(gradient_accumulation_steps)
        self.name = name or type(self).__name__.lower()
        self._iterations = 0
        self.slots: dict[str, np.ndarray] = {}
        self.slices: list[tuple[str, str, int, int]] = []
        #: ``(view, constraint)`` pairs applied after each update (set by the model).
        self.constraints: list = []
        self._decay_excluded: tuple[list, object] = ([], None)
        self.built = False

    # --- learning rate and step count ---------------------------------------------------

    @property
    def iterations(self) -> int:
        """Updates made so far (with gradient accumulation, accumulated updates: the real
        step count divided by ``gradient_accumulation_steps``, as Keras counts)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"`iterations` must be an integer >= 0. Received: {value!r}")
        self._iterations = int(value)

    @property
    def learning_rate(self) -> float:
        """The current step size: the number, or the schedule evaluated at the step count
        (checked: a negative or non-finite rate raises a ``ValueError``)."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument. "
                f"(Tried to set learning_rate={value!r} over {self._learning_rate!r}.)"
            )
        self._learning_rate = _check_non_negative(value, "learning_rate")

    lr = learning_rate

    @property
    def learning_rate_is_schedule(self) -> bool:
        """Whether the rate comes from a schedule or a callable (then it is not settable
        by number where it is a schedule, and no ``learning_rate`` variable is saved)."""
        return callable(self._learning_rate)

    def _current_learning_rate(self) -> float:
        source = self._learning_rate
        if isinstance(source, LearningRateSchedule):
            return check_rate(source(self._iterations), source, self._iterations)
        if callable(source):
            return check_rate(source(), source, self._iterations)
        return source

    def scale_loss(self, loss):
        """The loss times ``loss_scale_factor`` (as Keras's ``scale_loss``)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Leaves out of weight decay the weights in ``var_list`` (arrays, views of the
        model's weights) and those whose name contains one of ``var_names`` (``"bias"``).
        Only before the optimizer is built, as Keras."""
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configued before the optimizer is "
                "built."
            )
        pattern = re.compile("|".join(sorted(set(var_names)))) if var_names else None
        self._decay_excluded = (list(var_list or []), pattern)

    # --- state --------------------------------------------------------------------------

    def base_slot_names(self) -> tuple[str, ...]:
        """The state every optimizer may keep per weight: the weights' moving average
        (``use_ema``) and the gradient accumulator."""
        return (("average",) if self.use_ema else ()) + (
            ("gradient_accumulator",) if self.gradient_accumulation_steps else ()
        )

    def extra_variables(self) -> dict[str, float]:
        """Scalar state an optimizer keeps beyond its slots, saved after them (Nadam's
        ``u_product``); none by default."""
        return {}

    def set_extra_variables(self, values: dict[str, float]) -> None:
        """Restores what ``extra_variables`` returned."""

    def build(self, parameters: np.ndarray, slices: list[tuple[str, str, int, int]]) -> None:
        """Creates the state arrays for a flat parameter array (zeros, like Keras)."""
        self.slices = list(slices)
        self.slots = {
            name: np.zeros_like(parameters) for name in self.base_slot_names() + self.slot_names
        }
        self._scratch = np.empty_like(parameters)
        self.built = True
        self._make_parts()

    def clone(self) -> Optimizer:
        """An unbuilt copy: the same settings, learning rate (the same schedule object) and
        step count, without state arrays (for writing the state of an optimizer that is
        not built for a model's weights)."""
        new = copy.copy(self)
        for name in ("_parts", "_scratch"):
            new.__dict__.pop(name, None)
        new.slots, new.slices, new.constraints, new.built = {}, [], [], False
        return new

    def _make_parts(self) -> None:
        size = self._scratch.size
        parts = _update_threads() if size >= _PARALLEL_MIN_WEIGHTS else 1
        bounds = np.linspace(0, size, parts + 1).astype(int)
        own = self.slot_names
        #: Contiguous parts of the update (one per thread), each a list of blocks
        #: (``_CACHE_BLOCK``) with their views of the state arrays.
        self._parts = [
            [
                (block, {name: self.slots[name][block] for name in own}, self._scratch[block])
                for block in (slice(b, min(b + _CACHE_BLOCK, stop))
                              for b in range(start, stop, _CACHE_BLOCK))
            ]
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
        ]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_parts", None)  # views: a copy would hold them apart from its slots
        state["constraints"] = []  # views of the model's weights: the model sets them again
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_iterations", state.pop("iterations", 0))
        self.__dict__.update(state)
        if self.built:
            self._make_parts()

    # --- saving (Keras 3's interface) ---------------------------------------------------

    def own_slot_groups(self) -> list[tuple[str, ...]]:
        """This optimizer's slots in the order its Keras ``build()`` creates them, one group
        per ``add_optimizer_variables`` call (a group's slots interleave weight by weight).
        By default each slot is a group of its own, in ``slot_names`` order."""
        return [(name,) for name in self.slot_names]

    def slot_groups(self) -> list[tuple[str, ...]]:
        """Every slot in Keras 3's order: the base optimizer's (EMA average and gradient
        accumulator, interleaved per weight) first, then the optimizer's own."""
        base = self.base_slot_names()
        return ([base] if base else []) + self.own_slot_groups()

    def variable_layout(self, n_weights: int) -> list[tuple[str, int]]:
        """``(slot, weight index)`` of each slot variable, in Keras 3's order."""
        return [(slot, i) for group in self.slot_groups() for i in range(n_weights)
                for slot in group]

    def save_own_variables(self, store) -> None:
        """Writes the optimizer's variables into ``store`` under ``"0"``, ``"1"``…, in Keras
        3's order (``keras/src/optimizers/base_optimizer.py``): ``iteration`` (int64),
        ``learning_rate`` (float32; none when the rate is a schedule), each slot of each
        weight (flat here; one per weight, in the model's weight order), then the extra
        scalars (``extra_variables``).

        Raises:
            ValueError: when the optimizer is not built (it has no slots yet).
        """
        if not self.built:
            raise ValueError(f"Optimizer {self.name!r} is not built; it has no variables yet")
        values = [np.asarray(self._iterations, dtype=np.int64)]
        if not self.learning_rate_is_schedule:
            values.append(np.asarray(self._learning_rate, dtype=np.float32))
        values += [self.slot_views(slot)[i].copy()
                   for slot, i in self.variable_layout(len(self.slices))]
        dtype = self._scratch.dtype
        values += [np.asarray(v, dtype=dtype) for v in self.extra_variables().values()]
        for k, value in enumerate(values):
            store[str(k)] = value

    def variable_count(self) -> int:
        """How many variables ``save_own_variables`` writes."""
        return (1 + (not self.learning_rate_is_schedule)
                + len(self.variable_layout(len(self.slices))) + len(self.extra_variables()))

    def load_own_variables(self, store) -> bool:
        """Reads what ``save_own_variables`` wrote into the built optimizer.

        As Keras (``base_optimizer.py``, ``load_own_variables``), a store that does not fit
        is skipped with nothing changed; the return value says whether it was read. The
        ``learning_rate`` variable replaces the optimizer's own only when they differ as
        float32 (the variable is float32; the config keeps the exact number).
        """
        layout = self.variable_layout(len(self.slices))
        has_lr = not self.learning_rate_is_schedule
        first_slot = 1 + has_lr
        extras = list(self.extra_variables())
        fits = self.built and len(store.keys()) == self.variable_count()
        if fits:
            sizes = [stop - start for _, _, start, stop in self.slices]
            values = [np.asarray(store[str(k)]) for k in range(self.variable_count())]
            slot_values = values[first_slot:first_slot + len(layout)]
            fits = values[0].shape == () and all(
                v.size == sizes[i] for v, (_, i) in zip(slot_values, layout, strict=True)
            ) and all(v.size == 1 for v in values[first_slot + len(layout):])
        if not fits:
            warnings.warn(
                f"Skipping variable loading for optimizer {self.name!r}: it has "
                f"{self.variable_count() if self.built else 0} variables, and the saved "
                f"optimizer {len(store.keys())} that do not fit them",
                UserWarning,
                stacklevel=2,
            )
            return False
        for value, (slot, i) in zip(slot_values, layout, strict=True):
            self.slot_views(slot)[i][...] = value.reshape(-1)
        self._iterations = int(values[0])
        if has_lr:
            saved_lr = float(values[1])
            if np.float32(self._learning_rate) != np.float32(saved_lr):
                self.learning_rate = saved_lr
        self.set_extra_variables({
            name: float(v.reshape(())) for name, v in zip(extras, values[first_slot + len(layout):],
                                                          strict=True)
        })
        return True

    def slot_views(self, slot: str) -> list[np.ndarray]:
        """One state array per weight (in the model's weight order), for saving."""
        flat = self.slots[slot]
        return [flat[start:stop] for _, _, start, stop in self.slices]

    # --- the step -----------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars) -> int:
        """Keras's ``optimizer.apply_gradients(zip(grads, variables))`` for a custom training
        loop (see ``glassnet.optimizers.variable_updates``); returns the iteration count."""
        pairs = list(grads_and_vars)
        grads = [grad for grad, _ in pairs]
        variables = [variable for _, variable in pairs]
        apply_to_variables(self, grads, variables)
        return self.iterations

    def apply(self, parameters, gradients=None) -> None:
        """One update of ``parameters`` (in place) from ``gradients`` (changed in place).

        The learning rate is read (and checked) first, so a schedule's bad rate raises
        before anything changes. Also Keras's ``apply(grads, trainable_variables)``: given a
        list of slopes and a list of ``Variable``s, updates those variables.
        """
        if not isinstance(parameters, np.ndarray) or not isinstance(gradients, np.ndarray):
            if gradients is None:
                raise ValueError(
                    "optimizer.apply(grads, trainable_variables) needs the variables: glassnet "
                    "optimizers are not bound to a model's variables in advance"
                )
            apply_to_variables(self, parameters, gradients)
            return
        lr = self._learning_rate
        if type(lr) is not float:  # a schedule or a callable: evaluated and checked
            lr = self._current_learning_rate()
        if not self.built or self._scratch.size != parameters.size:
            self.build(parameters, self.slices or [("", "", 0, parameters.size)])
        if self.loss_scale_factor is not None:
            gradients /= gradients.dtype.type(self.loss_scale_factor)
        steps = self.gradient_accumulation_steps
        if steps and (self._iterations + 1) % steps:
            self.slots["gradient_accumulator"] += gradients
        else:
            if steps:
                accumulator = self.slots["gradient_accumulator"]
                gradients += accumulator
                gradients /= gradients.dtype.type(steps)
                accumulator.fill(0)
            if (
                self.clipnorm is not None
                or self.global_clipnorm is not None
                or self.clipvalue is not None
            ):
                self._clip(gradients)
            if self.weight_decay is not None:
                self._apply_weight_decay(parameters, lr)
            self.before_update()
            parts = self._parts
            if len(parts) == 1 and len(parts[0]) == 1:  # a small model: the whole array
                self.update_step(parameters, gradients, lr, parts[0][0][1], self._scratch)
            elif len(parts) == 1:
                self._update_blocks(parameters, gradients, lr, parts[0])
            else:
                self._update_in_parts(parameters, gradients, lr)
        if self.use_ema:
            self._update_average(parameters)
        self._iterations += 1
        if self.constraints:
            for view, constraint in self.constraints:
                view[...] = constraint(view)
        if self._iterations % _FLUSH_EVERY == 0 and self.slot_names:
            tiny = _FLUSH_BELOW.get(parameters.dtype, 0.0)
            for name in self.slot_names:
                slot = self.slots[name]
                np.copyto(slot, 0, where=np.abs(slot) < tiny)

    def before_update(self) -> None:
        """Called once before each update of all weights (Nadam advances its product)."""

    def _update_in_parts(self, parameters: np.ndarray, gradients: np.ndarray, lr: float) -> None:
        """The update of a large model, its contiguous parts on several threads."""
        pool = _thread_pool()
        jobs = [
            pool.submit(self._update_blocks, parameters, gradients, lr, blocks)
            for blocks in self._parts[1:]
        ]
        self._update_blocks(parameters, gradients, lr, self._parts[0])
        for job in jobs:
            job.result()

    def _update_blocks(self, parameters: np.ndarray, gradients: np.ndarray, lr: float,
                       blocks: list) -> None:
        """``update_step`` block by block (``_CACHE_BLOCK``)."""
        for block, slots, tmp in blocks:
            self.update_step(parameters[block], gradients[block], lr, slots, tmp)

    def _update_average(self, parameters: np.ndarray) -> None:
        """``average = m * average + (1 - m) * weight``, with ``m = 0`` at the first step
        (``base_optimizer.py``, ``_update_model_variables_moving_average``), and the
        weights overwritten by their average every ``ema_overwrite_frequency`` steps."""
        average = self.slots["average"]
        momentum = self.ema_momentum if self.iterations != 0 else 0.0
        dtype = parameters.dtype.type
        average *= dtype(momentum)
        average += dtype(1 - momentum) * parameters
        if self.ema_overwrite_frequency and (self.iterations + 1) % (
            self.ema_overwrite_frequency
        ) == 0:
            parameters[...] = average

    def finalize_variable_values(self, parameters: np.ndarray) -> None:
        """With ``use_ema``, the weights become their moving average (``fit`` calls this
        after its last epoch, as Keras does)."""
        if self.use_ema and self.built and "average" in self.slots:
            parameters[...] = self.slots["average"]

    def _decayed_parts(self, parameters: np.ndarray) -> list[np.ndarray]:
        arrays, pattern = self._decay_excluded
        if not arrays and pattern is None:
            return [parameters]
        starts = {a.__array_interface__["data"][0] for a in arrays if isinstance(a, np.ndarray)}
        parts = []
        for _, weight, start, stop in self.slices:
            part = parameters[start:stop]
            if part.__array_interface__["data"][0] in starts and part.size:
                continue
            if pattern is not None and re.search(pattern, weight):
                continue
            parts.append(part)
        return parts

    def _apply_weight_decay(self, parameters: np.ndarray, lr: float) -> None:
        if self.weight_decay is None:
            return
        factor = parameters.dtype.type(self.weight_decay * lr)
        for part in self._decayed_parts(parameters):
            part -= part * factor

    def slots_size(self) -> int:
        return self._scratch.size if self.built else -1

    def _clip(self, g: np.ndarray) -> None:
        """Keras's clipping (``_clip_gradients``): each weight's gradient to ``clipnorm``,
        all together to ``global_clipnorm``, or every element to ``clipvalue``."""
        if self.clipnorm is not None:
            for _, _, start, stop in self.slices:
                part = g[start:stop]
                norm = float(np.sqrt(np.dot(part, part)))
                if norm > self.clipnorm:
                    part *= part.dtype.type(self.clipnorm / norm)
        elif self.global_clipnorm is not None:
            norm = float(np.sqrt(np.dot(g, g)))
            if not is_finite(norm):
                g[...] = np.nan  # as Keras: a non-finite norm makes the scale NaN
            elif norm > self.global_clipnorm:
                g *= g.dtype.type(self.global_clipnorm / norm)
        elif self.clipvalue is not None:
            np.clip(g, -self.clipvalue, self.clipvalue, out=g)

    def update_step(
        self, params: np.ndarray, grads: np.ndarray, lr: float, slots: dict, scratch: np.ndarray
    ) -> None:
        """Updates ``params`` in place from ``grads``; subclasses write the formula.

        ``slots`` holds this optimizer's state arrays and ``scratch`` a work array, all
        aligned with ``params``: the whole flat arrays, or one part of them when a large
        update runs on several threads, so an update must be element by element. Any
        arrays of one shape work (one weight, or all of a model's), so the formula serves
        any caller.
        """
        raise NotImplementedError

    # --- configuration ------------------------------------------------------------------

    def get_config(self) -> dict:
        """Keras 3's optimizer config; a schedule is written as ``schedules.serialize``
        writes it, a plain callable as its current value (with a warning)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = serialize(lr)
        elif callable(lr):
            warnings.warn("A learning-rate callable is saved as its current value", stacklevel=2)
            lr = self.learning_rate
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        """The optimizer a config describes; a serialized schedule as ``learning_rate``
        becomes that schedule. A key the optimizer does not take raises a ``ValueError``
        naming it (nothing is dropped silently)."""
        if not isinstance(config, dict):
            raise TypeError(f"An optimizer config must be a dict. Received: {config!r}")
        config = dict(config)
        known = {
            name
            for klass in cls.__mro__
            if issubclass(klass, Optimizer) and "__init__" in vars(klass)
            for name in inspect.signature(klass.__init__).parameters
        }
        known |= {"decay", "jit_compile", "mesh", "is_legacy_optimizer"}
        known -= {"self", "kwargs"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(
                f"Unknown key(s) in the config of {cls.__name__}: {', '.join(unknown)}. "
                f"{cls.__name__} takes: {', '.join(sorted(known))}."
            )
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        name = type(self).__name__
        if isinstance(self._learning_rate, numbers.Real):
            rate = f"{self._learning_rate:g}"
        else:
            rate = repr(self._learning_rate)
        return f"<{name} learning_rate={rate} iterations={self.iterations}>"
