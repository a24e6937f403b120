"""A one-line progress bar for long training runs on a terminal.

``fit(verbose=1)`` prints Keras's per-epoch lines, which suits a notebook but floods a
terminal over a hundred epochs. The command line instead redraws one line on standard
error, and only once a run has lasted ``delay`` seconds: short runs print nothing, and
output that goes to a file or a pipe never gets a bar.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from glassnet.callbacks import Callback

_WIDTH = 24


class EpochBar(Callback):
    """Draws ``epoch 37/100 ━━━━━━━━──────── loss 15.44 · val_loss 30.91`` in place.

    Args:
        stream: where to draw (standard error by default); nothing is drawn unless it is a
            terminal.
        delay: seconds a run must have lasted before the bar appears.
        interval: least seconds between two redraws.
    """

    def __init__(self, stream: TextIO | None = None, delay: float = 1.0,
                 interval: float = 0.1) -> None:
        super().__init__()
        self.stream = stream
        self.delay = delay
        self.interval = interval
        self.drawn = False

    def _out(self) -> TextIO:
        return self.stream or sys.stderr

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.last = -float("inf")
        self.drawn = False

    def on_epoch_end(self, epoch, logs=None):
        out = self._out()
        if not (hasattr(out, "isatty") and out.isatty()):
            return
        now = time.perf_counter()
        if now - self.start < self.delay or now - self.last < self.interval:
            return
        self.last = now
        epochs = max(int(self.params.get("epochs", 1)), 1)
        filled = round(_WIDTH * (epoch + 1) / epochs)
        scores = " · ".join(f"{key} {value:.4g}" for key, value in (logs or {}).items()
                            if key in ("loss", "val_loss"))
        out.write(f"\r  epoch {epoch + 1}/{epochs} {'━' * filled}{'─' * (_WIDTH - filled)} "
                  f"{scores}\033[K")
        out.flush()
        self.drawn = True

    def on_train_end(self, logs=None):
        if self.drawn:
            self._out().write("\r\033[K")
            self._out().flush()
