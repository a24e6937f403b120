"""The ``.keras`` format: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``.

Written as Keras 3 writes it (``keras/src/saving/saving_lib.py``, ``save_model``): the
three members in that order, stored uncompressed. Read by exact member name into memory,
never extracted, with size limits checked against the zip directory before reading
(``_safe_zip_read`` there). A folder holding the same three files also loads, as in Keras.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import stat
import zipfile
import zlib

import h5py

from glassnet.saving import safety
from glassnet.saving.compile_config import compile_parts, keras_compile_config
from glassnet.saving.config_values import ReadContext
from glassnet.saving.errors import ModelFileError
from glassnet.saving.files import atomic_write
from glassnet.saving.model_config import (
    KERAS_VERSION,
    emit_warnings,
    keras_major,
    model_description,
    model_from_description,
)
from glassnet.saving.training_state import (
    STATE_KEY,
    glassnet_state,
    load_into,
    optimizer_variables,
)
from glassnet.saving.weights import (
    HDF5_SIGNATURE,
    h5_errors,
    open_h5,
    read_v3_weights,
    v3_optimizer_entries,
    write_v3_tree,
)

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
_METADATA_LIMIT = 2**20
try:
    from lzma import LZMAError  # a damaged LZMA-compressed member
except ImportError:  # Python built without lzma: zipfile cannot open such members at all
    LZMAError = zipfile.BadZipFile
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, LZMAError, EOFError, OSError,
               NotImplementedError, RuntimeError, ValueError)


def _weights_limit() -> int:
    return safety.MAX_TOTAL_WEIGHT_BYTES + 64 * 2**20  # weights plus HDF5 bookkeeping


# --- writing ----------------------------------------------------------------------------------


def weights_bytes(model, include_optimizer: bool) -> bytes:
    """The bytes of a v3 weights file (``model.weights.h5`` or a ``.weights.h5``)."""
    buffer = io.BytesIO()
    optimizer = None
    if include_optimizer and model.get_compile_config():
        optimizer = (model.optimizer.name, optimizer_variables(model))
    with h5py.File(buffer, "w") as f:
        write_v3_tree(f, model, optimizer)
    return buffer.getvalue()


def save_keras(model, path: str, include_optimizer: bool = True) -> None:
    """Writes ``model`` to ``path`` as a ``.keras`` zip, atomically."""
    warnings_found: list[str] = []
    description = model_description(model)
    parts = compile_parts(model, for_h5=False, warn=warnings_found.append)
    description["compile_config"] = keras_compile_config(parts)
    metadata = {
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        STATE_KEY: glassnet_state(model),
    }
    weights = weights_bytes(model, include_optimizer and parts is not None)
    with atomic_write(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata))
        archive.writestr(CONFIG, json.dumps(description))
        archive.writestr(WEIGHTS, weights)
    emit_warnings(ReadContext(repr(path), warnings=[f"{path!r}: {w}" for w in warnings_found]))


# --- reading ----------------------------------------------------------------------------------


def _read_member(archive: zipfile.ZipFile, name: str, limit: int, where: str) -> bytes:
    info = archive.getinfo(name)
    what = f"{where}: member {name!r}"
    if info.file_size > limit:
        raise ModelFileError(
            f"{what} is {info.file_size:,} bytes; glassnet reads at most {limit:,}"
        )
    safety.check_expansion(info.file_size, info.compress_size, what)
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{what} holds more than its declared size; refused")
    return data


def _hint(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head == HDF5_SIGNATURE:
        return " It is an HDF5 file: rename it to .h5 to load it as a legacy Keras model."
    return ""


def read_members(path: str, where: str, need_config: bool = True) -> dict[str, bytes]:
    """The members glassnet reads from a ``.keras`` zip (or folder), by exact name.

    Raises:
        ModelFileError: for a damaged or truncated zip, a missing member, or a member
            larger than the limits in ``glassnet.saving.safety``.
    """
    wanted = {CONFIG: safety.MAX_CONFIG_BYTES, METADATA: _METADATA_LIMIT, WEIGHTS: _weights_limit()}
    if os.path.isdir(path):
        members = _read_folder(path, wanted, where)
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                for name in wanted:
                    if names.count(name) > 1:
                        raise ModelFileError(f"{where} holds {name!r} twice; refused")
                members = {name: _read_member(archive, name, limit, where)
                           for name, limit in wanted.items() if name in names}
        except ModelFileError:
            raise
        except _ZIP_ERRORS as error:
            raise ModelFileError(
                f"{where} is not a valid .keras file: it is damaged, truncated or not a zip "
                f"archive ({error}).{_hint(path)}"
            ) from None
    if need_config and CONFIG not in members:
        held = ", ".join(sorted(members)) or "none of the model files"
        raise ModelFileError(f"{where} has no {CONFIG}, so it is not a Keras model file "
                             f"(it holds: {held})")
    if WEIGHTS not in members:
        other = " (model.weights.npz is not supported)" if _has_npz(path) else ""
        raise ModelFileError(f"{where} has no {WEIGHTS}{other}")
    return members


def _has_npz(path: str) -> bool:
    if os.path.isdir(path):
        return os.path.exists(os.path.join(path, "model.weights.npz"))
    try:
        with zipfile.ZipFile(path) as archive:
            return "model.weights.npz" in archive.namelist()
    except _ZIP_ERRORS:
        return False


def _read_folder(path: str, wanted: dict[str, int], where: str) -> dict[str, bytes]:
    members = {}
    for name, limit in wanted.items():
        member = os.path.join(path, name)
        try:
            info = os.lstat(member)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{where}: {name} is not a regular file (links are not followed)")
        if info.st_size > limit:
            raise ModelFileError(
                f"{where}: {name} is {info.st_size:,} bytes; the limit is {limit:,}"
            )
        with open(member, "rb") as f:
            # read(n) sets aside n bytes first: ask for the size just checked, plus one
            # byte to notice a file that grew since.
            members[name] = f.read(info.st_size + 1)
        if len(members[name]) > limit:
            raise ModelFileError(f"{where}: {name} grew beyond {limit:,} bytes while read")
    return members


def load_keras(path: str, compile: bool = True):
    """A glassnet Sequential from a ``.keras`` file (Keras 3, tf.keras 2 or glassnet)."""
    where = repr(path)
    members = read_members(path, where)
    metadata = {}
    if METADATA in members:
        parsed = safety.parse_json(members[METADATA], f"{METADATA} of {where}")
        metadata = parsed if isinstance(parsed, dict) else {}
    version = metadata.get("keras_version")
    ctx = ReadContext(where, keras_major(version if isinstance(version, str) else None))
    description = safety.parse_json(members[CONFIG], f"{CONFIG} of {where}")
    model = model_from_description(description, ctx)
    compile_config = description.get("compile_config") if isinstance(description, dict) else None
    compile_info = None
    if compile and isinstance(compile_config, dict) and compile_config:
        compile_info = compile_config
    what = f"{WEIGHTS} of {where}"
    with open_h5(members.pop(WEIGHTS), what) as weights_file:
        load_into(model, ctx, lambda: read_v3_weights(weights_file, model, what),
                  compile_info,
                  lambda limit: v3_optimizer_entries(weights_file, what, limit),
                  metadata.get(STATE_KEY), lambda: h5_errors(what))
    emit_warnings(ctx)
    return model
