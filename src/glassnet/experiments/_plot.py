"""Learning-curve pictures (matplotlib, optional), drawn without touching pyplot's state."""

from __future__ import annotations

import os
from collections.abc import Sequence


def plot_curves(
    curves: Sequence[tuple[str, Sequence[float]]],
    key: str,
    title: str,
    *,
    path: str | os.PathLike | None = None,
    ax=None,
    highlight: int | None = None,
):
    """One line per ``(label, values)``, epochs on x; the ``highlight``-th drawn thicker.

    Returns:
        The matplotlib ``Figure`` (saved to ``path`` if given).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is in the test extras
        raise ImportError("plot() needs matplotlib: pip install matplotlib") from None
    if ax is None:
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for i, (label, values) in enumerate(curves):
        epochs = range(1, len(values) + 1)
        thick = highlight is not None and i == highlight
        ax.plot(epochs, values, label=label + (" best" if thick else ""),
                linewidth=2.8 if thick else 1.4, alpha=1.0 if thick or highlight is None else 0.75,
                marker="o" if len(values) <= 30 else None, markersize=3)
    values = [v for _, vs in curves for v in vs if v == v]  # finite or inf, not NaN
    if values and min(values) > 0 and max(values) / min(values) > 5:
        # Early epochs' large losses would flatten the end, where models differ: log scale.
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(key + (" (log scale)" if ax.get_yscale() == "log" else ""))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if curves:
        ax.legend(fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
