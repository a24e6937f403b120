"""Registering the user's own classes and functions by name, as ``keras.utils`` does
(``keras/src/saving/object_registration.py``, ``serialization_lib.py``):
``register_keras_serializable``, ``get_custom_objects``, ``custom_object_scope`` /
``CustomObjectScope``, ``get_registered_name``, ``get_registered_object``,
``serialize_keras_object`` and ``deserialize_keras_object``.

These are Python-side tools: a program registers its classes, then turns objects into
configs and back within Python. They import nothing and run nothing a config names: a class
is found only among the objects the program itself registered or passed in. glassnet's
model files (``glassnet.saving``) consult it for one thing only: the class of a subclassed
model, saved whole or used as a layer of another model, which the running program itself
registered (or passed to ``load_model`` in ``custom_objects``). Layers in files stay within
glassnet's own allowlist, and nothing a file names is ever imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: Objects registered with ``register_keras_serializable``, by their registered name.
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
#: The registered name of each registered object.
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_SCOPES = threading.local()


def _scope_stack() -> list[dict]:
    if not hasattr(_SCOPES, "stack"):
        _SCOPES.stack = []
    return _SCOPES.stack


def get_custom_objects() -> dict:
    """The global dict of registered objects (name -> object). Editing it registers or
    removes objects, as in Keras; prefer ``register_keras_serializable``."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """A decorator that registers a class or function under ``"package>name"``
    (``name`` defaults to the object's ``__name__``). A class must have ``get_config``.

    Raises:
        ValueError: when ``package`` contains ``>`` or the name is taken by another object.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"`package` must be a string without '>'. Received: package={package!r}")

    def decorator(obj):
        registered = f"{package}>{name if name is not None else obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        if registered in _GLOBAL_CUSTOM_OBJECTS and _GLOBAL_CUSTOM_OBJECTS[registered] is not obj:
            raise ValueError(f"{registered} has already been registered to another object")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` was registered under, else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(
    name: str, custom_objects: dict | None = None, module_objects: dict | None = None
):
    """The object registered as ``name``: looked up in the open ``custom_object_scope``s
    (innermost first), the global registry, then ``custom_objects`` and ``module_objects``;
    None when none has it."""
    for scope in reversed(_scope_stack()):
        if name in scope:
            return scope[name]
    for table in (_GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


class CustomObjectScope:
    """A ``with`` block inside which the given objects resolve by name
    (``with custom_object_scope({"MyLayer": MyLayer}): ...``)."""

    def __init__(self, custom_objects: dict | None) -> None:
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise TypeError(
                f"`custom_objects` must be a dict. Received: {type(custom_objects).__name__}"
            )
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self) -> CustomObjectScope:
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc_info) -> None:
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def serialize_keras_object(obj) -> Any:
    """``obj`` as Keras's serialized form: plain values as they are, tuples and lists item
    by item, an object with ``get_config`` as ``{"module", "class_name", "config",
    "registered_name"}``, a registered function by its registered name."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        if isinstance(obj, tuple):
            return {"class_name": "__tuple__", "config": {"value": items}}
        return items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, type) or callable(obj) and not hasattr(obj, "get_config"):
        if getattr(obj, "__name__", None) == "<lambda>":
            raise ValueError("A lambda cannot be serialized: glassnet never stores code")
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": get_registered_name(obj),
            "registered_name": get_registered_name(obj),
        }
    if hasattr(obj, "get_config"):
        cls = type(obj)
        registered = _GLOBAL_CUSTOM_NAMES.get(cls)
        return {
            "module": cls.__module__,
            "class_name": cls.__name__,
            "config": serialize_keras_object(obj.get_config()),
            "registered_name": registered or cls.__name__,
        }
    raise TypeError(f"Cannot serialize {obj!r}: it has no get_config()")


def deserialize_keras_object(
    config, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs
) -> Any:
    """The object a serialized config describes, its class (or function) found by
    ``get_registered_object`` among the registered objects, the open scopes,
    ``custom_objects`` and ``module_objects=`` (a keyword, as Keras's). No module a config
    names is imported; a name found nowhere raises ``ValueError``. glassnet's own classes
    are read back by their namespace's ``deserialize`` (``glassnet.losses.deserialize``...).
    ``safe_mode`` is accepted; glassnet has no unsafe mode (a lambda is always refused).
    """
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"Unexpected arguments: {sorted(kwargs)}")
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, list):
        return [
            deserialize_keras_object(x, custom_objects, module_objects=module_objects)
            for x in config
        ]
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects, module_objects)
        return config if found is None else found
    if not isinstance(config, dict):
        raise TypeError(f"Cannot deserialize {config!r} of type {type(config).__name__}")
    if "class_name" not in config or "config" not in config:
        return {
            key: deserialize_keras_object(value, custom_objects, module_objects=module_objects)
            for key, value in config.items()
        }
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__tuple__":
        return tuple(
            deserialize_keras_object(inner["value"], custom_objects, module_objects=module_objects)
        )
    if class_name in ("__lambda__", "lambda"):
        raise ValueError("A lambda in a config is never run: glassnet has no unsafe mode")
    name = config.get("registered_name") or class_name
    if class_name == "function":
        name = config.get("registered_name") or inner
    found = get_registered_object(name, custom_objects, module_objects)
    if found is None and name != class_name:
        found = get_registered_object(class_name, custom_objects, module_objects)
    if found is None:
        raise ValueError(
            f"Could not locate {'function' if class_name == 'function' else 'class'} "
            f"{name!r}. Register it with glassnet.utils.register_keras_serializable or "
            "pass it in `custom_objects`; glassnet's own classes are read back by their "
            "namespace's deserialize (glassnet.losses.deserialize, ...)"
        )
    if class_name == "function":
        return found
    inner = deserialize_keras_object(inner, custom_objects, module_objects=module_objects)
    if hasattr(found, "from_config"):
        return found.from_config(inner)
    return found(**inner)


_ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
# Python's types as Keras names them with its TensorFlow backend
_PYTHON_DTYPES = {
    bool: "bool",
    int: "int64",
    float: "float32",
    str: "string",
    "int": "int64",
    complex: "complex128",
}


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name (``keras.utils.standardize_dtype``): None is ``floatx()``,
    Python's ``float`` is ``"float32"``, ``int`` ``"int64"``, a NumPy dtype or type its
    name. Only a name does this give: glassnet computes in the types NumPy has.

    Raises:
        ValueError: for a name Keras does not know.
    """
    if dtype is None:
        from glassnet import config

        return config.floatx()
    if isinstance(dtype, (type, str)) and dtype in _PYTHON_DTYPES:
        dtype = _PYTHON_DTYPES[dtype]
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype == "str":
        dtype = "string"
    if dtype not in _ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype
