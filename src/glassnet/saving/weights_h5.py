"""The two HDF5 weight layouts Keras uses, read and written.

* **v3 layout** (``model.weights.h5`` inside ``.keras``, and ``.weights.h5``): a layer's
  variables are datasets ``0``, ``1``... in ``layers/<snake_case class name>[_n]/vars``,
  where ``_n`` counts earlier layers of the same class (``keras/src/saving/saving_lib.py``,
  ``_save_container_state`` and ``_get_unique_name``); the optimizer's in
  ``optimizer/vars``.
* **legacy layout** (``model_weights`` of a ``.h5`` model, or the root of a Keras 2
  ``save_weights`` file): ``layer_names`` lists the layers; each layer group lists its
  ``weight_names``, and layers with weights are matched to the model's by position
  (``keras/src/legacy/saving/legacy_h5_format.py``, ``load_weights_from_hdf5_group``).

Readers check every dataset's shape against the planned model before reading any data.
"""

from __future__ import annotations

import h5py
import numpy as np

from glassnet.layers import Normalization
from glassnet.naming import to_snake_case
from glassnet.saving import h5io, safety
from glassnet.saving.config import KERAS_VERSION
from glassnet.saving.errors import ModelFileError
from glassnet.saving.optimizer_state import optimizer_variables


def v3_paths(layers) -> list[str]:
    """The group of each layer in the v3 layout: by class, numbered per class."""
    used: dict[str, int] = {}
    paths = []
    for layer in layers:
        name = to_snake_case(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        paths.append(name)
    return paths


def keras_variables(layer) -> list[tuple[str, tuple[int, ...], str]]:
    """``(name, shape, kind)`` of the variables Keras keeps for a layer, in Keras's order.

    Usually the layer's weights, trainable first (``kind`` ``"f"``). ``Normalization``
    differs (``keras/src/layers/preprocessing/normalization.py``): adapted statistics are
    ``mean``, ``variance`` and an integer ``count`` glassnet has no use for; statistics given
    to the constructor live in the config and are no variables at all.
    """
    if isinstance(layer, Normalization):
        if layer.init_mean is not None:
            return []
        shape = tuple(layer.specs[0].shape)
        return [("mean", shape, "f"), ("variance", shape, "f"), ("count", (), "i")]
    ordered = [s for s in layer.specs if s.trainable] + [s for s in layer.specs if not s.trainable]
    return [(spec.name, tuple(spec.shape), "f") for spec in ordered]


def keras_values(layer) -> list[np.ndarray]:
    """The values to store for ``keras_variables(layer)``."""
    if isinstance(layer, Normalization):
        return [] if layer.init_mean is not None else [layer.mean, layer.variance,
                                                        np.asarray(0, dtype=np.int64)]
    return layer.weights


def assign(model, arrays: list[list[np.ndarray]]) -> None:
    """Writes read arrays (float variables only) into a built model's layers."""
    for layer, values in zip(model.layers, arrays, strict=True):
        if values:
            layer.set_weights(values)


def _check(dataset: h5py.Dataset, variable: tuple, label: str):
    """Checks a dataset against a Keras variable; returns what to read (``None``: skip)."""
    name, shape, kind = variable
    if tuple(dataset.shape) != shape:
        raise ModelFileError(f"{label}: {name} should have shape {shape}; the file's "
                             f"{dataset.name!r} has shape {tuple(dataset.shape)}")
    if kind == "i":  # Normalization's count: checked, never needed
        if dataset.dtype.kind not in "iu":
            raise ModelFileError(f"{label}: {name} should be an integer, found {dataset.dtype}")
        return None
    return dataset, shape, f"{label}: {name}"


def _read_checked(checked: list) -> list[np.ndarray]:
    return [h5io.read_array(*item) for item in checked if item is not None]


# --- v3 layout --------------------------------------------------------------------------------


def _numbered(group: h5py.Group | None, what: str, limit: int = 64) -> list[str]:
    if group is None:
        return []
    if len(group) > limit:
        raise ModelFileError(f"{what}: {group.name!r} holds {len(group)} variables; a layer "
                             f"has at most {limit}")
    names = list(group.keys())
    if sorted(names, key=lambda n: (len(n), n)) != [str(i) for i in range(len(names))]:
        raise ModelFileError(f"{what}: expected variables named 0, 1, ... in {group.name!r}; "
                             f"found {sorted(names)[:10]}")
    return [str(i) for i in range(len(names))]


def read_v3_weights(root: h5py.Group, layers, what: str) -> list[list[np.ndarray]]:
    """Every layer's weights from a v3 tree, checked against the planned ``layers``.

    Raises:
        ModelFileError: for a missing or extra variable, or a wrong shape or type.
    """
    datasets = []
    for layer, path in zip(layers, v3_paths(layers), strict=True):
        label = f"{what}: layer {layer.name!r} ({type(layer).__name__}, stored at layers/{path})"
        expected = keras_variables(layer)
        group = h5io.get_group(root, f"layers/{path}/vars", label)
        names = _numbered(group, label)
        if len(names) != len(expected):
            listed = ", ".join(f"{n} {s}" for n, s, _ in expected) or "none"
            raise ModelFileError(f"{label} expects {len(expected)} weight arrays ({listed}); "
                                 f"the file has {len(names)}")
        datasets.append([_check(h5io.get_dataset(group, name, label), variable, label)
                         for variable, name in zip(expected, names, strict=True)])
    return [_read_checked(checked) for checked in datasets]


def v3_optimizer_entries(root: h5py.Group, what: str, limit: int) -> list:
    """``(shape, kind, read)`` of each variable in ``optimizer/vars`` (``[]`` if absent)."""
    group = h5io.get_group(root, "optimizer/vars", what)
    if group is None or len(group) > limit:
        return []
    names = _numbered(group, what, limit)
    return [_entry(h5io.get_dataset(group, name, what), what) for name in names]


def _entry(dataset: h5py.Dataset, what: str):
    kind = "f" if dataset.dtype.kind == "f" or h5io._is_bfloat16(dataset) else dataset.dtype.kind
    shape = tuple(dataset.shape)
    if kind in "iu":
        return shape, kind, lambda: h5io.read_int_scalar(dataset, what)
    return shape, kind, lambda: h5io.read_array(dataset, shape, what)


def write_v3_tree(root: h5py.Group, model, include_optimizer: bool) -> None:
    """Writes a model's weights (and optimizer variables) in the v3 layout."""
    layers = root.create_group("layers")
    for layer, path in zip(model.layers, v3_paths(model.layers), strict=True):
        group = layers.create_group(path).create_group("vars")
        group.attrs["name"] = layer.name
        for i, value in enumerate(keras_values(layer)):
            h5io.write_dataset(group, str(i), value)
    if include_optimizer and getattr(model, "compiled", False):
        group = root.create_group("optimizer").create_group("vars")
        group.attrs["name"] = model.optimizer.name
        for i, (_, value) in enumerate(optimizer_variables(model)):
            h5io.write_dataset(group, str(i), value)
    root.create_group("vars").attrs["name"] = model.name


# --- legacy layout ----------------------------------------------------------------------------


def read_legacy_weights(group: h5py.Group, layers, what: str) -> list[list[np.ndarray]]:
    """Every layer's weights from a legacy tree, matched by position among weighted layers.

    Raises:
        ModelFileError: for a count or shape mismatch, naming the layer.
    """
    names = h5io.read_str_list_attr(group, "layer_names")
    if names is None:
        raise ModelFileError(f"{what} has no 'layer_names': it holds no Keras weights")
    if len(names) > safety.MAX_LAYERS:
        raise ModelFileError(f"{what} lists {len(names)} layers; glassnet reads at most "
                             f"{safety.MAX_LAYERS}")
    stored = []
    for name in names:
        layer_group = h5io.get_group(group, name, what)
        if layer_group is None:
            raise ModelFileError(
                f"{what}: the layer group {name!r} listed in layer_names is missing"
            )
        weight_names = h5io.read_str_list_attr(layer_group, "weight_names") or []
        if weight_names:
            stored.append((name, layer_group, weight_names))
    weighted = [layer for layer in layers if keras_variables(layer)]
    if len(stored) != len(weighted):
        raise ModelFileError(
            f"{what} has weights for {len(stored)} layers ({', '.join(n for n, _, _ in stored)}), "
            f"but the model has {len(weighted)} layers with weights "
            f"({', '.join(layer.name for layer in weighted)})"
        )
    found = {}
    for layer, (name, layer_group, weight_names) in zip(weighted, stored, strict=True):
        label = f"{what}: layer {layer.name!r} (stored as {name!r})"
        expected = keras_variables(layer)
        if len(weight_names) != len(expected):
            raise ModelFileError(f"{label} expects {len(expected)} weight arrays; the file lists "
                                 f"{len(weight_names)}: {weight_names}")
        found[id(layer)] = [
            _check(h5io.get_dataset(layer_group, stored, label), variable, label)
            for variable, stored in zip(expected, weight_names, strict=True)
        ]
    return [_read_checked(found.get(id(layer), [])) for layer in layers]


#: Where glassnet's ``.h5`` files keep the optimizer's variables. Keras 3.15, finding an
#: ``optimizer_weights`` group in an ``.h5`` file, builds its optimizer for no variables and
#: then fails in ``fit`` ("Unknown variable"), even for its own files; under this name Keras
#: ignores the state and trains with a fresh optimizer, while glassnet restores it.
GLASSNET_OPTIMIZER_GROUP = "glassnet_optimizer_weights"


def legacy_optimizer_entries(root: h5py.Group, what: str, limit: int) -> list:
    """``(shape, kind, read)`` of each saved optimizer variable of a ``.h5`` model file.

    Reads glassnet's own group if present, else Keras's ``optimizer_weights``.
    """
    group = h5io.get_group(root, GLASSNET_OPTIMIZER_GROUP, what)
    if group is None:
        group = h5io.get_group(root, "optimizer_weights", what)
    if group is None:
        return []
    names = h5io.read_str_list_attr(group, "weight_names") or []
    if len(names) > limit:
        return []
    return [_entry(h5io.get_dataset(group, name, what), what) for name in names]


def write_legacy_tree(group: h5py.Group, model) -> None:
    """Writes a model's weights in the legacy layout, as Keras 3's ``.h5`` does."""
    h5io.write_str_list_attr(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for layer in sorted(model.layers, key=lambda item: item.name):
        layer_group = group.create_group(layer.name)
        names = [f"{model.name}/{layer.name}/{weight}" for weight, _, _ in keras_variables(layer)]
        h5io.write_str_list_attr(layer_group, "weight_names", names)
        for name, value in zip(names, keras_values(layer), strict=True):
            h5io.write_dataset(layer_group, name, value)
    h5io.write_str_list_attr(group.create_group("top_level_model_weights"), "weight_names", [])


def write_legacy_optimizer(root: h5py.Group, model) -> None:
    """Writes the optimizer's variables as Keras 3's ``optimizer_weights``, but under
    ``GLASSNET_OPTIMIZER_GROUP`` (see there why)."""
    variables = optimizer_variables(model)
    group = root.create_group(GLASSNET_OPTIMIZER_GROUP)
    h5io.write_str_list_attr(group, "weight_names", [name for name, _ in variables])
    for name, value in variables:
        h5io.write_dataset(group, name, value)
