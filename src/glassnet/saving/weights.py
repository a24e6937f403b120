"""Weights in HDF5: careful access, and the two layouts Keras uses, read and written.

* **v3 layout** (``model.weights.h5`` inside ``.keras``, and ``.weights.h5``): a layer's
  variables are datasets ``0``, ``1``... in ``layers/<snake_case class name>[_n]/vars``,
  where ``_n`` counts earlier layers of the same class (``keras/src/saving/saving_lib.py``,
  ``_save_container_state`` and ``_get_unique_name``); a nested model's layers in its
  group the same way; a subclassed model's layers where Keras's walk of its attributes
  meets them (``layer_groups``); the optimizer's in ``optimizer/vars``.
* **legacy layout** (``model_weights`` of a ``.h5`` model, or the root of a Keras 2
  ``save_weights`` file): ``layer_names`` lists the layers; each layer group lists its
  ``weight_names``, and layers with weights are matched to the model's by position
  (``keras/src/legacy/saving/legacy_h5_format.py``, ``load_weights_from_hdf5_group``).

Each layer stores and loads its own variables (``Layer.save_own_variables`` and
``load_own_variables``, as in Keras 3) and declares them beforehand
(``own_variable_specs``), so readers check every dataset's shape against the planned
model before reading any data. The optimizer's variables come from
``glassnet.saving.training_state``.

**Careful access**: open, walk and read only what a model file should hold. Every group
and dataset is reached through ``get_group``/``get_dataset``, which refuse soft and
external links, external and virtual datasets, non-numeric data and "shape bombs" (a
dataset declaring far more bytes than it stores), as Keras 3.15 does in
``keras/src/saving/saving_lib.py`` (``safe_get_h5_group``, ``safe_get_h5_dataset``). A
dataset's shape is compared with the expected shape *before* its data is read, so a
crafted file cannot make glassnet allocate more than the model it describes.

Errors from h5py itself are turned into ``ModelFileError`` by ``h5_errors``.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator

import h5py
import h5py.h5pl
import numpy as np

from glassnet.engine.functional_config import is_program_model
from glassnet.engine.model import INTERNAL_ATTRIBUTES, Model
from glassnet.layers.base import Layer
from glassnet.naming import to_snake_case
from glassnet.saving import safety
from glassnet.saving.errors import ModelFileError
from glassnet.saving.model_config import KERAS_VERSION

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Longest list Keras stores in one attribute before splitting it into ``name0``, ``name1``…
#: (``keras/src/legacy/saving/legacy_h5_format.py``).
HDF5_OBJECT_HEADER_LIMIT = 64512


@contextlib.contextmanager
def h5_errors(what: str) -> Iterator[None]:
    """Turns errors raised by h5py while reading ``what`` into ``ModelFileError``."""
    try:
        yield
    except ModelFileError:
        raise
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as error:
        raise ModelFileError(
            f"{what} is damaged or not a model file HDF5 can read: {error}"
        ) from None


def _has_signature(head: bytes) -> bool:
    # The superblock sits at byte 0, or after a user block of 512, 1024, 2048... bytes.
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= len(head):
        if head[offset : offset + len(HDF5_SIGNATURE)] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


@contextlib.contextmanager
def hdf5_plugins_off() -> Iterator[None]:
    """HDF5's plugin search path, empty while glassnet reads a file, given back after.

    A dataset whose filter pipeline names a filter HDF5 does not know makes HDF5 search
    that path (``HDF5_PLUGIN_PATH``, or a system folder) and load every shared library
    there, running its code, before it refuses the data. Nothing in a model file may make
    native code run, so loads read with the path empty; nothing from the file is put back.
    """
    saved = [h5py.h5pl.get(i) for i in range(h5py.h5pl.size())]
    _empty_plugin_path()
    try:
        yield
    finally:
        _empty_plugin_path()
        for folder in saved:
            h5py.h5pl.append(folder)


def _empty_plugin_path() -> None:
    while h5py.h5pl.size():
        h5py.h5pl.remove(0)


def open_h5(source: str | bytes, what: str) -> h5py.File:
    """Opens an HDF5 file (a path, or the bytes of a zip member) for reading.

    Raises:
        ModelFileError: when the data is not HDF5 (for example a text file renamed to
            ``.h5``) or is damaged or truncated.
    """
    if isinstance(source, bytes):
        head = source[: 2**16]
    else:
        with open(source, "rb") as f:
            head = f.read(2**16)
    if not _has_signature(head):
        start = head[:16]
        raise ModelFileError(
            f"{what} is not an HDF5 file: it does not start with the HDF5 signature "
            f"(its first bytes are {start!r}). Was another kind of file renamed?"
        )
    with h5_errors(what):
        return h5py.File(io.BytesIO(source) if isinstance(source, bytes) else source, "r")


def get_group(parent: h5py.Group, path: str, what: str) -> h5py.Group | None:
    """The group at ``path`` under ``parent``, or ``None`` when it is absent.

    Raises:
        ModelFileError: when a part of the path is a link or not a group.
    """
    current = parent
    for part in path.split("/"):
        if not part or part in (".", ".."):
            raise ModelFileError(f"{what}: invalid path {path!r} in the file")
        if part not in current:
            return None
        link = current.get(part, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ModelFileError(
                f"{what}: {path!r} is a {type(link).__name__}; glassnet follows no links in "
                "model files"
            )
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ModelFileError(f"{what}: expected a group at {path!r}, found a dataset")
    return current


def get_dataset(group: h5py.Group, name: str, what: str) -> h5py.Dataset:
    """The dataset ``name`` (which may contain ``/``) under ``group``, checked.

    Raises:
        ModelFileError: when it is missing, a link, external, virtual, not numeric, or
            declares far more bytes than it stores.
    """
    if "/" in name:
        folder, name = name.rsplit("/", 1)
        parent = get_group(group, folder, what)
        if parent is None:
            raise ModelFileError(f"{what}: the weight {folder}/{name} is missing")
        group = parent
    if not name or name not in group:
        raise ModelFileError(f"{what}: the weight {name!r} is missing from {group.name!r}")
    link = group.get(name, getlink=True)
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(
            f"{what}: {name!r} is a {type(link).__name__}; glassnet follows no links"
        )
    dataset = group[name]
    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(f"{what}: expected a dataset at {dataset.name!r}, found a group")
    if dataset.external:
        raise ModelFileError(f"{what}: {dataset.name!r} keeps its data in another file; refused")
    if dataset.is_virtual:
        raise ModelFileError(f"{what}: {dataset.name!r} is a virtual dataset; refused")
    if not _numeric(dataset):
        raise ModelFileError(
            f"{what}: {dataset.name!r} holds {dataset.dtype} values; a weight must hold numbers"
        )
    label = f"{what}: {dataset.name!r}"
    declared = safety.check_shape(dataset.shape, label, dataset.dtype.itemsize)
    safety.check_expansion(declared, dataset.id.get_storage_size(), label)
    if dataset.chunks is not None:  # HDF5 allocates a whole chunk to read any of it
        chunk = math.prod(dataset.chunks) * dataset.dtype.itemsize
        if chunk > max(declared, safety.BOMB_FLOOR_BYTES):
            raise ModelFileError(
                f"{label} is stored in chunks of {chunk:,} bytes for {declared:,} bytes of "
                "data; reading it would allocate a whole chunk, so glassnet refuses it"
            )
    return dataset


def _numeric(dataset: h5py.Dataset) -> bool:
    if dataset.dtype.kind in "fiu" and dataset.dtype.fields is None:
        return True
    return _is_bfloat16(dataset)


def _is_bfloat16(dataset: h5py.Dataset) -> bool:
    # Keras marks bfloat16 data with the attribute dtype="bfloat16" (saving_lib.H5IOStore).
    marker = dataset.attrs.get("dtype") if "dtype" in dataset.attrs else None
    if isinstance(marker, bytes):
        marker = marker.decode("ascii", "replace")
    return marker == "bfloat16" and dataset.dtype.itemsize == 2


def read_array(dataset: h5py.Dataset, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Reads a float weight after checking that its shape is ``shape``.

    bfloat16 data becomes float32; other floats keep their type (the caller casts).

    Raises:
        ModelFileError: when the shape differs or the data is not floating point.
    """
    if tuple(dataset.shape) != tuple(shape):
        raise ModelFileError(
            f"{what}: expected shape {tuple(shape)}, found {tuple(dataset.shape)} "
            f"in {dataset.name!r}"
        )
    if _is_bfloat16(dataset):
        raw = np.asarray(dataset[()]).view(np.uint16).astype(np.uint32) << 16
        return raw.view(np.float32)
    if dataset.dtype.kind != "f":
        raise ModelFileError(f"{what}: {dataset.name!r} holds {dataset.dtype} values, not floats")
    return np.asarray(dataset[()])


def read_int_scalar(dataset: h5py.Dataset, what: str) -> int:
    """Reads a scalar integer such as an optimizer's iteration count."""
    if dataset.shape != () or dataset.dtype.kind not in "iu":
        raise ModelFileError(
            f"{what}: expected a scalar integer, found {dataset.dtype} {dataset.shape}"
        )
    value = int(dataset[()])
    if value < 0:
        raise ModelFileError(f"{what}: the iteration count {value} is negative")
    return value


def _text(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def read_str_attr(obj: h5py.Group, name: str) -> str | None:
    """A string attribute (stored as ``str``, ``bytes`` or a one-element array), or ``None``."""
    if name not in obj.attrs:
        return None
    value = obj.attrs[name]
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ModelFileError(f"attribute {name!r} of {obj.name!r} is not a single string")
        value = value.reshape(()).item()
    return _text(value)


def read_str_list_attr(obj: h5py.Group, name: str) -> list[str] | None:
    """A list-of-strings attribute such as ``layer_names``, or ``None`` when absent.

    Accepts variable- and fixed-length strings, ``bytes`` and ``str``, the empty float64
    array Keras writes for an empty list, and lists split over ``name0``, ``name1``…
    """
    if name in obj.attrs:
        parts = [obj.attrs[name]]
    elif f"{name}0" in obj.attrs:
        parts = []
        while f"{name}{len(parts)}" in obj.attrs:
            parts.append(obj.attrs[f"{name}{len(parts)}"])
    else:
        return None
    items: list[str] = []
    for part in parts:
        array = np.asarray(part)
        if array.size == 0:
            continue
        if array.dtype.kind not in "OSU":
            raise ModelFileError(
                f"attribute {name!r} of {obj.name!r} holds {array.dtype}, not names"
            )
        items.extend(_text(v) for v in array.reshape(-1))
    return items


def write_str_list_attr(group: h5py.Group, name: str, items: list[str]) -> None:
    """Writes a list of names as Keras does, splitting it when it is too long."""
    data = [item.encode("utf8") for item in items]
    if not data:
        group.attrs[name] = np.asarray([])  # Keras writes an empty float64 array
        return
    array = np.asarray(data)
    chunks = 1
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
    else:
        for i, chunk in enumerate(np.array_split(array, chunks)):
            group.attrs[f"{name}{i}"] = chunk


def write_dataset(group: h5py.Group, name: str, value: np.ndarray) -> None:
    """A contiguous, uncompressed dataset, as Keras writes weights."""
    value = np.asarray(value)
    dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
    dataset[()] = value


# --- the layouts ------------------------------------------------------------------------------




def legacy_variables(model, prefix: str) -> list[tuple[str, object, str, tuple[int, ...]]]:
    """``(path, layer, weight name, shape)`` of every weight of a model used as a layer, in
    the order the legacy ``.h5`` layout lists them: Keras's ``model.trainable_weights`` then
    ``model.non_trainable_weights`` (``legacy_h5_format._legacy_weights``), with Keras's
    variable paths (``outer/inner/layer/kernel``). Both lists follow ``model.weights`` (layer
    by layer through nested models); a model whose own ``trainable`` is false lists them
    all as non-trainable, in that order.

    Raises:
        ValueError: for a layer holding weight-carrying layers inside it.
    """
    walked = _legacy_walk(model, prefix)
    if not model.trainable:
        return walked
    return [entry for entry in walked if _trains(entry)] + [
        entry for entry in walked if not _trains(entry)]


def _legacy_walk(model, prefix: str) -> list[tuple[str, object, str, tuple[int, ...]]]:
    """The entries of ``legacy_variables`` in ``model.weights`` order: layer by layer, each
    layer's trainable weights first."""
    refuse_nested_weights(model.layers)
    walked = []
    for layer in model.layers:
        if is_model(layer):
            walked += _legacy_walk(layer, f"{prefix}/{layer.name}")
            continue
        ordered = ([s for s in layer.specs if s.trainable]
                   + [s for s in layer.specs if not s.trainable])
        walked += [(f"{prefix}/{layer.name}/{spec.name}", layer, spec.name, tuple(spec.shape))
                   for spec in ordered]
    return walked


def _trains(entry: tuple) -> bool:
    _, layer, name, _ = entry
    spec = next(s for s in layer.specs if s.name == name)
    return bool(spec.trainable and layer.trainable)


def _legacy_layer_variables(layer, model_name: str) -> list[tuple[str, tuple[int, ...]]]:
    """``(name, shape)`` of each weight a layer's group lists in the legacy layout."""
    if is_model(layer):
        return [(path, shape) for path, _, _, shape in
                legacy_variables(layer, f"{model_name}/{layer.name}")]
    return [(f"{model_name}/{layer.name}/{weight}", shape)
            for weight, shape, _ in layer.own_variable_specs()]


def _legacy_stores(model, arrays: dict) -> list:
    """The stores ``assign`` hands a nested model's layers, from the arrays read for it
    (keyed by layer and weight name), each layer's in its ``own_variable_specs`` order."""
    stores: list = []
    for layer in model.layers:
        if is_model(layer):
            stores.append(_legacy_stores(layer, arrays))
            continue
        store = _Store()
        for i, (name, _, _) in enumerate(layer.own_variable_specs()):
            store[str(i)] = arrays[(id(layer), name)]
        stores.append(store)
    return stores


def refuse_nested_weights(layers) -> None:
    """Refuses layers that hold weight-carrying layers inside them (a layer written as
    ``call`` around a ``Dense``): glassnet's files store one group per layer, so those weights
    would be lost without a word.

    Raises:
        ValueError: naming the outer layer and the inner ones.
    """
    for layer in layers:
        inner = [sub for sub in getattr(layer, "nested_layers", lambda: [])() if sub.specs]
        if inner:
            names = ", ".join(repr(sub.name) for sub in inner)
            raise ValueError(
                f"Layer {layer.name!r} holds layers with weights inside it ({names}); "
                "glassnet's weight files do not store layers nested in a custom layer yet, "
                "so nothing is written. Build the model from those layers directly (a "
                "functional or subclassed model holding them), or keep the weights with "
                "model.get_weights()"
            )


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


class _Store(dict):
    """The ``store`` a layer's ``save_own_variables``/``load_own_variables`` sees: keys
    ``"0"``, ``"1"``… to arrays, as Keras's ``H5Entry`` (``keras/src/saving/saving_lib.py``)."""


def own_values(layer) -> list[np.ndarray]:
    """What ``layer.save_own_variables`` stores, in its order."""
    store = _Store()
    layer.save_own_variables(store)
    return [np.asarray(store[str(i)]) for i in range(len(store))]


def assign(model, stores: list[dict]) -> None:
    """Hands each layer of a built model the variables read for it
    (``layer.load_own_variables``)."""
    for layer, store in zip(model.layers, stores, strict=True):
        if is_model(layer):
            assign(layer, store)
        else:
            layer.load_own_variables(store)


def _check(dataset: h5py.Dataset, variable: tuple, label: str):
    """Checks a dataset against a declared variable; returns what to read."""
    name, shape, kind = variable
    if tuple(dataset.shape) != shape:
        raise ModelFileError(f"{label}: {name} should have shape {shape}; the file's "
                             f"{dataset.name!r} has shape {tuple(dataset.shape)}")
    if kind == "i":  # an integer (Normalization's count): checked, read as a scalar
        if dataset.dtype.kind not in "iu" or shape != ():
            raise ModelFileError(f"{label}: {name} should be an integer, found {dataset.dtype}")
        return dataset, None, f"{label}: {name}"
    return dataset, shape, f"{label}: {name}"


def _read_checked(checked: list) -> dict:
    """The store of one layer: every declared variable, checked first, then read."""
    store = _Store()
    for i, (dataset, shape, what) in enumerate(checked):
        store[str(i)] = (np.asarray(int(dataset[()])) if shape is None
                         else read_array(dataset, shape, what))
    return store


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


def is_model(layer) -> bool:
    """Whether ``layer`` is a model used as a layer (it has layers of its own and no
    variables of its own)."""
    return hasattr(layer, "layers") and not hasattr(layer, "own_variable_specs")


def read_v3_weights(root: h5py.Group, model, what: str, base: str = "") -> list:
    """Every layer's variables (one store per layer of ``model.layers``; for a model used as
    a layer, the list of its layers' stores) from a v3 tree, checked against the planned
    layers' ``own_variable_specs`` before anything is read. ``base`` is the model's group
    (the file's root for the model loaded).

    Raises:
        ModelFileError: for a missing or extra variable, or a wrong shape or type.
    """
    refuse_nested_weights(model.layers)
    return [_read_checked(checked) if not nested else checked
            for nested, checked in _v3_datasets(root, model, what, base)]


def _v3_datasets(root: h5py.Group, model, what: str, base: str) -> list:
    datasets = []
    for layer, paths in zip(model.layers, _stored_groups(model, base), strict=True):
        path = next((p for p in paths if get_group(root, p, what) is not None), paths[0])
        if is_model(layer):  # Keras 3 writes a nested model's layers under its own path
            datasets.append((True, read_v3_weights(root, layer, what, path)))
            continue
        label = f"{what}: layer {layer.name!r} ({type(layer).__name__}, stored at {path})"
        expected = layer.own_variable_specs()
        checked = []
        for sub, count in variable_groups(layer):
            group = get_group(root, f"{path}/{sub}", label)
            names = _numbered(group, label)
            part = expected[len(checked) : len(checked) + count]
            if len(names) != count:
                listed = ", ".join(f"{n} {s}" for n, s, _ in part) or "none"
                raise ModelFileError(f"{label} expects {count} weight arrays in {sub} "
                                     f"({listed}); the file has {len(names)}")
            checked += [_check(get_dataset(group, name, label), variable, label)
                        for variable, name in zip(part, names, strict=True)]
        datasets.append((False, checked))
    return datasets


def variable_groups(layer) -> list[tuple[str, int]]:
    """Where the v3 layout keeps a layer's variables, relative to its group: ``(path,
    count)`` in ``save_own_variables`` order. ``vars`` for most layers; a layer that Keras
    builds from sublayers says where Keras writes them (``LSTM``: its ``cell/vars``)."""
    groups = getattr(layer, "variable_groups", None)
    if groups is None:
        return [("vars", len(layer.own_variable_specs()))]
    return groups()


def _join(base: str, path: str) -> str:
    return f"{base}/{path}" if base else path


def layer_groups(model, base: str = "") -> list[str]:
    """The group of each of ``model.layers`` in the v3 layout, under the model's group
    ``base`` (``""``: the file's root).

    A ``Sequential`` or functional model keeps them in ``layers/<class, numbered>``
    (``v3_paths``). Keras 3 saves a subclassed model's layers where its walk of the model's
    attributes meets each first (``keras/src/saving/saving_lib.py``, ``_walk_saveable``
    and ``_save_container_state``): the public attributes in name order, with the model's
    ``layers`` list among them (``layers/<class, numbered>``), then the private ones; a
    layer held directly is at ``<attribute>``, one in a list or dict at
    ``<attribute>/<class, numbered in it>``.
    """
    numbered = [_join(base, f"layers/{path}") for path in v3_paths(model.layers)]
    if not is_program_model(model):
        return numbered
    held = [(name, value) for name, value in vars(model).items()
            if name not in INTERNAL_ATTRIBUTES and _holds_layers(value)]
    found: dict[int, str] = {}
    for name, value in sorted([*held, ("layers", None)],
                              key=lambda item: f"~{item[0]}" if item[0].startswith("_")
                              else item[0]):
        if name == "layers":
            pairs = zip(model.layers, numbered, strict=True)
        elif isinstance(value, (Layer, Model)):
            pairs = [(value, _join(base, name))]
        else:
            items = [item for item in (value.values() if isinstance(value, dict) else value)
                     if isinstance(item, (Layer, Model))]
            pairs = [(item, _join(base, f"{name}/{path}"))
                     for item, path in zip(items, v3_paths(items), strict=True)]
        for layer, path in pairs:
            found.setdefault(id(layer), path)
    return [found[id(layer)] for layer in model.layers]


def _holds_layers(value) -> bool:
    """Whether an attribute's value is a layer or model, or a list, tuple or dict of some."""
    if isinstance(value, (Layer, Model)):
        return True
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (list, tuple, dict)) and any(
        isinstance(item, (Layer, Model)) for item in items)


def _stored_groups(model, base: str) -> list[list[str]]:
    """Where each of ``model.layers`` may be stored: ``layer_groups`` first, then
    ``layers/<class, numbered>``, where glassnet kept a subclassed model's layers before
    it wrote Keras's places (Keras reads that layout too)."""
    numbered = [_join(base, f"layers/{path}") for path in v3_paths(model.layers)]
    return [[path] if path == old else [path, old]
            for path, old in zip(layer_groups(model, base), numbered, strict=True)]


def v3_optimizer_entries(root: h5py.Group, what: str, limit: int) -> list:
    """``(shape, kind, read)`` of each variable in ``optimizer/vars`` (``[]`` if absent)."""
    group = get_group(root, "optimizer/vars", what)
    if group is None or len(group) > limit:
        return []
    names = _numbered(group, what, limit)
    return [_entry(get_dataset(group, name, what), what) for name in names]


def _entry(dataset: h5py.Dataset, what: str):
    kind = "f" if dataset.dtype.kind == "f" or _is_bfloat16(dataset) else dataset.dtype.kind
    shape = tuple(dataset.shape)
    if kind in "iu":
        return shape, kind, lambda: read_int_scalar(dataset, what)
    return shape, kind, lambda: read_array(dataset, shape, what)


def write_v3_tree(root: h5py.Group, model, optimizer: tuple[str, list] | None) -> None:
    """Writes a model's variables in the v3 layout (``saving_lib._save_state``).

    Args:
        root: the file's root group.
        model: the built model.
        optimizer: ``(name, [(variable name, value), ...])`` of the optimizer's
            variables in Keras's order, or ``None`` to leave them out.
    """
    refuse_nested_weights(model.layers)
    _write_v3_layers(root, model, "")
    if optimizer is not None:
        group = root.create_group("optimizer").create_group("vars")
        group.attrs["name"] = optimizer[0]
        for i, (_, value) in enumerate(optimizer[1]):
            write_dataset(group, str(i), value)
    root.create_group("vars").attrs["name"] = model.name


def _write_v3_layers(root: h5py.Group, model, base: str) -> None:
    """Writes each of ``model.layers`` at its group (``layer_groups``)."""
    for layer, path in zip(model.layers, layer_groups(model, base), strict=True):
        group = root.create_group(path)
        if is_model(layer):  # a nested model: its own vars (none) and its layers under it
            refuse_nested_weights(layer.layers)
            group.create_group("vars").attrs["name"] = layer.name
            _write_v3_layers(root, layer, path)
            continue
        values = own_values(layer)
        start = 0
        for sub, count in variable_groups(layer):
            variables = group.require_group(sub)
            variables.attrs["name"] = layer.name if sub == "vars" else sub.rsplit("/", 2)[0]
            for i, value in enumerate(values[start : start + count]):
                write_dataset(variables, str(i), value)
            start += count


# --- legacy layout ----------------------------------------------------------------------------


def read_legacy_weights(group: h5py.Group, layers, what: str) -> list[dict]:
    """Every layer's variables from a legacy tree, matched by position among the layers
    that have some (one store per layer, checked before anything is read).

    Raises:
        ModelFileError: for a count or shape mismatch, naming the layer.
    """
    refuse_nested_weights(layers)
    names = read_str_list_attr(group, "layer_names")
    if names is None:
        raise ModelFileError(f"{what} has no 'layer_names': it holds no Keras weights")
    if len(names) > safety.MAX_LAYERS:
        raise ModelFileError(f"{what} lists {len(names)} layers; glassnet reads at most "
                             f"{safety.MAX_LAYERS} (glassnet.saving.safety.MAX_LAYERS; raise "
                             "it for a file you trust)")
    stored = []
    for name in names:
        layer_group = get_group(group, name, what)
        if layer_group is None:
            raise ModelFileError(
                f"{what}: the layer group {name!r} listed in layer_names is missing"
            )
        weight_names = read_str_list_attr(layer_group, "weight_names") or []
        if weight_names:
            stored.append((name, layer_group, weight_names))
    expected_of = {id(layer): _legacy_layer_variables(layer, "") for layer in layers}
    weighted = [layer for layer in layers if expected_of[id(layer)]]
    if len(stored) != len(weighted):
        raise ModelFileError(
            f"{what} has weights for {len(stored)} layers ({', '.join(n for n, _, _ in stored)}), "
            f"but the model has {len(weighted)} layers with weights "
            f"({', '.join(layer.name for layer in weighted)})"
        )
    found = {}
    for layer, (name, layer_group, weight_names) in zip(weighted, stored, strict=True):
        label = f"{what}: layer {layer.name!r} (stored as {name!r})"
        if is_model(layer):  # a nested model: one group, all its layers' weights
            expected = [(path.lstrip("/"), shape, "f") for path, shape in expected_of[id(layer)]]
        else:
            expected = layer.own_variable_specs()
        if len(weight_names) != len(expected):
            raise ModelFileError(f"{label} expects {len(expected)} weight arrays; the file lists "
                                 f"{len(weight_names)}: {weight_names}")
        found[id(layer)] = [
            _check(get_dataset(layer_group, stored, label), variable, label)
            for variable, stored in zip(expected, weight_names, strict=True)
        ]
    stores: list = []
    for layer in layers:
        store = _read_checked(found.get(id(layer), []))
        if is_model(layer):
            entries = legacy_variables(layer, "")
            arrays = {(id(leaf), weight): store[str(i)]
                      for i, (_, leaf, weight, _) in enumerate(entries)}
            store = _legacy_stores(layer, arrays)
        stores.append(store)
    return stores


#: Where glassnet's ``.h5`` files keep the optimizer's variables. Keras 3.15, finding an
#: ``optimizer_weights`` group in an ``.h5`` file, builds its optimizer for no variables and
#: then fails in ``fit`` ("Unknown variable"), even for its own files; under this name Keras
#: ignores the state and trains with a fresh optimizer, while glassnet restores it.
GLASSNET_OPTIMIZER_GROUP = "glassnet_optimizer_weights"


def legacy_optimizer_entries(root: h5py.Group, what: str, limit: int) -> list:
    """``(shape, kind, read)`` of each saved optimizer variable of a ``.h5`` model file.

    Reads glassnet's own group if present, else Keras's ``optimizer_weights``.
    """
    group = get_group(root, GLASSNET_OPTIMIZER_GROUP, what)
    if group is None:
        group = get_group(root, "optimizer_weights", what)
    if group is None:
        return []
    names = read_str_list_attr(group, "weight_names") or []
    if len(names) > limit:
        return []
    return [_entry(get_dataset(group, name, what), what) for name in names]


def write_legacy_tree(group: h5py.Group, model) -> None:
    """Writes a model's weights in the legacy layout, as Keras 3's ``.h5`` does."""
    refuse_nested_weights(model.layers)
    write_str_list_attr(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for layer in sorted(model.layers, key=lambda item: item.name):
        layer_group = group.create_group(layer.name)
        if is_model(layer):  # a nested model: its layers' weights under outer/inner/layer
            entries = legacy_variables(layer, f"{model.name}/{layer.name}")
            names = [path for path, _, _, _ in entries]
            values = [leaf.values[weight] for _, leaf, weight, _ in entries]
        else:
            names = [f"{model.name}/{layer.name}/{weight}"
                     for weight, _, _ in layer.own_variable_specs()]
            values = own_values(layer)
        write_str_list_attr(layer_group, "weight_names", names)
        for name, value in zip(names, values, strict=True):
            write_dataset(layer_group, name, value)
    write_str_list_attr(group.create_group("top_level_model_weights"), "weight_names", [])


def write_legacy_optimizer(root: h5py.Group, variables: list) -> None:
    """Writes the optimizer's ``(name, value)`` variables as Keras 3's
    ``optimizer_weights``, but under ``GLASSNET_OPTIMIZER_GROUP`` (see there why)."""
    group = root.create_group(GLASSNET_OPTIMIZER_GROUP)
    write_str_list_attr(group, "weight_names", [name for name, _ in variables])
    for name, value in variables:
        write_dataset(group, name, value)
