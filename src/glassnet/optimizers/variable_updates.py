"""``optimizer.apply_gradients(zip(grads, variables))``: Keras's update of given variables.

An optimizer updates one flat array of parameters (``Optimizer.apply``). A custom training
loop hands it variables instead (``model.trainable_weights``, ``glassnet.ops.Variable``).
When those are every trainable weight of one model, in any order, they already lie in one
flat array (the model's storage): the slopes are written into its gradient array and the
flat update runs, the same update ``fit`` makes. Any other set of variables (part of a
model, weights of two models) is gathered into a flat array of its own, updated, and
scattered back. Either way the optimizer keeps its state between calls while the set of
variables stays the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.ops.variable import is_variable


def apply_to_variables(optimizer: Any, grads: list, variables: list) -> None:
    """Updates ``variables`` by ``grads``; checks everything before changing anything.

    Raises:
        ValueError: when the lists differ in length, a gradient is ``None`` or its shape is
            not its variable's, naming the variable.
        TypeError: when a variable is not a glassnet ``Variable``.
    """
    grads, variables = list(grads), list(variables)
    if len(grads) != len(variables):
        raise ValueError(
            f"apply_gradients received {len(grads)} gradients for {len(variables)} variables"
        )
    if not variables:
        return
    checked = []
    for grad, variable in zip(grads, variables, strict=True):
        if not is_variable(variable):
            raise TypeError(
                "apply_gradients updates glassnet Variables (model.trainable_weights); "
                f"received {type(variable).__name__}"
            )
        if grad is None:
            raise ValueError(
                f"The gradient of variable {variable.path!r} is None: the loss does not depend "
                "on it. Leave it out of the list, or compute the loss from it"
            )
        grad = np.asarray(grad)
        if grad.shape != variable.shape:
            raise ValueError(
                f"The gradient of variable {variable.path!r} has shape {grad.shape}; expected "
                f"the variable's shape {variable.shape}"
            )
        checked.append(grad)
    layout = _storage_layout(variables)
    if layout is not None:
        parameters, gradients, slices = layout
        for grad, variable in zip(checked, variables, strict=True):
            target = variable.grad
            if target is not grad:
                target[...] = grad
        _ensure_built(optimizer, ("storage", id(parameters)), parameters, slices)
        optimizer.apply(parameters, gradients)
        return
    values = [variable.value for variable in variables]
    flat = np.concatenate([v.reshape(-1) for v in values]).astype(values[0].dtype, copy=False)
    flat_grad = np.concatenate([g.reshape(-1) for g in checked]).astype(flat.dtype, copy=False)
    slices, start = [], 0
    for variable in variables:
        slices.append((variable.layer.name, variable.name, start, start + variable.size))
        start += variable.size
    key = ("gathered", tuple(id(v.value) for v in variables))
    _ensure_built(optimizer, key, flat, slices)
    optimizer.apply(flat, flat_grad)
    for variable, (_, _, begin, stop) in zip(variables, slices, strict=True):
        variable.value[...] = flat[begin:stop].reshape(variable.shape)


def _ensure_built(optimizer: Any, key: tuple, parameters: np.ndarray, slices: list) -> None:
    if getattr(optimizer, "_variables_key", None) != key or not optimizer.built:
        if not (optimizer.built and optimizer.slots_size() == parameters.size):
            optimizer.build(parameters, slices)
        else:
            optimizer.slices = slices
        optimizer._variables_key = key


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _storage_layout(variables: list):
    """``(parameters, gradients, slices)`` when ``variables`` are exactly the trainable
    weights of one storage; ``None`` otherwise."""
    if any(variable.grad is None for variable in variables):
        return None
    parameters = _root(variables[0].value)
    gradients = _root(variables[0].grad)
    if parameters.ndim != 1 or gradients.shape != parameters.shape:
        return None
    base = parameters.__array_interface__["data"][0]
    item = parameters.itemsize
    spans = []
    for variable in variables:
        value, grad = variable.value, variable.grad
        if _root(value) is not parameters or _root(grad) is not gradients:
            return None
        start = (value.__array_interface__["data"][0] - base) // item
        spans.append((start, start + value.size, variable))
    spans.sort(key=lambda span: span[0])
    position = 0
    for start, stop, _ in spans:
        if start != position:
            return None
        position = stop
    if position != parameters.size:
        return None
    slices = [(v.layer.name, v.name, start, stop) for start, stop, v in spans]
    return parameters, gradients, slices
