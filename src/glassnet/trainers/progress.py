"""``ProgbarLogger``: Keras-style progress output.

``verbose=1`` draws a live bar on a terminal (redrawn at most ten times a second) and, when
output goes to a file or a notebook log, writes one line per epoch instead, so logs are
never flooded. ``verbose=2`` always writes one line per epoch. The line looks like Keras's::

    Epoch 3/10
    12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - accuracy: 0.8125 - loss: 0.4312 - val_loss: 0.5010
"""

from __future__ import annotations

import sys
import time

from glassnet import config
from glassnet.trainers.callbacks import Callback

_BAR_WIDTH = 20
_REDRAW_SECONDS = 0.1


def format_logs(logs: dict) -> str:
    """``"loss: 0.4312 - val_loss: 0.5010"`` with training keys before ``val_`` ones."""
    keys = sorted(k for k in logs if not k.startswith("val_")) + sorted(
        k for k in logs if k.startswith("val_")
    )
    return " - ".join(f"{k}: {logs[k]:.4f}" for k in keys if isinstance(logs[k], (int, float)))


def _format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


class _LoggingStream:
    """Where progress goes while interactive logging is disabled
    (``keras.config.disable_interactive_logging``): each line to ``config.log_line``."""

    def __init__(self) -> None:
        self._pending = ""

    def write(self, text: str) -> None:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            config.log_line(line)

    def flush(self) -> None:
        return None


class ProgbarLogger(Callback):
    """Prints progress of ``fit``.

    Args:
        verbose: 1 for a bar (one line per epoch when not on a terminal), 2 for a line per epoch.
        stream: where to write (standard output by default).
    """

    def __init__(self, verbose: int = 1, stream=None) -> None:
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _out(self):
        if self.stream is None and not config.is_interactive_logging_enabled():
            if not hasattr(self, "_log_stream"):
                self._log_stream = _LoggingStream()
            return self._log_stream
        return self.stream or sys.stdout

    @property
    def live(self) -> bool:
        out = self._out()
        return self.verbose == 1 and hasattr(out, "isatty") and out.isatty()

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)
        self.steps = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()
        self.last_draw = 0.0
        self._out().write(f"Epoch {epoch + 1}/{self.epochs}\n")
        if self.live:
            self._draw(0, {}, final=False)

    def on_train_batch_end(self, batch, logs=None):
        if not self.live:
            return
        now = time.perf_counter()
        if now - self.last_draw >= _REDRAW_SECONDS:
            self.last_draw = now
            self._draw(batch + 1, logs or {}, final=False)

    def on_epoch_end(self, epoch, logs=None):
        self._draw(self.steps or 0, logs or {}, final=True)

    def _draw(self, step: int, logs: dict, final: bool) -> None:
        steps = self.steps or max(step, 1)
        elapsed = time.perf_counter() - self.epoch_start
        filled = int(_BAR_WIDTH * step / steps) if steps else _BAR_WIDTH
        bar = "━" * filled + "─" * (_BAR_WIDTH - filled)
        per_step = _format_time(elapsed / step) + "/step" if step else ""
        shown = (
            f"{elapsed:.0f}s"
            if final
            else f"ETA {_format_time(elapsed / max(step, 1) * (steps - step))}"
        )
        metrics = format_logs(logs)
        line = f"{step}/{steps} {bar} {shown} {per_step}" + (f" - {metrics}" if metrics else "")
        out = self._out()
        if self.live:
            out.write("\r" + line + ("\n" if final else ""))
        elif final:
            out.write(line + "\n")
        out.flush()
