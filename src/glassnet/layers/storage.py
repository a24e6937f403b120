"""Shared storage for the weights of a group of layers.

Trainable weights live in one flat array (``parameters``) with their gradients in another
(``gradients``) of the same layout; weights that do not train (batch-normalisation
statistics, frozen layers) live in a third (``state``). Each layer receives views into
these arrays, so a layer reads ``self.kernel`` as usual while an optimizer can update every
parameter of the network with a handful of whole-array operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from glassnet.layers.base import Layer


class WeightStorage:
    """Allocates and binds the weights of ``layers`` (already planned).

    Layers that already hold weights keep their values (they are copied into the new
    storage); the others are initialised by their specs' initializers, in layer order.

    Args:
        layers: planned layers (``plan`` has fixed their shapes).
        dtype: the float dtype of all weights.
    """

    def __init__(self, layers: list[Layer], dtype) -> None:
        self.dtype = np.dtype(dtype)
        entries = []  # (layer, spec, trains)
        for layer in layers:
            for spec in layer.specs:
                entries.append((layer, spec, spec.trainable and layer.trainable))
        n_train = sum(s.size for _, s, t in entries if t)
        n_state = sum(s.size for _, s, t in entries if not t)
        self.parameters = np.zeros(n_train, dtype=self.dtype)
        self.gradients = np.zeros(n_train, dtype=self.dtype)
        self.state = np.zeros(n_state, dtype=self.dtype)
        #: (layer name, weight name, start, stop) of each trainable weight in ``parameters``.
        self.slices: list[tuple[str, str, int, int]] = []

        offsets = {True: 0, False: 0}
        bound: dict[int, tuple[dict, dict]] = {id(layer): ({}, {}) for layer in layers}
        for layer, spec, trains in entries:
            buffer = self.parameters if trains else self.state
            start = offsets[trains]
            stop = start + spec.size
            offsets[trains] = stop
            view = buffer[start:stop].reshape(spec.shape)
            old = layer.values.get(spec.name)
            if old is not None and old.shape == spec.shape:
                view[...] = old
            else:
                view[...] = spec.initializer(spec.shape, dtype=self.dtype)
            values, grads = bound[id(layer)]
            values[spec.name] = view
            if trains:
                grads[spec.name] = self.gradients[start:stop].reshape(spec.shape)
                self.slices.append((layer.name, spec.name, start, stop))
        for layer in layers:
            layer.bind(*bound[id(layer)])


def shared_view(storage: WeightStorage, layers: list[Layer]) -> WeightStorage | None:
    """A storage for ``layers`` that views part of ``storage`` (where a model nested in
    another keeps the outer model's arrays): its ``parameters`` and ``gradients`` are the
    contiguous span that holds exactly these layers' trainable weights, so training the
    inner model alone updates only its own weights, and the outer model sees every update.
    ``None`` when the layers' weights are not one contiguous span.
    """
    names = {layer.name for layer in layers}
    own = [entry for entry in storage.slices if entry[0] in names]
    start = min((s for _, _, s, _ in own), default=0)
    stop = max((e for _, _, _, e in own), default=0)
    if sum(e - s for _, _, s, e in own) != stop - start:
        return None
    view = WeightStorage.__new__(WeightStorage)
    view.dtype = storage.dtype
    view.parameters = storage.parameters[start:stop]
    view.gradients = storage.gradients[start:stop]
    view.state = storage.state
    view.slices = [(lname, wname, s - start, e - start) for lname, wname, s, e in own]
    return view
