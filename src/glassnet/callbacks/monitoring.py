"""Shared logic of callbacks that watch a logged value (EarlyStopping, ModelCheckpoint, ...)."""

from __future__ import annotations

import warnings

_MAX_WORDS = ("acc", "accuracy", "auc", "precision", "recall", "f1")


def improvement_direction(monitor: str, mode: str) -> str:
    """``"min"`` or ``"max"``: whether a smaller or a larger value is better.

    ``mode="auto"`` infers it from the name, as Keras does: accuracy-like names are
    maximised, everything else (losses, errors) minimised.
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.lower().removeprefix("val_")
    if name.endswith("loss"):
        return "min"
    return "max" if any(word in name for word in _MAX_WORDS) else "min"


def monitored_value(logs: dict | None, monitor: str, owner: str) -> float | None:
    """The value of ``monitor`` in ``logs``, or a warning naming the keys that exist."""
    logs = logs or {}
    if monitor in logs:
        return float(logs[monitor])
    warnings.warn(
        f"{owner} is conditioned on metric `{monitor}` which is not available. "
        f"Available metrics are: {', '.join(logs) or '(none)'}",
        stacklevel=3,
    )
    return None


class UnknownMonitorError(ValueError):
    """A monitored key that no epoch will ever log."""


def check_monitor(monitor: str, logs: dict, owner: str) -> None:
    """Raises when the first epoch's logs do not contain ``monitor`` (naming the keys)."""
    if monitor not in logs:
        raise UnknownMonitorError(
            f"{owner} monitors {monitor!r}, which is not logged. "
            f"Available keys are: {', '.join(sorted(logs)) or '(none)'}"
            + (". Pass validation data to get val_* keys" if monitor.startswith("val_") else "")
        )
