"""What a model file may ask for, and how big it may be.

glassnet never executes anything from a model file: no ``import`` or ``getattr`` driven by
a name in the file, no ``eval``/``exec``, no ``pickle``/``marshal``, no JSON object hooks.
A file's model description is checked against a closed allowlist (this module), and every
name in it is then looked up in glassnet's own tables (``glassnet.saving.model_config``).

The checks answer the public reports against Keras's own loader: Lambda bytecode
execution (CVE-2024-3660), arbitrary module import from ``config.json`` (CVE-2025-1550),
safe mode switched off from inside a file (CVE-2025-8747, CVE-2025-9906) and ``.h5``
ignoring safe mode (CVE-2025-9905). See ``docs/model-files.md`` for the full list.

The size limits below are module constants; a program that really needs bigger models
can raise them (``glassnet.saving.safety.MAX_TOTAL_WEIGHT_BYTES = ...``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from glassnet.saving.errors import ModelFileError

#: Largest ``config.json`` / ``model_config`` / ``training_config`` text accepted.
MAX_CONFIG_BYTES = 16 * 2**20
#: Deepest nesting of JSON lists and objects accepted (Keras's own configs reach about 8).
MAX_JSON_DEPTH = 100
#: Most layers a model file may describe.
MAX_LAYERS = 10_000
#: Largest single weight array, in bytes (2 GiB).
MAX_ARRAY_BYTES = 2**31
#: Largest total of all weight arrays of a model, in bytes (4 GiB).
MAX_TOTAL_WEIGHT_BYTES = 2**32
#: Largest dimension of any shape in a file.
MAX_DIMENSION = 2**31 - 1
#: A compressed zip member or HDF5 dataset bigger than this floor must not expand more
#: than ``MAX_EXPANSION`` times its stored size (Keras: ``saving_lib._reject_zip_bomb`` and
#: ``safe_get_h5_dataset``, with a floor of 4 GiB; ours is lower because we also cap sizes).
BOMB_FLOOR_BYTES = 64 * 2**20
MAX_EXPANSION = 100

#: The only ``module`` values a model description may name (exact strings, never prefixes).
ALLOWED_MODULES = frozenset(
    {
        "keras",
        "keras.models",
        "keras.layers",
        "keras.initializers",
        "keras.optimizers",
        "keras.dtype_policies",
        "keras.regularizers",
        "keras.constraints",
        "keras.src.models.functional",  # what Keras 3 writes for a functional model
    }
)
#: The operations Keras 3 writes into a functional model for the masks of
#: ``Embedding(mask_zero=True)`` and ``Masking``, and their module: accepted under that module
#: only, and read as data (``glassnet.engine.mask_ops`` checks their exact form and never
#: makes an object of them; anything else there is refused when the model is rebuilt).
MASK_OPS_MODULE = "keras.src.ops.numpy"
MASK_OPS = frozenset({"NotEqual", "Any"})
#: Object kinds that carry code or Python objects in Keras's serialization
#: (``keras/src/saving/serialization_lib.py``); a model description never needs them.
FORBIDDEN_CLASS_NAMES = frozenset(
    {
        "function",
        "__lambda__",
        "__typespec__",
        "__tensor__",
        "__numpy__",
        "__bytes__",
        "Lambda",
        "TFOpLambda",
        "SlicingOpLambda",
        "TFSMLayer",
    }
)
#: Keys that carry Keras 2 Lambda bytecode (base64 marshal) or passive serialization.
FORBIDDEN_KEYS = frozenset(
    {"__passive_serialization__", "function", "function_type", "output_shape_type",
     "module_objects"}
)


class _NonStandardNumber:
    """Stands in, while a JSON text is parsed, for a NaN or infinity (not JSON numbers), so
    that the refusal can name the key that holds one."""

    def __init__(self, name: str) -> None:
        self.name = name


def _path_of_non_standard(value, path: str = "") -> tuple[str, str] | None:
    """``(key path, constant)`` of the first NaN or infinity in a parsed value."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, _NonStandardNumber):
            return where or "the top level", item.name
        if isinstance(item, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return None


def parse_json(text: str | bytes, what: str):
    """Parses JSON from a model file with size and depth limits, no hooks.

    Args:
        text: the JSON text (``str`` or UTF-8 ``bytes``).
        what: what the text is, for error messages (e.g. ``"config.json of 'm.keras'"``).

    Returns:
        The parsed value (dicts, lists, strings, numbers, booleans and ``None`` only).

    Raises:
        ModelFileError: when the text is too long, not UTF-8, not JSON, or nested too deep.
    """
    if len(text) > MAX_CONFIG_BYTES:
        raise ModelFileError(
            f"{what} is {len(text):,} bytes long; glassnet reads at most {MAX_CONFIG_BYTES:,} "
            "(glassnet.saving.safety.MAX_CONFIG_BYTES; raise it for a file you trust)"
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"{what} is not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_NonStandardNumber)
    except RecursionError:
        raise ModelFileError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ModelFileError(f"{what} is not valid JSON: {error}") from None
    _check_depth(value, what)
    found = _path_of_non_standard(value)
    if found is not None:
        raise ModelFileError(
            f"{what} holds {found[1]} at {found[0]}: NaN and infinities are not JSON numbers "
            "and no setting of a model is one, so the file is refused"
        )
    return value


def _check_depth(value, what: str) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ModelFileError(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def plain_lists(value):
    """Replaces old Keras 2 encodings of tuples and shapes by plain lists.

    Old tf.keras files write ``{"class_name": "__tuple__", "items": [...]}`` and
    ``{"class_name": "TensorShape", "items": [...]}`` (``tf_keras/saving/legacy/
    saved_model/json_utils.py``); they mean a plain list here.
    """
    if isinstance(value, list):
        return [plain_lists(v) for v in value]
    if isinstance(value, dict):
        if value.get("class_name") in ("__tuple__", "TensorShape") and "items" in value:
            return [plain_lists(v) for v in value["items"]]
        return {k: plain_lists(v) for k, v in value.items()}
    return value


def check_description(value, where: str, trusted: Callable[[dict], bool] | None = None) -> None:
    """Refuses a model description that names code, modules or custom objects.

    Walks every object of the description (not the compile information, which is only
    matched against glassnet's tables) and refuses: a ``module`` outside
    ``ALLOWED_MODULES``; a non-null ``registered_name`` (a custom object registered by user
    code); a ``class_name`` in ``FORBIDDEN_CLASS_NAMES``; a key in ``FORBIDDEN_KEYS``.

    Args:
        value: the parsed description.
        where: the file, for error messages.
        trusted: says of an object that it is a model of a class the running program
            registered or passed in ``custom_objects``; such an object, and everything in
            it, is left to that class (as a subclassed model saved whole is).

    Raises:
        ModelFileError: naming the offending class, module or key and its place.
    """
    stack = [(value, "model")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
            continue
        if not isinstance(item, dict) or (trusted is not None and trusted(item)):
            continue
        class_name = item.get("class_name")
        label = f"the object at {path}" + (
            f" (class {class_name!r})" if isinstance(class_name, str) else "")
        if isinstance(class_name, str) and class_name in FORBIDDEN_CLASS_NAMES:
            raise ModelFileError(_code_message(class_name, path, where))
        if class_name == "__keras_tensor__" and ".inbound_nodes[" not in path:
            # A symbolic tensor is data (shape, dtype, the layer that made it), read only as
            # an argument of a functional model's node.
            raise ModelFileError(_code_message(class_name, path, where))
        bad_keys = sorted(FORBIDDEN_KEYS.intersection(item))
        if bad_keys:
            raise ModelFileError(
                f"{where}: {label} has the key {bad_keys[0]!r}, which carries Python code or "
                "objects; glassnet never runs code from a model file, so it refuses this file"
            )
        module = item.get("module", "keras")
        if (not isinstance(module, str) or module not in ALLOWED_MODULES) and not (
                module == MASK_OPS_MODULE and class_name in MASK_OPS):
            raise ModelFileError(
                f"{where}: {label} names the module {module!r}. glassnet imports "
                "nothing named in a file and accepts only Keras's own modules: "
                f"{', '.join(sorted(ALLOWED_MODULES))}"
            )
        if item.get("registered_name") is not None and item["registered_name"] != class_name:
            raise ModelFileError(
                f"{where}: {label} is a custom object registered as "
                f"{item['registered_name']!r}. glassnet loads only its built-in classes and "
                "never runs code from a model file"
            )
        stack.extend((v, f"{path}.{k}") for k, v in item.items() if isinstance(v, (dict, list)))


def _code_message(class_name: str, path: str, where: str) -> str:
    if class_name in ("Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__"):
        why = "it holds Python code"
    elif class_name == "TFSMLayer":
        why = "it runs a TensorFlow SavedModel"
    else:
        why = "it stands for a Python object or function"
    return (
        f"{where}: the object at {path} is a {class_name!r}, which glassnet refuses because {why}. "
        "glassnet never runs code from a model file (there is no unsafe mode); rebuild the "
        "model without it, for example with an Activation layer or a built-in activation"
    )


def check_shape(shape, what: str, itemsize: int = 4) -> int:
    """Checks a weight shape against the size limits and returns its number of bytes.

    Args:
        shape: a tuple of ints.
        what: the weight, for error messages.
        itemsize: bytes per value.

    Raises:
        ModelFileError: when a dimension is not a sensible integer or the array would be
            larger than ``MAX_ARRAY_BYTES``.
    """
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim <= MAX_DIMENSION:
            raise ModelFileError(f"{what} has an impossible shape {tuple(shape)}")
    nbytes = math.prod(shape) * itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise ModelFileError(
            f"{what} would take {nbytes:,} bytes (shape {tuple(shape)}); glassnet allows at most "
            f"{MAX_ARRAY_BYTES:,} bytes per array (glassnet.saving.safety.MAX_ARRAY_BYTES)"
        )
    return nbytes


def check_total(nbytes: int, what: str) -> None:
    """Refuses a model whose weights together exceed ``MAX_TOTAL_WEIGHT_BYTES``."""
    if nbytes > MAX_TOTAL_WEIGHT_BYTES:
        raise ModelFileError(
            f"{what} describes weights of {nbytes:,} bytes in all; glassnet allows at most "
            f"{MAX_TOTAL_WEIGHT_BYTES:,} (glassnet.saving.safety.MAX_TOTAL_WEIGHT_BYTES)"
        )


def check_expansion(declared: int, stored: int, what: str) -> None:
    """Refuses data that declares far more bytes than it stores (a zip or shape bomb)."""
    if declared > BOMB_FLOOR_BYTES and declared > MAX_EXPANSION * stored:
        raise ModelFileError(
            f"{what} declares {declared:,} bytes but stores only {stored:,}; glassnet refuses "
            "it as a possible decompression or shape bomb"
        )
