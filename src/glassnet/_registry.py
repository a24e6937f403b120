"""One lookup per kind of object (activation, loss, metric, optimizer, ...).

Every kind resolves a name the same way: case-insensitive, with Keras's aliases, and an
unknown name raises a ``ValueError`` that lists the valid names and the closest matches.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def normalize(name: str) -> str:
    """Lower-cases and drops underscores: ``MeanSquaredError`` finds ``mean_squared_error``."""
    return name.lower().replace("_", "")


def unknown_name_error(kind: str, name: object, valid: Iterable[str]) -> ValueError:
    """A ``ValueError`` for an unknown name, listing the valid ones and the closest matches."""
    valid = sorted(set(valid))
    # compared in lower case ('adamm' is closest to 'Adam'), shown as registered
    by_lower = {v.lower(): v for v in reversed(valid)}
    close = [
        by_lower[c]
        for c in difflib.get_close_matches(str(name).lower(), list(by_lower), n=3, cutoff=0.5)
    ]
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"Unknown {kind}: {name!r}.{hint} Valid {kind} names are: {', '.join(valid)}."
    )


class Registry:
    """Maps names (and aliases) to objects of one kind.

    Args:
        kind: what the registry holds, used in error messages ("activation", "loss", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_key: dict[str, object] = {}
        self._names: list[str] = []

    def register(self, obj: object, *names: str) -> object:
        """Registers ``obj`` under each of ``names``; the first is its canonical name."""
        for name in names:
            self._by_key[normalize(name)] = obj
            self._names.append(name)
        return obj

    def lookup(self, name: str) -> object:
        """The object registered under ``name``, or a ``ValueError`` naming the valid ones."""
        try:
            return self._by_key[normalize(name)]
        except KeyError:
            raise unknown_name_error(self.kind, name, self._names) from None

    def names(self) -> list[str]:
        """All registered names, aliases included, sorted."""
        return sorted(set(self._names))
