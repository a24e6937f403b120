"""``GradientTape``: slopes for a custom training loop, with TensorFlow's calling convention.

    with glassnet.GradientTape() as tape:
        predictions = model(x, training=True)
        loss = loss_fn(y, predictions)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

Inside the ``with`` block every layer, model, loss and op call leaves a node on one
``glassnet.ops.Tape``, the same tape a model's ``fit`` records. ``gradient`` walks it back
once: each layer writes its weight slopes with its own hand-written ``backward`` (so the
slopes are bit for bit those of ``fit``), and values used directly in ops (weights made with
``add_weight``, watched inputs) get theirs from the tape's leaf slopes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.ops.tape import Tape, _local
from glassnet.ops.variable import is_variable


class GradientTape:
    """Records the operations run inside its ``with`` block, for ``gradient``.

    Args:
        persistent: allow more than one ``gradient`` call (TensorFlow's default is one).
        watch_accessed_variables: accepted for TensorFlow compatibility; every weight a
            recorded layer or op reads is watched.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = bool(persistent)
        self.tape = Tape()
        self._used = False
        self._watched: list[Any] = []

    def __enter__(self) -> GradientTape:
        _local.__dict__.setdefault("stack", []).append(self.tape)
        return self

    def __exit__(self, *exc) -> None:
        stack = _local.stack
        if stack and stack[-1] is self.tape:
            stack.pop()
        else:  # left out of order: remove this tape wherever it is
            stack.remove(self.tape)

    def watch(self, value: Any) -> None:
        """Marks ``value`` (an array or tensor used inside the block) as a source whose
        slope ``gradient`` may be asked for."""
        self._watched.append(value)

    def reset(self) -> None:
        """Forgets everything recorded so far."""
        self.tape = Tape()
        self._used = False

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: str = "none",
    ) -> Any:
        """The slopes of ``target`` (summed over its elements) for each of ``sources``.

        Args:
            target: a value computed inside the block (a loss), or a list of them.
            sources: a variable or array, or a list/tuple/dict of them
                (``model.trainable_weights``).
            output_gradients: slopes at ``target`` to start from (ones by default).
            unconnected_gradients: ``"none"`` (TensorFlow's default) gives ``None`` for a
                source the target does not depend on; ``"zero"`` gives zeros.

        Returns:
            The slopes in the structure of ``sources``.

        Raises:
            RuntimeError: on a second call of a tape that is not ``persistent``.
            ValueError: when the tape never computed ``target``.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                "`unconnected_gradients` must be 'none' or 'zero'. "
                f"Received: unconnected_gradients={unconnected_gradients!r}"
            )
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients; use GradientTape(persistent=True) to call gradient() again"
            )
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
        made = {id(node.output) for node in self.tape.nodes}
        for value in targets:
            if id(value) not in made:
                raise ValueError(
                    "tape.gradient: the target was not computed inside this GradientTape "
                    f"(received {type(value).__name__} of shape {np.shape(value)}); compute "
                    "the loss inside the `with GradientTape() as tape:` block"
                )
        if output_gradients is None:
            seeds = [np.ones_like(np.asarray(value)) for value in targets]
        else:
            given = (
                list(output_gradients)
                if isinstance(output_gradients, (list, tuple))
                else [output_gradients]
            )
            seeds = [np.asarray(g, dtype=np.asarray(v).dtype) for g, v in zip(given, targets,
                                                                                 strict=True)]
        self._used = True
        leaves = self.tape.backward(targets, seeds)
        reached = self._reached_layers()
        zero = unconnected_gradients == "zero"
        return _map_structure(sources, lambda source: _slope(source, leaves, reached, zero))

    def _reached_layers(self) -> set[int]:
        """``id`` of every layer whose weight slopes the last backward wrote."""
        ops = {id(node.op): node.op for node in self.tape.nodes}
        reached: set[int] = set()
        for key in self.tape.reached:
            _add_layers(ops[key], reached)
        return reached


def _add_layers(op: Any, into: set[int]) -> None:
    into.add(id(op))
    for inner in getattr(op, "layers", None) or ():  # a Dense chain, a nested model
        _add_layers(inner, into)


def _slope(source: Any, leaves: dict, reached: set[int], zero: bool) -> np.ndarray | None:
    if is_variable(source):
        slope = None
        layer = source.layer
        if id(layer) in reached and source.grad is not None:
            slope = np.array(source.grad)
        direct = leaves.get(id(source.value))
        if direct is not None:
            slope = direct.copy() if slope is None else slope + direct
        if slope is None and zero:
            slope = np.zeros(source.shape, dtype=source.dtype)
        return slope
    slope = leaves.get(id(source))
    if slope is None and zero:
        return np.zeros(np.shape(source), dtype=np.asarray(source).dtype)
    return None if slope is None else np.array(slope)


def _map_structure(structure: Any, fn) -> Any:
    if isinstance(structure, dict):
        return {key: _map_structure(value, fn) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)) and not is_variable(structure):
        return type(structure)(_map_structure(value, fn) for value in structure) if isinstance(
            structure, tuple
        ) else [_map_structure(value, fn) for value in structure]
    return fn(structure)
