"""Careful HDF5 access: open, walk and read only what a model file should hold.

Every group and dataset is reached through ``get_group``/``get_dataset``, which refuse
soft and external links, external and virtual datasets, non-numeric data and "shape
bombs" (a dataset declaring far more bytes than it stores), as Keras 3.15 does in
``keras/src/saving/saving_lib.py`` (``safe_get_h5_group``, ``safe_get_h5_dataset``).
A dataset's shape is compared with the expected shape *before* its data is read, so a
crafted file cannot make glassnet allocate more than the model it describes.

Errors from h5py itself are turned into ``ModelFileError`` by ``h5_errors``.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator

import h5py
import numpy as np

from glassnet.saving import safety
from glassnet.saving.errors import ModelFileError

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
