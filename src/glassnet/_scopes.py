"""``keras.name_scope`` and ``keras.device`` for programs that use them: scopes that change nothing.

In Keras a name scope prefixes the paths of the variables created inside it, and ``device``
places the computation on a device. glassnet runs on NumPy on the CPU, and its weights are
named by their layer, so both are context managers that check their argument (as Keras does,
``keras/src/backend/common/name_scope.py``) and otherwise do nothing: code written with them
runs unchanged, and the weights' names and the arrays' placement are the same as without.
"""

from __future__ import annotations


class name_scope:  # noqa: N801 - Keras's name
    """A context manager accepted for Keras's sake; variable names are not prefixed."""

    def __init__(
        self, name: str, caller: object = None, deduplicate: bool = True, override_parent=None
    ) -> None:
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name!r}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent

    def __enter__(self) -> name_scope:
        return self

    def __exit__(self, *exc_info) -> None:
        return None


class _DeviceScope:
    def __init__(self, device_name: str) -> None:
        self.device_name = device_name

    def __enter__(self) -> _DeviceScope:
        return self

    def __exit__(self, *exc_info) -> None:
        return None


def device(device_name: str) -> _DeviceScope:
    """A context manager accepted for Keras's sake: glassnet always computes on the CPU.

    ``device_name`` must be a string (``"cpu:0"``, ``"gpu:0"``...); the computation inside
    runs where it would run without it.
    """
    if not isinstance(device_name, str):
        raise ValueError(
            f"Invalid value for argument `device_name`: expected a string like 'cpu:0', "
            f"received: {device_name!r}"
        )
    return _DeviceScope(device_name)
