"""Making and saving matplotlib figures without pyplot (matplotlib is imported lazily)."""

from __future__ import annotations

from pathlib import Path


def figure(figsize=(6.0, 4.0), **kwargs):
    """A new matplotlib ``Figure`` (without pyplot).

    Raises:
        ImportError: when matplotlib is not installed, saying how to install it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "glassnet's pictures need matplotlib. Install it with pip install matplotlib "
            "(from a clone of glassnet: pip install '.[plot]')"
        ) from None
    return Figure(figsize=figsize, **kwargs)


def finish(fig, path) -> None:
    """Saves ``fig`` as an image at ``path`` (its folder is created) when a path is given."""
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", facecolor="white")
