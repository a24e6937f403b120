"""``Variable``: a layer's weight as Keras 3 hands it out (``model.trainable_weights``).

A layer keeps its weights as plain arrays that are views into the model's flat storage
(``glassnet.layers.storage``). ``Variable`` is an array view of one of them that also knows
its layer and name, so that it answers Keras's ``.assign``, ``.numpy()``, ``.value``,
``.name``, ``.path`` and ``.trainable``, and so that ``GradientTape.gradient`` and
``optimizer.apply_gradients`` can find the slope and the storage behind it.

``.value`` is the layer's own array, the same object on every access: ops record it as
their input, so a slope reaching a weight through ops is keyed by ``id(variable.value)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.ops.tensor import apply_ufunc


class Variable(np.ndarray):
    """A view of one weight of ``layer``, named ``name`` in its ``values``.

    Arithmetic on a variable gives plain arrays (or tensors, inside ops), never another
    variable: only the view itself carries the layer and the name.
    """

    _glassnet_variable = True

    def __new__(cls, layer: Any, name: str) -> Variable:
        view = np.asarray(layer.values[name]).view(cls)
        view._layer = layer
        view._weight = name
        return view

    def __array_finalize__(self, obj) -> None:
        self._layer = getattr(obj, "_layer", None)
        self._weight = getattr(obj, "_weight", None)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # Results of arithmetic are plain values, not variables of the same weight.
        result = np.asarray(array)
        if return_scalar and result.ndim == 0:
            return result[()]
        return result

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # Computed on the weight's current array (``value``), so a variable kept across a
        # re-allocation of the model's storage reads the live weight, and recorded on an
        # active tape as any op on a tensor (``glassnet.ops.tensor.apply_ufunc``).
        if "out" in kwargs:
            kwargs["out"] = tuple(x.value if is_variable(x) else x for x in kwargs["out"])
        return apply_ufunc(ufunc, method, inputs, kwargs)

    def __getitem__(self, index):
        return self.view(np.ndarray)[index]

    def copy(self, order="C") -> np.ndarray:
        """A plain array copy of the value."""
        return np.array(self.value, order=order)

    # --- what Keras's Variable answers --------------------------------------------------

    @property
    def layer(self) -> Any:
        """The layer that owns this weight."""
        return self._layer

    @property
    def value(self) -> np.ndarray:
        """The layer's own array of this weight (shared storage; the same object each time)."""
        return self._layer.values[self._weight]

    @property
    def name(self) -> str:
        """The weight's name in its layer (``"kernel"``, ``"bias"``...), as in Keras 3."""
        return self._weight

    @property
    def path(self) -> str:
        """``"layer_name/weight_name"``, Keras 3's ``Variable.path``."""
        return f"{self._layer.name}/{self._weight}"

    @property
    def trainable(self) -> bool:
        """Whether an optimizer updates this weight."""
        spec = next((s for s in self._layer.specs if s.name == self._weight), None)
        return bool(self._layer.trainable and (spec is None or spec.trainable))

    @property
    def grad(self) -> np.ndarray | None:
        """The layer's slope array for this weight (``None`` for a weight that does not
        train)."""
        return self._layer.grads.get(self._weight)

    def numpy(self) -> np.ndarray:
        """A copy of the value, as a plain NumPy array (Keras's ``Variable.numpy()``)."""
        return np.array(self.value)

    def assign(self, value) -> Variable:
        """Writes ``value`` into the weight in place (the model's storage sees it).

        Raises:
            ValueError: when ``value`` does not have the variable's shape.
        """
        value = np.asarray(value)
        if value.shape != self.shape:
            raise ValueError(
                f"Variable {self.path!r} has shape {self.shape}; cannot assign a value of "
                f"shape {value.shape}"
            )
        self.value[...] = value
        return self

    def assign_add(self, delta) -> Variable:
        """Adds ``delta`` to the weight in place."""
        return self.assign(self.value + np.asarray(delta))

    def assign_sub(self, delta) -> Variable:
        """Subtracts ``delta`` from the weight in place."""
        return self.assign(self.value - np.asarray(delta))

    def __repr__(self) -> str:
        return (
            f"<Variable path={self.path} shape={self.shape} dtype={self.dtype} "
            f"value={np.array2string(np.asarray(self), threshold=6)}>"
        )

    def __reduce__(self):
        # A pickled variable is its value: the layer it views belongs to the pickled model.
        return (np.array, (np.asarray(self),))


def is_variable(value: Any) -> bool:
    """Whether ``value`` is a weight handle (a ``Variable`` or anything following its
    ``_glassnet_variable`` contract)."""
    return getattr(value, "_glassnet_variable", False) is True
