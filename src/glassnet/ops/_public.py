"""The public ops a module defines, for its ``__all__``."""

from __future__ import annotations


def public_names(namespace: dict, module: str) -> list[str]:
    """Names in ``namespace`` not starting with ``_`` whose value is a function or class
    defined in ``module`` (aliases such as ``abs = absolute`` included)."""
    return sorted(
        name
        for name, value in namespace.items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", None) == module
    )
