"""Where a model's file methods find the code that reads and writes files.

``model.save``, ``save_weights``, ``load_weights`` and ``to_json`` are Keras's methods, so
they live on the model (``glassnet.engine``), but the formats live above it
(``glassnet.saving``), and imports run one way, from the bottom up. So ``glassnet.saving``
hands its functions to this small slot when it is imported (the ``glassnet.models``
namespace imports it, so every model a user can make has them), and the methods call
through it.
"""

from __future__ import annotations

from collections.abc import Callable

_provided: dict[str, Callable] = {}


def provide(**functions: Callable) -> None:
    """Registers the file functions by name (``glassnet.saving`` calls this)."""
    _provided.update(functions)


def call(name: str, *args, **kwargs):
    """Calls the registered function ``name``.

    Raises:
        RuntimeError: when ``glassnet.saving`` was never imported, which happens only to
            code that builds models from ``glassnet.engine`` directly.
    """
    try:
        function = _provided[name]
    except KeyError:
        raise RuntimeError(
            f"{name} needs glassnet.saving: import glassnet.models (or glassnet.saving) first"
        ) from None
    return function(*args, **kwargs)
