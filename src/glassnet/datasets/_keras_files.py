"""What the Keras dataset loaders share: the public folder they download from, reading
``.npz`` and CIFAR pickle files without running code, and Keras's splits.

Keras keeps ragged sequences (IMDB, Reuters) as object arrays inside ``.npz`` files and CIFAR
as Python pickles, both of which NumPy and ``pickle`` would happily use to run arbitrary code
from a tampered file. Here they are read with ``RestrictedUnpickler``, which builds only what
those files need: NumPy arrays and dtypes (besides the lists, dicts, numbers and byte strings
that pickle makes without any global), and refuses every other global by name. This mirrors
``keras/src/datasets/npz_utils.py``.
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

#: Where Keras's own datasets are published (``keras/src/datasets/*.py``).
ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and nothing else that needs a global."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to deserialize `{module}.{name}` while loading a dataset. The file may "
            "be corrupted or malicious."
        )


def _read_npy(buffer: io.BytesIO) -> np.ndarray:
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:  # an object array: its data is a pickle after the header
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        if major == 1:
            np.lib.format.read_array_header_1_0(buffer)
        elif major in (2, 3):
            np.lib.format.read_array_header_2_0(buffer)
        else:
            raise ValueError(f"Unsupported .npy format version {major}") from None
        return RestrictedUnpickler(buffer).load()


def load_npz(path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, object arrays rebuilt by ``RestrictedUnpickler``."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[: -len(".npy")]] = _read_npy(io.BytesIO(raw.read()))
    return arrays


def load_cifar_batch(fpath, label_key: str = "labels") -> tuple[np.ndarray, list]:
    """One CIFAR python-format batch: ``data`` as ``(n, 3, 32, 32)`` uint8 and its labels."""
    with open(fpath, "rb") as f:
        d = RestrictedUnpickler(f, encoding="bytes").load()
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = np.asarray(d["data"])
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def remove_long_seq(maxlen: int, seq, label):
    """Keeps the sequences shorter than ``maxlen`` (strictly, as Keras does) and their labels."""
    kept = [(x, y) for x, y in zip(seq, label, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def check_test_split(test_split) -> None:
    if not (0 <= test_split < 1):
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. "
            "It must be between 0 and 1 (exclusive of 1)."
        )


def shuffled_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int):
    """Keras's shuffle (``np.random.RandomState(seed)``) then split at
    ``int(len(x) * (1 - test_split))``."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def index_sequences(xs, start_char, index_from):
    """Keras's word-index shift for IMDB and Reuters: ``start_char`` first, then each word
    index plus ``index_from``."""
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    else:
        xs = [list(x) for x in xs]
    return xs


def cut_vocabulary(xs, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or are dropped)."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(rows: list) -> np.ndarray:
    """A 1-D object array of lists (``np.array(rows, dtype=object)`` would make a 2-D array
    when every list has the same length)."""
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = row
    return out
