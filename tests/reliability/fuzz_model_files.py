"""Fuzzing glassnet's model-file readers with mutated real ``.keras`` and ``.h5`` files.

Every case takes a real model file (written by glassnet, by Keras 3 or by tf.keras 2, from
``tests/fixtures/keras``), applies one to four mutations drawn by hypothesis, and hands the
result to one of glassnet's readers (``load_model`` with or without compile,
``load_weights``, ``model_from_json``). The mutations work at every level of the file:

* bytes: bit flips, overwritten, inserted, deleted or zeroed ranges, truncation;
* zip entries: removed, renamed, duplicated, replaced (by random bytes, another member, a
  pickle), added, recompressed, sizes forged in the headers, member bytes mutated and
  re-zipped with a valid CRC (which is how damaged HDF5 reaches the reader inside a zip);
* HDF5, through h5py: nodes deleted, renamed or replaced by links (soft, external, cycles),
  datasets replaced by other shapes and dtypes (text, compound, opaque, complex, huge
  declared shapes stored as nothing), external storage, attributes deleted or set to
  arbitrary values;
* JSON (``config.json``, ``metadata.json``, ``model_config``, ``training_config``,
  ``glassnet_state``): any value replaced by another of any type, keys deleted or added, and
  targeted edits: ``Lambda`` layers with real marshalled bytecode, module paths, custom
  registered names, huge and negative shapes, quantized dtypes, hostile compile settings.

A case passes when the reader either loads a model that then predicts without error, or
raises ``ModelFileError``. It fails on any other exception, on a crash of the process
(readers run in a separate worker process), on a hang (more than ``CASE_CPU_S`` seconds of
CPU time in the worker, a limit the kernel enforces, or no answer at all for ``DEADLOCK_S``
seconds: a guard against a reader that waits forever), on a memory
blow-up (``tracemalloc`` peak per case, and an address-space limit on the worker) and on
any sign of code execution: the worker's ``sys.path`` holds a planted module
``glassnet_fuzz_marker`` whose import creates a marker file, mutations name it (as a
module, a registered class, a loss, in pickles and in marshalled bytecode), and an audit
hook reports imports of it, unpickling, ``marshal.loads``, ``exec``/``compile`` and
process creation while a case runs.

From pytest (``tests/reliability/test_fuzz_model_files.py``) a few hundred cases run and
the first failure is shrunk and reported. From the command line::

    python tests/reliability/fuzz_model_files.py --cases 10000
    python tests/reliability/fuzz_model_files.py --atheris -runs=20000   # if atheris installs

runs until the count is reached, collecting every failure (``--save-failures DIR`` keeps
the failing files), and prints a summary.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import dataclasses
import io
import json
import marshal
import math
import os
import pickle
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "keras"
MARKER_MODULE = "glassnet_fuzz_marker"
#: CPU seconds one case may use in the worker before it counts as a hang (``RLIMIT_CPU``:
#: the kernel stops the worker with SIGXCPU). CPU time, unlike the time on the clock, does
#: not grow when other processes share the machine; the slowest real case takes 0.4 s.
CASE_CPU_S = 20.0
#: Seconds without an answer before a case counts as a hang all the same: only a reader
#: that waits without computing (a deadlock) gets there, so this is a guard, not a limit.
DEADLOCK_S = 300.0
#: Seconds ``glassnet.saving.files`` gives a forked rehearsal before it refuses the file
#: as one on which HDF5 loops (60 s by default). Either answer passes a case: a slower
#: machine only turns more loads into refusals, so a short limit keeps such cases cheap.
REHEARSAL_TIMEOUT_S = 5.0
#: Most bytes Python may hold at once during one case (``tracemalloc`` peak).
CASE_PEAK_BYTES = 256 * 2**20
#: Address space the worker may add after start-up (a hard limit: allocation fails beyond).
WORKER_HEADROOM_BYTES = 2 * 2**30

# ---------------------------------------------------------------------------------------
# Seed files
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Seed:
    """A real model file to mutate.

    Attributes:
        path: the file.
        kind: ``"keras"``, ``"h5"``, ``"weights"`` (a weights-only ``.h5``) or ``"json"``
            (a model description as ``to_json`` writes it).
        arch: a complete model file with the same architecture (for ``load_weights``).
    """

    path: Path
    kind: str
    arch: Path


def _suffix(path: Path) -> str:
    return ".weights.h5" if path.name.endswith(".weights.h5") else path.suffix


def _glassnet_models(folder: Path) -> list[Seed]:
    """Small glassnet models with every layer kind, trained, saved in every format."""
    from glassnet.layers import (
        Activation,
        BatchNormalization,
        Dense,
        Dropout,
        Flatten,
        Input,
        Normalization,
        Reshape,
    )
    from glassnet.models import Sequential
    from glassnet.utils import set_random_seed

    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    norm = Normalization()
    norm.adapt(x)
    models = {
        "gn_dense": (
            Sequential(
                [Input(shape=(4,)), Dense(5, activation="relu"), Dropout(0.2, seed=3), Dense(2)]
            ),
            "adam",
            "mse",
        ),
        "gn_every_layer": (
            Sequential(
                [
                    Input(shape=(4,)),
                    norm,
                    Dense(4, kernel_regularizer="l2"),
                    BatchNormalization(),
                    Activation("tanh"),
                    Reshape((2, 2)),
                    Flatten(),
                    Dropout(0.1),
                    Dense(3, activation="softmax"),
                ]
            ),
            "rmsprop",
            "categorical_crossentropy",
        ),
    }
    seeds = []
    for stem, (model, optimizer, loss) in models.items():
        model.compile(optimizer=optimizer, loss=loss, metrics=["mae"])
        model.build()
        y = np.eye(model.output_shape[-1], dtype=np.float32)[rng.integers(0, 2, 32)]
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        arch = folder / f"{stem}.keras"
        model.save(arch)
        model.save(folder / f"{stem}.h5")
        model.save_weights(folder / f"{stem}.weights.h5")
        (folder / f"{stem}.json").write_text(model.to_json())
        seeds += [
            Seed(arch, "keras", arch),
            Seed(folder / f"{stem}.h5", "h5", arch),
            Seed(folder / f"{stem}.weights.h5", "weights", arch),
            Seed(folder / f"{stem}.json", "json", arch),
        ]
    return seeds


def _fixture_seeds() -> list[Seed]:
    """The Keras-written fixtures (Keras 3.15 and tf.keras 2.21) and glassnet's own."""
    seeds = []
    for folder in (FIXTURES, FIXTURES / "own"):
        for meta_path in sorted(folder.glob("*.json")):
            files = [folder / name for name in json.loads(meta_path.read_text())["files"]]
            full = [f for f in files if not f.name.endswith(("weights.h5",))]
            if not full:
                continue
            arch = full[0]
            for path in files:
                if path.name.endswith("weights.h5"):
                    seeds.append(Seed(path, "weights", arch))
                else:
                    seeds.append(Seed(path, "keras" if path.suffix == ".keras" else "h5", arch))
    return seeds


def make_seeds(folder: Path) -> list[Seed]:
    """Every seed file: glassnet-made ones (written to ``folder``) and the fixtures."""
    return _glassnet_models(folder) + _fixture_seeds()


# ---------------------------------------------------------------------------------------
# Planted code: what a reader must never run
# ---------------------------------------------------------------------------------------


class _ImportMarker:
    """Unpickling this imports the planted module (which creates the marker file)."""

    def __reduce__(self):
        return (__import__, (MARKER_MODULE,))


def plant_marker_module(folder: Path, marker_file: Path) -> None:
    """Writes ``glassnet_fuzz_marker.py``: importing it creates ``marker_file``."""
    (folder / f"{MARKER_MODULE}.py").write_text(
        f"open({str(marker_file)!r}, 'w').close()\n"
        "def boom(*args, **kwargs):\n"
        f"    open({str(marker_file)!r}, 'w').close()\n"
        "class Boom:\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        boom()\n"
    )


def lambda_bytecode() -> str:
    """A Keras 2 ``Lambda`` function: base64 marshal of code that imports the marker."""
    code = compile(f"__import__({MARKER_MODULE!r})", "<lambda>", "eval")
    return base64.b64encode(marshal.dumps(code)).decode("ascii")


PICKLE_PAYLOAD = pickle.dumps(_ImportMarker())


def hostile_values() -> list:
    """JSON values that would run code (or import the marker) if a reader resolved them."""
    marker_object = {
        "module": MARKER_MODULE,
        "class_name": "Boom",
        "config": {},
        "registered_name": f"{MARKER_MODULE}>Boom",
    }
    return [
        marker_object,
        {
            "module": "builtins",
            "class_name": "function",
            "config": "eval",
            "registered_name": "function",
        },
        {
            "module": MARKER_MODULE,
            "class_name": "function",
            "config": "boom",
            "registered_name": None,
        },
        {
            "class_name": "__lambda__",
            "config": {"code": lambda_bytecode(), "defaults": None, "closure": None},
        },
        {"class_name": f"{MARKER_MODULE}.Boom", "config": {}},
        {"class_name": "Custom>Boom", "config": {}, "module": MARKER_MODULE},
        f"{MARKER_MODULE}.boom",
        f"{MARKER_MODULE}>boom",
        MARKER_MODULE,
        PICKLE_PAYLOAD.decode("latin-1"),
        [lambda_bytecode(), None, None],
    ]


# ---------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------

#: Values that are interesting in any config: types, limits, hostile names.
SPECIAL_NUMBERS = [
    0,
    -1,
    1,
    2,
    3,
    2**31 - 1,
    2**31,
    2**32,
    2**40,
    2**63,
    -(2**63),
    10**30,
    1e308,
    -0.0,
    0.5,
    1.0,
    1.5,
    True,
    False,
    None,
    "8",
    "",
    [],
    {},
]
CLASS_NAMES = [
    "Lambda",
    "TFOpLambda",
    "SlicingOpLambda",
    "TFSMLayer",
    "Functional",
    "Model",
    "Conv2D",
    "function",
    "__lambda__",
    "__typespec__",
    "__tensor__",
    "__numpy__",
    "__bytes__",
    "__keras_tensor__",
    "__tuple__",
    "TensorShape",
    "InputLayer",
    "Dense",
    "Dropout",
    "Activation",
    "BatchNormalization",
    "Normalization",
    "Reshape",
    "Flatten",
    "Sequential",
    "DTypePolicy",
    "QuantizedDTypePolicy",
    "Custom>Adam",
    "Adam",
]
DTYPE_NAMES = [
    "int8_from_float32",
    "int4",
    "float8_e4m3",
    "float16",
    "bfloat16",
    "mixed_bfloat16",
    "float64",
    "float32",
    "object",
    "string",
]
ACTIVATION_NAMES = [
    "hard_sigmoid",
    "sparsemax",
    "relu",
    "softmax",
    "glu",
    "gelu",
    "selu",
    "Relu",
    "relu ",
    "eval",
    "exec",
    "os.system",
]
MODULE_NAMES = [
    "os",
    "builtins",
    "__main__",
    "subprocess",
    "keras",
    "keras.layers",
    "keras.src.layers",
    "keras.models",
    "keras.src.saving",
    "numpy",
    "pickle",
]
OTHER_NAMES = [
    "sgd",
    "mse",
    "accuracy",
    "dense",
    "dense/kernel:0",
    "../../etc",
    "a" * 5000,
    "\x00",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
]
SPECIAL_NAMES = CLASS_NAMES + DTYPE_NAMES + ACTIVATION_NAMES + MODULE_NAMES + OTHER_NAMES
SPECIAL_KEYS = [
    "class_name",
    "config",
    "module",
    "registered_name",
    "build_config",
    "layers",
    "units",
    "activation",
    "batch_shape",
    "batch_input_shape",
    "input_shape",
    "dtype",
    "name",
    "function",
    "function_type",
    "output_shape_type",
    "__passive_serialization__",
    "module_objects",
    "quantization_config",
    "lora_rank",
    "target_shape",
    "axis",
    "mean",
    "variance",
    "rate",
    "seed",
    "random_state",
    "bit_generator",
    "state",
    "optimizer",
    "loss",
    "metrics",
    "learning_rate",
    "iterations",
    "shared_object_id",
    "items",
    "keras_version",
]
FILE_NAMES = [
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "model.weights.npz",
    "assets/x.txt",
    "../config.json",
    "/config.json",
    "CONFIG.JSON",
    "config.json/",
    "model.weights.h5\x00",
]
H5_DTYPES = [
    "f2",
    "f4",
    "f8",
    "i1",
    "i4",
    "i8",
    "u8",
    "?",
    "c8",
    "S5",
    "str",
    "compound",
    "opaque",
    "bfloat16",
]
EXTENSIONS = [".keras", ".h5", ".hdf5", ".weights.h5", ".json", ".txt"]
READERS = ["load_model", "load_model_uncompiled", "load_weights", "model_from_json"]


def json_values(marker_values: list) -> st.SearchStrategy:
    """Any JSON value, biased towards the values a config reader must be careful with."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from(SPECIAL_NUMBERS),
        st.sampled_from(SPECIAL_NAMES),
        st.sampled_from(marker_values),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(SPECIAL_KEYS) | st.text(max_size=8), inner, max_size=4),
        ),
        max_leaves=12,
    )


def byte_ops() -> st.SearchStrategy:
    """Edits of raw bytes; positions are fractions of the length."""
    where = st.floats(0, 1, exclude_max=True)
    return st.one_of(
        st.tuples(
            st.just("flip"), st.lists(st.tuples(where, st.integers(0, 7)), min_size=1, max_size=16)
        ),
        st.tuples(st.just("set"), where, st.binary(min_size=1, max_size=16)),
        st.tuples(st.just("truncate"), where),
        st.tuples(st.just("delete"), where, st.integers(1, 4096)),
        st.tuples(st.just("insert"), where, st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("zero"), where, st.integers(1, 4096)),
        st.tuples(st.just("ones"), where, st.integers(1, 64)),
        st.tuples(st.just("repeat"), where, st.integers(1, 512), where),
    )


def mutation_ops(marker_values: list) -> st.SearchStrategy:
    """One mutation of a file, at any of its levels."""
    values = json_values(marker_values)
    index = st.integers(0, 10**6)
    json_op = st.one_of(
        st.tuples(st.just("json_replace"), index, values),
        st.tuples(st.just("json_delete"), index),
        st.tuples(st.just("json_add"), index, st.sampled_from(SPECIAL_KEYS), values),
        st.tuples(st.just("json_template"), index, index),
        st.tuples(st.just("json_text"), byte_ops()),
    )
    h5_op = st.one_of(
        st.tuples(st.just("h5_delete"), index),
        st.tuples(
            st.just("h5_rename"),
            index,
            st.sampled_from(["0", "1", "2", "9", "vars", "x", "layers", "dense", "a/b"]),
        ),
        st.tuples(
            st.just("h5_dataset"),
            index,
            st.sampled_from(H5_DTYPES),
            st.lists(st.integers(0, 9), max_size=3),
            st.sampled_from(["zeros", "nan", "inf", "random"]),
        ),
        st.tuples(st.just("h5_bomb"), index, st.integers(20, 45)),
        st.tuples(
            st.just("h5_link"),
            index,
            st.sampled_from(["soft", "soft_self", "external", "hard_parent", "dangling"]),
        ),
        st.tuples(st.just("h5_external_storage"), index),
        st.tuples(
            st.just("h5_attr"),
            index,
            st.sampled_from(
                [
                    "layer_names",
                    "weight_names",
                    "model_config",
                    "training_config",
                    "keras_version",
                    "backend",
                    "glassnet_state",
                    "name",
                    "layer_names0",
                    "dtype",
                ]
            ),
            st.one_of(
                values.map(json.dumps),
                st.lists(st.text(max_size=12), max_size=5),
                st.integers(),
                st.floats(),
                st.binary(max_size=32),
                st.lists(st.integers(-5, 5), max_size=5),
            ),
        ),
        st.tuples(st.just("h5_attr_delete"), index),
    )
    zip_op = st.one_of(
        st.tuples(st.just("zip_remove"), index),
        st.tuples(st.just("zip_rename"), index, st.sampled_from(FILE_NAMES)),
        st.tuples(
            st.just("zip_replace"),
            index,
            st.sampled_from(["empty", "random", "other", "pickle", "text", "npz_pickle"]),
        ),
        st.tuples(st.just("zip_duplicate"), index),
        st.tuples(st.just("zip_add"), st.sampled_from(FILE_NAMES), st.binary(max_size=64)),
        st.tuples(st.just("zip_compress"), st.sampled_from(["deflated", "bzip2", "lzma"])),
        st.tuples(st.just("zip_member_bytes"), index, byte_ops()),
        st.tuples(
            st.just("zip_forge_size"), index, st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 65536])
        ),
    )
    return st.one_of(
        json_op,
        h5_op,
        zip_op,
        byte_ops().map(lambda op: ("bytes", op)),
        st.tuples(st.just("extension"), st.sampled_from(EXTENSIONS)),
    )


def cases(n_seeds: int, marker_values: list) -> st.SearchStrategy:
    """A fuzz case: a seed file, a reader and the mutations to apply in order."""
    return st.fixed_dictionaries(
        {
            "seed": st.integers(0, n_seeds - 1),
            "reader": st.sampled_from(READERS),
            "ops": st.lists(mutation_ops(marker_values), min_size=1, max_size=4),
        }
    )


class Skip(Exception):
    """A mutation that does not apply to this file (for example a zip edit of an HDF5 file)."""


def apply_bytes(data: bytes, op: tuple) -> bytes:
    """Applies one ``byte_ops()`` edit."""
    if not data:
        return data
    kind, n = op[0], len(data)

    def at(fraction: float) -> int:
        return min(int(fraction * n), n - 1)

    out = bytearray(data)
    if kind == "flip":
        for fraction, bit in op[1]:
            out[at(fraction)] ^= 1 << bit
    elif kind == "set":
        start = at(op[1])
        out[start : start + len(op[2])] = op[2]
    elif kind == "truncate":
        del out[at(op[1]) :]
    elif kind == "delete":
        del out[at(op[1]) : at(op[1]) + op[2]]
    elif kind == "insert":
        out[at(op[1]) : at(op[1])] = op[2]
    elif kind == "zero":
        start = at(op[1])
        out[start : start + op[2]] = bytes(len(out[start : start + op[2]]))
    elif kind == "ones":
        start = at(op[1])
        out[start : start + op[2]] = b"\xff" * len(out[start : start + op[2]])
    elif kind == "repeat":
        start = at(op[1])
        chunk = data[start : start + op[2]]
        out[at(op[3]) : at(op[3])] = chunk
    return bytes(out)


# --- JSON -------------------------------------------------------------------------------


def _json_slots(value) -> list[tuple]:
    """Every (container, key) in a JSON tree, in a fixed order."""
    slots, stack = [], [value]
    while stack:
        item = stack.pop()
        pairs = (
            item.items()
            if isinstance(item, dict)
            else enumerate(item)
            if isinstance(item, list)
            else ()
        )
        for key, child in pairs:
            slots.append((item, key))
            if isinstance(child, (dict, list)):
                stack.append(child)
    return slots


def _containers(value, kind=dict) -> list:
    return [value] * isinstance(value, kind) + [
        container[key] for container, key in _json_slots(value) if isinstance(container[key], kind)
    ]


def _template(description, which: int, param: int, marker_values: list) -> None:
    """Targeted edits of a model description, chosen by ``which`` and varied by ``param``.

    Each edit puts a value a reader must handle with care where it matters: into a layer's
    config (``target``) or into an object's envelope (``entry``, which holds
    ``class_name``, ``module`` and ``config``).
    """
    dicts = _containers(description)
    entries = [d for d in dicts if isinstance(d.get("config"), dict) and "class_name" in d]
    targets = [d["config"] for d in entries] or dicts
    entries = entries or dicts
    target, entry = targets[param % len(targets)], entries[param % len(entries)]

    def pick(values: list):
        return values[param % len(values)]

    number, marker = pick(SPECIAL_NUMBERS), pick(marker_values)
    depth = 90 + param % 20  # around MAX_JSON_DEPTH (100)
    edits = [
        lambda: target.update(units=number),
        lambda: target.update(batch_shape=[None, number]),
        lambda: target.update(batch_input_shape=[None] + [number] * (param % 4)),
        lambda: target.update(target_shape=[number, -1]),
        lambda: target.update(rate=number, seed=number),
        lambda: target.update(
            axis=number, mean=[number] * (param % 5), variance=[number] * (param % 3)
        ),
        lambda: target.update(activation=marker if param % 2 else pick(ACTIVATION_NAMES)),
        lambda: target.update(dtype=pick(DTYPE_NAMES)),
        lambda: entry.update(class_name=pick(CLASS_NAMES)),
        lambda: entry.update(module=pick(MODULE_NAMES) if param % 3 else MARKER_MODULE),
        lambda: entry.update(registered_name=f"{MARKER_MODULE}>Boom"),
        lambda: entry.update(marker if isinstance(marker, dict) else {"config": marker}),
        lambda: target.update(
            function=[lambda_bytecode(), None, None], function_type="lambda", module=MARKER_MODULE
        ),
        lambda: target.update(optimizer=marker, loss=marker, metrics=[marker]),
        lambda: target.update(learning_rate=marker if param % 2 else number),
        lambda: target.update(random_state={"shuffle": {"bit_generator": marker, "state": number}}),
        lambda: target.update(layers=[] if param % 2 else target.get("layers", [])[:1] * 50),
        lambda: target.update(nested=json.loads("[" * depth + "]" * depth)),
    ]
    edits[which % len(edits)]()


def apply_json(value, op: tuple, marker_values: list):
    """Applies one JSON edit to a parsed JSON value; returns the new value."""
    kind = op[0]
    slots = _json_slots(value)
    if kind == "json_replace":
        if not slots:
            return op[2]
        container, key = slots[op[1] % len(slots)]
        container[key] = op[2]
    elif kind == "json_delete":
        if not slots:
            raise Skip
        container, key = slots[op[1] % len(slots)]
        del container[key]
    elif kind == "json_add":
        dicts = _containers(value)
        if not dicts:
            raise Skip
        dicts[op[1] % len(dicts)][op[2]] = op[3]
    elif kind == "json_template":
        _template(value, op[1], op[2], marker_values)
    return value


def mutate_json_text(text: bytes, op: tuple, marker_values: list) -> bytes:
    """Applies a JSON edit (or a byte edit of the text) to JSON bytes."""
    if op[0] == "json_text":
        return apply_bytes(text, op[1])
    try:
        value = json.loads(text)
    except ValueError:
        raise Skip from None
    return json.dumps(apply_json(value, op, marker_values)).encode("utf-8", "surrogatepass")


# --- HDF5 -------------------------------------------------------------------------------


def _h5_nodes(f: h5py.File) -> list[str]:
    names = []
    f.visit_links(names.append)
    return sorted(names)


def _h5_data(dtype: str, shape: tuple, fill: str) -> np.ndarray:
    rng = np.random.default_rng(len(shape))
    if dtype == "str":
        return np.array(["text"] * int(np.prod(shape)), dtype=h5py.string_dtype()).reshape(shape)
    if dtype == "compound":
        return np.zeros(shape, dtype=[("a", "f4"), ("b", "i4")])
    if dtype == "opaque":
        return (
            np.frombuffer(PICKLE_PAYLOAD.ljust(64, b"\0")[:64], dtype="V64")
            .repeat(int(np.prod(shape)))
            .reshape(shape)
        )
    if dtype == "bfloat16":
        return np.zeros(shape, dtype="u2")
    values = {
        "zeros": np.zeros(shape),
        "nan": np.full(shape, np.nan),
        "inf": np.full(shape, np.inf),
        "random": rng.normal(size=shape) * 1e3,
    }[fill]
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


def apply_h5(f: h5py.File, op: tuple) -> None:
    """Applies one HDF5 edit to a file open for writing."""
    kind = op[0]
    nodes = _h5_nodes(f)
    objects = ["/", *nodes]
    if kind == "h5_attr_delete":
        owners = [name for name in objects if name in f and len(f[name].attrs)]
        if not owners:
            raise Skip
        attrs = f[owners[op[1] % len(owners)]].attrs
        del attrs[sorted(attrs)[op[1] % len(attrs)]]
        return
    if kind == "h5_attr":
        owners = [name for name in objects if name in f]
        value = op[3]
        if isinstance(value, list) and value and isinstance(value[0], str):
            value = [v.encode("utf-8", "surrogatepass") for v in value]
        elif isinstance(value, str):
            value = value.encode("utf-8", "surrogatepass")
        elif isinstance(value, bytes):
            value = np.void(value) if value else b""
        f[owners[op[1] % len(owners)]].attrs[op[2]] = value
        return
    if not nodes:
        raise Skip
    name = nodes[op[1] % len(nodes)]
    parent_name, _, leaf = name.rpartition("/")
    parent = f[parent_name or "/"]
    if kind == "h5_delete":
        del parent[leaf]
    elif kind == "h5_rename":
        if op[2] in parent:
            del parent[op[2]]
        parent.move(leaf, op[2])
    elif kind == "h5_dataset":
        shape = tuple(op[3])
        if leaf in parent:
            del parent[leaf]
        parent.create_dataset(leaf, data=_h5_data(op[2], shape, op[4]))
    elif kind == "h5_bomb":
        if leaf in parent:
            del parent[leaf]
        size = 2 ** op[2]
        parent.create_dataset(
            leaf, shape=(size,), dtype="f4", chunks=(min(size, 2**16),), compression="gzip"
        )
    elif kind == "h5_link":
        if leaf in parent:
            del parent[leaf]
        link = {
            "soft": h5py.SoftLink("/" + nodes[(op[1] + 1) % len(nodes)]),
            "soft_self": h5py.SoftLink("/" + name),
            "external": h5py.ExternalLink("/etc/passwd", "/x"),
            "dangling": h5py.SoftLink("/does/not/exist"),
            "hard_parent": None,
        }[op[2]]
        if link is None:
            parent[leaf] = parent  # a hard link cycle
        else:
            parent[leaf] = link
    elif kind == "h5_external_storage":
        if leaf in parent:
            del parent[leaf]
        parent.create_dataset(leaf, shape=(4,), dtype="f4", external=[("/etc/hostname", 0, 16)])


def mutate_h5_bytes(data: bytes, op: tuple) -> bytes:
    """Applies an HDF5 edit to the bytes of an HDF5 file."""
    buffer = io.BytesIO(data)
    try:
        f = h5py.File(buffer, "r+")
    except OSError:
        raise Skip from None
    try:
        apply_h5(f, op)
    except (KeyError, ValueError, TypeError, OSError, RuntimeError):
        raise Skip from None
    finally:
        with contextlib.suppress(Exception):
            f.close()
    return buffer.getvalue()


def mutate_h5_json_attr(data: bytes, op: tuple, marker_values: list) -> bytes:
    """Applies a JSON edit to a JSON attribute of an HDF5 file (``model_config``...)."""
    buffer = io.BytesIO(data)
    try:
        with h5py.File(buffer, "r+") as f:
            names = [
                n for n in ("model_config", "training_config", "glassnet_state") if n in f.attrs
            ]
            if not names:
                raise Skip
            name = names[(op[1] if isinstance(op[1], int) else 0) % len(names)]
            text = f.attrs[name]
            text = text.encode() if isinstance(text, str) else bytes(text)
            f.attrs[name] = mutate_json_text(text, op, marker_values)
    except (OSError, KeyError, TypeError, ValueError):
        raise Skip from None
    return buffer.getvalue()


# --- zip --------------------------------------------------------------------------------


def _read_zip(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(info, archive.read(info)) for info in archive.infolist()]
    except Exception:  # a zip damaged by an earlier byte edit: nothing to edit by entry
        raise Skip from None


def _write_zip(members: list[tuple[str, bytes]], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are wanted
        for name, content in members:
            with contextlib.suppress(ValueError, IndexError):  # a name zipfile cannot write
                archive.writestr(name, content)
    return buffer.getvalue()


def _npz_pickle() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.array([_ImportMarker()], dtype=object))
    return buffer.getvalue()


def mutate_zip(data: bytes, op: tuple, marker_values: list) -> bytes:
    """Applies a zip edit (or an edit of one member's content) to a ``.keras`` file."""
    kind = op[0]
    if kind == "zip_forge_size":
        out = bytearray(data)
        spots = [i for i in range(len(out) - 4) if out[i : i + 4] in (b"PK\x01\x02", b"PK\x03\x04")]
        if not spots:
            raise Skip
        spot = spots[op[1] % len(spots)]
        offset = 24 if out[spot + 2] == 1 else 22  # uncompressed size (central / local header)
        out[spot + offset : spot + offset + 4] = struct.pack("<I", op[2])
        return bytes(out)
    members = [(info.filename, content) for info, content in _read_zip(data)]
    if kind == "zip_compress":
        method = {
            "deflated": zipfile.ZIP_DEFLATED,
            "bzip2": zipfile.ZIP_BZIP2,
            "lzma": zipfile.ZIP_LZMA,
        }[op[1]]
        return _write_zip(members, method)
    if kind == "zip_add":
        return _write_zip([*members, (op[1], op[2])])
    if not members:
        raise Skip
    i = op[1] % len(members)
    name, content = members[i]
    if kind == "zip_remove":
        del members[i]
    elif kind == "zip_rename":
        members[i] = (op[2], content)
    elif kind == "zip_duplicate":
        members.append((name, content))
    elif kind == "zip_replace":
        replacement = {
            "empty": b"",
            "random": os.urandom(len(content) % 4096 + 1),
            "other": members[(i + 1) % len(members)][1],
            "pickle": PICKLE_PAYLOAD,
            "text": b"not a model\n",
            "npz_pickle": _npz_pickle(),
        }[op[2]]
        members[i] = (name, replacement)
    elif kind == "zip_member_bytes":
        members[i] = (name, apply_bytes(content, op[2]))
    return _write_zip(members)


def _keras_member(data: bytes, name: str, edit) -> bytes:
    members = [(info.filename, content) for info, content in _read_zip(data)]
    for i, (member, content) in enumerate(members):
        if member == name:
            members[i] = (member, edit(content))
            return _write_zip(members)
    raise Skip


def mutate(data: bytes, kind: str, op: tuple, marker_values: list) -> bytes:
    """Applies one mutation op to a file of ``kind``; raises ``Skip`` when it does not apply."""
    family = op[0].split("_")[0]
    if family == "bytes":
        return apply_bytes(data, op[1])
    if family == "json":
        if kind == "json":
            return mutate_json_text(data, op, marker_values)
        if kind == "keras":
            member = (
                "metadata.json" if isinstance(op[1], int) and op[1] % 5 == 0 else ("config.json")
            )
            return _keras_member(data, member, lambda c: mutate_json_text(c, op, marker_values))
        if kind == "h5":
            return mutate_h5_json_attr(data, op, marker_values)
        raise Skip
    if family == "h5":
        if kind == "keras":
            return _keras_member(data, "model.weights.h5", lambda c: mutate_h5_bytes(c, op))
        if kind in ("h5", "weights"):
            return mutate_h5_bytes(data, op)
        raise Skip
    if family == "zip":
        if kind != "keras":
            raise Skip
        return mutate_zip(data, op, marker_values)
    raise Skip


_DAMAGING = ("bytes", "zip_member_bytes", "zip_forge_size")


def build_case_file(
    seed: Seed, case: dict, folder: Path, marker_values: list, number: int
) -> tuple[Path, list]:
    """Writes the mutated file of a case; returns its path and the ops that applied."""
    data = seed.path.read_bytes()
    suffix = _suffix(seed.path)
    applied = []
    # Edits that parse the file (with h5py, zipfile, json) come before edits that damage
    # its bytes, so that this process only ever parses well-formed files.
    for op in sorted(case["ops"], key=lambda op: op[0] in _DAMAGING):
        if op[0] == "extension":
            suffix = op[1]
            applied.append(op)
            continue
        try:
            data = mutate(data, seed.kind, op, marker_values)
        except Skip:
            continue
        applied.append(op)
    path = folder / f"case{number % 2}{suffix}"
    path.write_bytes(data)
    return path, applied


# ---------------------------------------------------------------------------------------
# The worker process: runs readers, reports what happened
# ---------------------------------------------------------------------------------------

#: Audit events that mean a reader ran code or started something it never should.
FORBIDDEN_EVENTS = frozenset(
    {
        "pickle.find_class",
        "marshal.loads",
        "exec",
        "compile",
        "os.system",
        "subprocess.Popen",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.startfile",
        "ctypes.dlopen",
        "socket.connect",
        "builtins.input",
        "code.__new__",
        "function.__new__",
    }
)


#: Readers that misbehave on purpose, for the tests of the fuzzer itself.
SELF_TEST_READERS = {
    "crash": lambda: os.kill(os.getpid(), signal.SIGSEGV),
    "hang": lambda: time.sleep(3600),
    "spin": lambda: _spin(),
    "import_marker": lambda: __import__(MARKER_MODULE),
}


def _spin() -> None:
    """Computes forever (a reader that loops)."""
    while True:
        pass


def _cpu_seconds() -> float:
    """The CPU time this process has used, user and system (POSIX)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _inspect_signature_parse(source) -> bool:
    """Whether a ``compile`` audit event is ``inspect.signature`` parsing a C function's
    text signature (``ast.parse("def foo(...): pass")``): harmless, it runs nothing."""
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else str(source)
    return text.startswith("def foo(") and text.endswith("): pass") and "\n" not in text


def _peak_resident() -> int:
    """The process's peak resident memory in bytes (Linux ``VmHWM``; 0 elsewhere)."""
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak_resident() -> int:
    """Resets the peak resident memory to the current one and returns it (Linux)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _peak_resident()


def _worker() -> None:  # pragma: no cover - runs in the worker process
    """Answers requests on stdin, one JSON line each, with one JSON line on stdout."""
    import faulthandler
    import resource
    import traceback
    import tracemalloc

    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    faulthandler.enable()

    from glassnet.models import load_model, model_from_json
    from glassnet.saving import ModelFileError, files

    # A damaged file can make the HDF5 library loop; glassnet gives up on it after
    # files.TIMEOUT_S (60 s by default) and refuses it.
    files.TIMEOUT_S = REHEARSAL_TIMEOUT_S
    # Going over a case's CPU limit (SIGXCPU) ends the worker, without a core file.
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))

    seen: list[str] = []
    armed = [False]

    def audit(event, args):
        if not armed[0]:
            return
        if event == "import" and str(args[0]).split(".")[0] == MARKER_MODULE:
            seen.append(f"import {args[0]}")
        elif event == "compile" and _inspect_signature_parse(args[0]):
            return
        elif event in FORBIDDEN_EVENTS:
            seen.append(f"{event} {str(args)[:200]}")
        elif event == "import" and args[0] not in sys.modules:
            seen.append(f"new import {args[0]}")

    architectures: dict[str, object] = {}

    def run(request: dict) -> dict:
        path, reader = request["path"], request["reader"]
        if reader in SELF_TEST_READERS:  # show that the detectors fire
            SELF_TEST_READERS[reader]()
        if reader == "model_from_json":
            with open(path, "rb") as f:
                text = f.read()
            model = model_from_json(text)
        elif reader == "load_weights":
            arch = request["arch"]
            if arch not in architectures:
                architectures[arch] = load_model(arch, compile=True)
            model = architectures[arch]
            model.load_weights(path)
        else:
            model = load_model(path, compile=reader == "load_model")
        shape = (2, *model.input_shape)
        output = model.predict(np.zeros(shape, dtype=np.float32), verbose=0)
        if output.shape[0] != 2:
            raise AssertionError(f"predict returned shape {output.shape} for 2 rows")
        return {"outcome": "loaded"}

    def one(request: dict) -> dict:
        del seen[:]
        tracemalloc.reset_peak()
        resident = _reset_peak_resident()
        cpu = _cpu_seconds()
        limits = resource.getrlimit(resource.RLIMIT_CPU)
        if request.get("cpu_s"):  # counted from what the worker has used so far
            soft = math.ceil(cpu + request["cpu_s"])
            if limits[1] != resource.RLIM_INFINITY:
                soft = min(soft, limits[1])
            resource.setrlimit(resource.RLIMIT_CPU, (soft, limits[1]))
        result: dict
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            armed[0] = True
            try:
                result = run(request)
            except ModelFileError as error:
                result = {"outcome": "refused", "message": str(error)[:300]}
            except BaseException as error:
                armed[0] = False  # formatting a traceback compiles source lines
                result = {
                    "outcome": "error",
                    "type": type(error).__name__,
                    "message": str(error)[:500],
                    "traceback": traceback.format_exc()[-3000:],
                }
            finally:
                armed[0] = False
                resource.setrlimit(resource.RLIMIT_CPU, limits)
        result["cpu"] = _cpu_seconds() - cpu
        result["peak"] = tracemalloc.get_traced_memory()[1]
        result["resident_growth"] = _peak_resident() - resident
        result["events"] = list(seen)
        result["warnings"] = sorted({w.category.__name__ for w in caught})
        return result

    # Warm up: every lazy import of glassnet, h5py and numpy happens before the audit hook
    # starts watching.
    rehearsing, files.ENABLED = files.ENABLED, False  # warm-up files are intact
    for request in json.loads(sys.stdin.readline()):
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run(request)
    files.ENABLED = rehearsing
    sys.addaudithook(audit)
    tracemalloc.start()
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + WORKER_HEADROOM_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    protocol.write("ready\n")
    for line in sys.stdin:
        protocol.write(json.dumps(one(json.loads(line))) + "\n")


class Worker:
    """A worker process that runs readers on request, restarted after a crash or hang.

    Args:
        folder: its working folder (holding the planted module, on its ``sys.path``) and
            where its log ``worker.log`` goes.
        warmup: requests to run before the audit hook and the memory limit are switched
            on, so that lazy imports and first-call allocations happen then.
    """

    def __init__(self, folder: Path, warmup: list[dict]) -> None:
        self.folder = folder
        self.warmup = warmup
        self.process: subprocess.Popen | None = None
        self.log = folder / "worker.log"
        self.starts = 0

    def start(self) -> None:
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(
                [str(self.folder), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
            ),
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        log = open(self.log, "ab")  # noqa: SIM115 - the worker holds it for its whole life
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=self.folder,
            text=True,
            bufsize=1,
        )
        log.close()
        self.starts += 1
        self.process.stdin.write(json.dumps(self.warmup) + "\n")
        if self._read(300.0) != "ready":
            raise RuntimeError(
                f"the fuzz worker did not start; see {self.log}:\n" + self.log.read_text()[-3000:]
            )

    def _read(self, timeout: float) -> str | None:
        """The worker's next line; ``""`` when it has died, ``None`` when it is silent."""
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        return self.process.stdout.readline().strip()

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            self.process = None

    def run(self, request: dict, timeout: float) -> dict:
        """Runs one request; a dead or silent worker becomes a ``crash`` or ``hang``.

        Args:
            request: what to read; ``request["cpu_s"]``, if given, is the most CPU time the
                read may use (the worker is stopped beyond it, and the case is a hang).
            timeout: seconds to wait for an answer before the case is a hang anyway (a
                guard against a worker that waits without computing).
        """
        if self.process is None:
            self.start()
        started = time.monotonic()
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self._read(timeout)
        except (BrokenPipeError, OSError):
            line = ""
        elapsed = time.monotonic() - started
        if line:
            result = json.loads(line)
            result["seconds"] = elapsed
            return result
        if line == "":  # the pipe closed: the worker is dying
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        alive = self.process.poll() is None
        code = self.process.returncode
        self.stop()
        if alive:
            return {
                "outcome": "hang",
                "message": f"no answer within {timeout} s",
                "seconds": elapsed,
            }
        if code == -signal.SIGXCPU:
            return {
                "outcome": "hang",
                "seconds": elapsed,
                "message": f"used more than {request.get('cpu_s')} s of CPU time",
            }
        name = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
        tail = self.log.read_text(errors="replace")[-2500:]
        return {
            "outcome": "crash",
            "message": f"the worker died ({name})",
            "traceback": tail,
            "seconds": elapsed,
        }


# ---------------------------------------------------------------------------------------
# The fuzzer
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Failure:
    """A case that neither loaded nor was refused with ModelFileError."""

    number: int
    seed: str
    reader: str
    ops: list
    result: dict
    saved: str | None = None

    def describe(self) -> str:
        lines = [
            f"case {self.number}: {self.result['outcome']} reading {self.seed} with "
            f"{self.reader} after {self.ops!r:.600}",
            f"  {self.result.get('type', '')}: {self.result.get('message', '')}",
        ]
        if self.result.get("events"):
            lines.append(f"  code execution signs: {self.result['events']}")
        if self.saved:
            lines.append(f"  file kept as {self.saved}")
        if self.result.get("traceback"):
            lines.append("  " + self.result["traceback"].replace("\n", "\n  "))
        return "\n".join(lines)


class FuzzFailure(AssertionError):
    """Raised inside hypothesis so that it shrinks the failing case."""


class Fuzzer:
    """Seeds, a worker, and the bookkeeping of one fuzzing run.

    Args:
        folder: an empty folder for the seeds, the cases and the planted module.
        timeout: seconds without an answer before a case counts as a hang (a guard
            against a deadlock; ``cpu_limit`` is what catches a reader that loops).
        cpu_limit: CPU seconds a case may use before it counts as a hang.
        peak_limit: the most Python memory (``tracemalloc`` peak) a case may use.
        save_failures: a folder to copy failing files into, with a description each.
    """

    def __init__(
        self,
        folder: Path,
        timeout: float = DEADLOCK_S,
        cpu_limit: float = CASE_CPU_S,
        peak_limit: int = CASE_PEAK_BYTES,
        save_failures: Path | None = None,
    ) -> None:
        self.folder = folder
        self.timeout = timeout
        self.cpu_limit = cpu_limit
        self.peak_limit = peak_limit
        self.save_failures = save_failures
        self.marker_file = folder / "CODE_WAS_EXECUTED"
        plant_marker_module(folder, self.marker_file)
        self.marker_values = hostile_values()
        self.seeds = make_seeds(folder)
        self.cases_dir = folder / "cases"
        self.cases_dir.mkdir()
        warmup = [
            self._request(seed, seed.path, reader) for seed in self.seeds for reader in READERS
        ]
        self.worker = Worker(folder, warmup)
        self.count = 0
        self.outcomes: collections.Counter = collections.Counter()
        #: Refusals that only the rehearsal in a forked process made possible.
        self.caught: collections.Counter = collections.Counter()
        self.ops_applied: collections.Counter = collections.Counter()
        self.failures: list[Failure] = []
        self.slowest = 0.0
        self.most_cpu = 0.0
        self.largest_peak = 0
        self.largest_growth = 0

    @staticmethod
    def _request(seed: Seed, path: Path, reader: str) -> dict:
        if reader == "model_from_json" and seed.kind != "json":
            reader = "load_model"
        if seed.kind == "json" and reader != "model_from_json":
            reader = "model_from_json"
        if seed.kind == "weights":
            reader = "load_weights"
        return {"path": str(path), "reader": reader, "arch": str(seed.arch)}

    def run_case(self, case: dict) -> Failure | None:
        """Builds, loads and judges one case.

        Args:
            case: a value drawn from ``cases()``.

        Returns:
            The failure, or ``None`` when the file loaded or was refused cleanly.
        """
        self.count += 1
        seed = self.seeds[case["seed"]]
        path, applied = build_case_file(seed, case, self.cases_dir, self.marker_values, self.count)
        for op in applied:
            self.ops_applied[op[0] if op[0] != "bytes" else "bytes_" + op[1][0]] += 1
        request = self._request(seed, path, case["reader"])
        result = self.worker.run({**request, "cpu_s": self.cpu_limit}, self.timeout)
        self.slowest = max(self.slowest, result.get("seconds", 0.0))
        self.most_cpu = max(self.most_cpu, result.get("cpu", 0.0))
        self.largest_peak = max(self.largest_peak, result.get("peak", 0))
        self.largest_growth = max(self.largest_growth, result.get("resident_growth", 0))
        outcome = result["outcome"]
        if outcome in ("loaded", "refused"):
            if result.get("events"):
                outcome = "code"
            elif self.marker_file.exists():
                outcome = "code"
                result["events"] = ["the marker file was created"]
            elif max(result.get("peak", 0), result.get("resident_growth", 0)) > self.peak_limit:
                outcome = "memory"
                result["message"] = (
                    f"peak Python memory {result['peak']:,} bytes, resident "
                    f"memory grew by {result['resident_growth']:,} bytes"
                )
            result["outcome"] = outcome
        self.outcomes[outcome] += 1
        if outcome == "refused":
            message = result.get("message", "")
            if "crashed the HDF5 library" in message:
                self.caught["HDF5 crash"] += 1
            elif "the HDF5 library loops" in message:
                self.caught["HDF5 endless loop"] += 1
            elif "memory allocation failed" in message or "bytes of memory" in message:
                self.caught["HDF5 memory blow-up"] += 1
        if outcome in ("loaded", "refused"):
            return None
        failure = Failure(
            self.count,
            str(seed.path.relative_to(ROOT) if seed.path.is_relative_to(ROOT) else seed.path.name),
            request["reader"],
            applied,
            result,
        )
        if self.save_failures is not None:
            self.save_failures.mkdir(parents=True, exist_ok=True)
            kept = self.save_failures / f"failure{self.count}{path.name[5:]}"
            shutil.copyfile(path, kept)
            (kept.parent / (kept.name + ".txt")).write_text(failure.describe())
            failure.saved = str(kept)
        self.marker_file.unlink(missing_ok=True)
        self.failures.append(failure)
        return failure

    def run(self, cases_wanted: int, seed: int, keep_going: bool, shrink: bool = False) -> None:
        """Runs ``cases_wanted`` hypothesis-generated cases.

        Args:
            cases_wanted: how many cases to run.
            seed: hypothesis's seed, so that a run can be repeated.
            keep_going: record failures and go on (command line), instead of raising the
                first one for hypothesis to shrink (pytest).
            shrink: let hypothesis shrink a failing case (pytest).
        """
        phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]

        @hypothesis_seed(seed)
        @settings(
            max_examples=cases_wanted,
            deadline=None,
            database=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        )
        @given(case=cases(len(self.seeds), self.marker_values))
        def one(case):
            failure = self.run_case(case)
            if failure is not None and not keep_going:
                raise FuzzFailure(failure.describe())

        try:
            one()
        finally:
            self.worker.stop()

    def summary(self, seconds: float) -> str:
        """Counts, outcomes, mutations applied and the first failures, as text."""
        lines = [
            f"{self.count} cases in {seconds:.0f} s with {len(self.seeds)} seed files "
            f"({self.worker.starts} worker starts)",
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            "refused after a rehearsal in a forked process: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.caught.items())) or "none"),
            f"slowest case {self.slowest:.2f} s, most CPU time in a case "
            f"{self.most_cpu:.2f} s, largest Python peak "
            f"{self.largest_peak / 2**20:.1f} MiB, largest growth of resident memory "
            f"{self.largest_growth / 2**20:.1f} MiB",
            "mutations applied: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.ops_applied.items())),
            f"failures: {len(self.failures)}",
        ]
        lines += [failure.describe() for failure in self.failures[:20]]
        return "\n".join(lines)


def run_atheris(argv: list[str]) -> None:  # pragma: no cover - opt-in, needs atheris
    """Coverage-guided byte fuzzing with atheris (libFuzzer), in-process.

    The corpus starts from the seed files; each input's first byte picks the file type.
    Any exception other than ``ModelFileError``, and any crash, ends the run as libFuzzer
    does and leaves the input as ``crash-*`` in the working folder.
    """
    import atheris

    with atheris.instrument_imports(include=["glassnet"]):
        import glassnet.saving  # noqa: F401
    folder = Path(tempfile.mkdtemp(prefix="glassnet-atheris-"))
    seeds = [s for s in make_seeds(folder) if s.kind in ("keras", "h5")]
    corpus = folder / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(bytes([seed.kind == "h5"]) + seed.path.read_bytes())
    from glassnet.models import load_model
    from glassnet.saving import ModelFileError, files

    files.TIMEOUT_S = 5.0  # a file on which HDF5 loops is refused after 5 s
    warnings.simplefilter("ignore")
    targets = [folder / "input.keras", folder / "input.h5"]

    def test_one_input(data: bytes) -> None:
        if not data:
            return
        target = targets[data[0] & 1]
        target.write_bytes(data[1:])
        with contextlib.suppress(ModelFileError):
            load_model(target)

    atheris.Setup([sys.argv[0], *argv, str(corpus)], test_one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    """The command line: ``--cases N`` hypothesis cases, or ``--atheris`` libFuzzer args."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="number of cases (1000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (0)")
    parser.add_argument(
        "--cpu-limit",
        type=float,
        default=CASE_CPU_S,
        help=f"CPU seconds per case before it counts as a hang ({CASE_CPU_S})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEADLOCK_S,
        help=f"seconds without an answer before a case counts as a hang ({DEADLOCK_S})",
    )
    parser.add_argument("--save-failures", type=Path, help="folder to keep failing files in")
    parser.add_argument(
        "--atheris",
        action="store_true",
        help="run atheris instead; other arguments go to libFuzzer",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.worker:
        _worker()
        return 0
    if args.atheris:
        run_atheris(rest)
        return 0
    if rest:
        parser.error(f"unknown arguments: {rest}")
    with tempfile.TemporaryDirectory(prefix="glassnet-fuzz-") as tmp:
        fuzzer = Fuzzer(
            Path(tmp),
            timeout=args.timeout,
            cpu_limit=args.cpu_limit,
            save_failures=args.save_failures,
        )
        started = time.monotonic()
        fuzzer.run(args.cases, args.seed, keep_going=True)
        print(fuzzer.summary(time.monotonic() - started))
        return 1 if fuzzer.failures else 0


if __name__ == "__main__":
    sys.exit(main())
