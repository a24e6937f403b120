"""How a layer's config is written and read: each class declares its keys.

A layer's ``get_config`` writes the config Keras 3 writes for the same layer
(``keras/src/layers/layer.py``, ``get_config``, and each layer's own), and its class
attribute ``config_keys`` declares every key such a config may hold, with the kind of
value it takes. A reader of untrusted configs (``glassnet.saving``) checks each value by
its kind under its safety rules before it calls ``from_config``; a key the class does not
declare is refused there. So a new layer class saves and loads once it declares its
keys, its variables (``Layer.save_own_variables``) and is listed in
``glassnet.layers.LAYER_CLASSES``; nothing in ``glassnet.saving`` changes.

The kinds form a closed set (``KINDS``); each is read by a rule in
``glassnet.saving.safety``:

========================  =====================================================================
``int``                   an integer >= ``minimum`` (default 1)
``ints``                  an integer or a list of ``length`` integers >= ``minimum`` (a tuple);
                          also ``None`` where the key is ``optional``
``int_pairs``             an integer, or two items each an integer or a pair of integers >= 0
                          (``ZeroPadding2D``'s ``((top, bottom), (left, right))``)
``choice``                one of the values in ``allowed``
``seed``                  ``None`` or an integer >= 0
``number``                a number; within ``[minimum, below)`` when those are given
``bool``                  true or false
``activation``            a built-in activation named as Keras names it
``initializer``           an initializer (an unknown one becomes ``default``, with a warning)
``regularizer``           L1, L2, L1L2 or ``None`` (an unknown one is dropped, with a warning)
``constraint``            MaxNorm, NonNeg, UnitNorm, MinMaxNorm or ``None`` (an unknown one is
                          dropped, with a warning)
``last_axis``             the feature axis only (``-1``, the last index, or a list of one)
``shape``                 a row shape; one ``-1`` is inferred from the input's size
``data_format``           ``channels_last`` (``channels_first`` only where it changes nothing)
``statistic``             ``None``, a number or a list of numbers
``inert``                 glassnet ignores it: silent at ``default``, a warning otherwise
``fixed``                 only the values in ``allowed`` (others change the maths: refused)
``ignored``               accepted whatever its value (an implementation choice of Keras 2)
``recurrent_layer``       a serialized ``SimpleRNN``, ``LSTM`` or ``GRU`` (``Bidirectional``'s
                          layers), read key by key as any layer; ``None`` when ``default``
========================  =====================================================================

The keys every layer shares (``name``, ``trainable``, ``dtype`` and the input-shape keys) are
read for all layers alike and are not declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module

#: The kinds of value a config key may declare (see the module's table).
KINDS = frozenset(
    {
        "int",
        "ints",
        "int_pairs",
        "choice",
        "seed",
        "number",
        "bool",
        "activation",
        "initializer",
        "regularizer",
        "constraint",
        "last_axis",
        "shape",
        "data_format",
        "statistic",
        "inert",
        "fixed",
        "ignored",
        "recurrent_layer",
    }
)
#: Kinds whose value is not passed on to the constructor.
NOT_ARGUMENTS = frozenset({"inert", "fixed", "ignored"})


@dataclass(frozen=True)
class ConfigKey:
    """One key of a layer's config: its name, the kind of value and what it defaults to.

    Args:
        name: the key, which is also the constructor's argument.
        kind: one of ``KINDS``.
        default: the value when the key is missing (for ``initializer``, the name used
            when the file's is unknown).
        minimum, below: bounds of an ``int``, ``ints`` or ``number`` (``below`` excluded).
        allowed: the values a ``fixed`` or ``choice`` key may take.
        length: how many integers an ``ints`` key holds (``None``: any number).
        optional: an ``ints`` key that may also be ``None`` (``output_padding``).
        why: for ``inert`` and ``fixed`` keys, what the key is about, for messages.
    """

    name: str
    kind: str
    default: Any = None
    minimum: float | None = None
    below: float | None = None
    allowed: tuple = ()
    why: str = ""
    length: int | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"config key {self.name!r}: unknown kind {self.kind!r}; "
                f"the kinds are {', '.join(sorted(KINDS))}"
            )
        if self.kind in ("fixed", "choice") and not self.allowed:
            raise ValueError(f"config key {self.name!r}: a {self.kind} key needs `allowed` values")


def key(name: str, kind: str, default: Any = None, **options) -> ConfigKey:
    """A ``ConfigKey`` (shorter to write in a class body)."""
    return ConfigKey(name, kind, default, **options)


def dtype_policy(dtype_name: str) -> dict:
    """The dtype policy object Keras 3 writes for a layer (``keras/src/dtype_policies``)."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": dtype_name},
        "registered_name": None,
    }


def serialize_object(serialized: dict | None, module: str) -> dict | None:
    """``{"class_name", "config"}`` in Keras 3's envelope (``serialization_lib.py``,
    ``serialize_keras_object``): with ``module`` and ``registered_name``."""
    if serialized is None:
        return None
    return {
        "module": module,
        "class_name": serialized["class_name"],
        "config": serialized["config"],
        "registered_name": None,
    }


def initializer_config(value) -> dict | None:
    """An initializer as a layer's config writes it (Keras 3's envelope)."""
    return serialize_object(initializers_module.serialize(value), "keras.initializers")


def regularizer_config(value) -> dict | None:
    """A regularizer (or ``None``) as a layer's config writes it (Keras 3's envelope)."""
    return serialize_object(regularizers_module.serialize(value), "keras.regularizers")
