"""Keras's names for things: ``BatchNormalization`` is ``batch_normalization``, ``Conv2D`` is
``conv2d``, and the second ``Dense`` layer made is ``dense_1``.

One function makes the snake-case name (``to_snake_case``, as ``keras/src/utils/naming.py``
does), used both for automatic layer names and for the groups of Keras's weights files.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

_name_counters: dict[str, itertools.count] = defaultdict(lambda: itertools.count())


def to_snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``BatchNormalization`` → ``batch_normalization``,
    ``Conv2D`` → ``conv2d``, ``ReLU`` → ``re_lu``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``… like Keras's automatic layer names."""
    n = next(_name_counters[base])
    return base if n == 0 else f"{base}_{n}"


def auto_name(obj: object) -> str:
    """A new unique name from the class of ``obj``: the first ``Dense`` is ``dense``."""
    return unique_name(to_snake_case(type(obj).__name__))


def reset_names() -> None:
    """Starts automatic names afresh (the next ``Dense`` is ``dense``), as Keras's
    ``clear_session()`` does."""
    _name_counters.clear()
