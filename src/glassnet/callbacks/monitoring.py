"""Shared logic of callbacks that watch a logged value (EarlyStopping, ModelCheckpoint, ...)."""

from __future__ import annotations

import warnings

from glassnet.trainers.callbacks import CallbackArgumentError

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


class UnknownMonitorError(CallbackArgumentError):
    """A monitored key that no epoch will ever log, or whose direction cannot be known."""


def _metric_direction(model, name: str) -> str | None:
    """``"min"``/``"max"`` for the compiled metric logged as ``name``, else ``None``.

    A metric object may say which way is better with Keras's ``_direction`` (``"up"`` or
    ``"down"``); otherwise the name decides, as ``improvement_direction`` does.
    """
    entries = getattr(model, "_metric_entries", None) or [
        (metric, False, getattr(metric, "name", None)) for metric in getattr(model, "metrics", [])
    ]
    for metric, _, logged in entries:
        if name not in (logged, getattr(metric, "name", None)):
            continue
        direction = getattr(metric, "_direction", None)
        if direction in ("up", "down"):
            return "max" if direction == "up" else "min"
        return improvement_direction(name, "auto")
    return None


def keras_mode(owner: str, mode: str) -> str:
    """``mode`` as Keras's ``MonitorCallback`` takes it: an unknown one warns and is "auto"."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def monitor_direction(owner: str, monitor: str, mode: str, model) -> str:
    """``"min"`` or ``"max"`` for ``monitor``, decided as Keras 3's ``MonitorCallback`` does.

    ``keras/src/callbacks/monitor_callback.py``: an explicit mode wins; with ``"auto"``,
    ``loss``/``val_loss`` are minimised and a compiled metric goes its own way. Any other
    name cannot be judged, so Keras raises ``ValueError`` (at the first epoch's end).

    Raises:
        UnknownMonitorError: a ``ValueError`` naming the monitor and the two modes.
    """
    if mode in ("min", "max"):
        return mode
    name = monitor.removeprefix("val_")
    direction = "min" if name == "loss" else _metric_direction(model, name)
    if direction is None:
        raise UnknownMonitorError(
            f"{owner} callback received monitor={monitor}, but glassnet isn't able to "
            "automatically determine whether that metric should be maximized or minimized. "
            "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
            "`mode='min'` in order to use the lowest value."
        )
    return direction


def check_monitor(monitor: str, logs: dict, owner: str) -> None:
    """Raises when the first epoch's logs do not contain ``monitor`` (naming the keys)."""
    if monitor not in logs:
        raise UnknownMonitorError(
            f"{owner} monitors {monitor!r}, which is not logged. "
            f"Available keys are: {', '.join(sorted(logs)) or '(none)'}"
            + (". Pass validation data to get val_* keys" if monitor.startswith("val_") else "")
        )
