"""Shared storage for the weights of a group of layers.

Trainable weights live in one flat array (``parameters``) with their gradients in another
(``gradients``) of the same layout; weights that do not train (batch-normalisation
statistics, frozen layers, every weight of a model whose ``trainable`` is false) live in a
third (``state``). Each layer receives views into these arrays, so a layer reads
``self.kernel`` as usual while an optimizer can update every parameter of the network with a
handful of whole-array operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from glassnet.layers.base import Layer, WeightSpec


def trains(layer: Layer, spec: WeightSpec, model_trainable: bool = True) -> bool:
    """Whether a weight trains in the storage of a model: the model, the layer and the
    weight all train.

    A model whose own ``trainable`` is false trains nothing, whatever its layers say, as
    in Keras 3, where such a model's ``trainable_weights`` is empty
    (``keras/src/layers/layer.py``, ``trainable_weights``); its layers keep their own flags
    (a layer added to it after it was frozen still says ``trainable=True``).
    """
    return bool(model_trainable and spec.trainable and layer.trainable)


class WeightStorage:
    """Allocates and binds the weights of ``layers`` (already planned).

    Layers that already hold weights keep their values (they are copied into the new
    storage); the others are initialised by their specs' initializers, in layer order.

    Args:
        layers: planned layers (``plan`` has fixed their shapes).
        dtype: the float dtype of all weights.
        trainable: the ``trainable`` of the model that owns the storage; when false every
            weight lives in ``state``. A trainable layer still gets gradient arrays of its
            own (its backward writes them; no optimizer reads them).
    """

    def __init__(self, layers: list[Layer], dtype, trainable: bool = True) -> None:
        self.dtype = np.dtype(dtype)
        entries = []  # (layer, spec, whether it trains)
        for layer in layers:
            for spec in layer.specs:
                entries.append((layer, spec, trains(layer, spec, trainable)))
        n_train = sum(s.size for _, s, t in entries if t)
        n_state = sum(s.size for _, s, t in entries if not t)
        self.parameters = np.zeros(n_train, dtype=self.dtype)
        self.gradients = np.zeros(n_train, dtype=self.dtype)
        self.state = np.zeros(n_state, dtype=self.dtype)
        #: (layer name, weight name, start, stop) of each trainable weight in ``parameters``.
        self.slices: list[tuple[str, str, int, int]] = []

        offsets = {True: 0, False: 0}
        bound: dict[int, tuple[dict, dict]] = {id(layer): ({}, {}) for layer in layers}
        for layer, spec, trained in entries:
            buffer = self.parameters if trained else self.state
            start = offsets[trained]
            stop = start + spec.size
            offsets[trained] = stop
            view = buffer[start:stop].reshape(spec.shape)
            old = layer.values.get(spec.name)
            if old is not None and old.shape == spec.shape:
                view[...] = old
            else:
                view[...] = spec.initializer(spec.shape, dtype=self.dtype)
            values, grads = bound[id(layer)]
            values[spec.name] = view
            if trained:
                grads[spec.name] = self.gradients[start:stop].reshape(spec.shape)
                self.slices.append((layer.name, spec.name, start, stop))
            elif spec.trainable and layer.trainable:  # frozen by the model alone
                grads[spec.name] = np.zeros(spec.shape, dtype=self.dtype)
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


def frozen_view(storage: WeightStorage) -> WeightStorage:
    """The storage of a nested model whose ``trainable`` is false: no trainable span (fitting
    that model alone updates nothing, its ``trainable_weights`` being empty, as in Keras),
    and the outer model's ``state``. The outer model still trains the model's layers whose
    own flags say so, as Keras's outer model does (it gathers its sublayers' variables)."""
    view = WeightStorage.__new__(WeightStorage)
    view.dtype = storage.dtype
    view.parameters = storage.parameters[:0]
    view.gradients = storage.gradients[:0]
    view.state = storage.state
    view.slices = []
    return view
