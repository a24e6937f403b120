"""``Progbar``, as ``keras.utils.Progbar`` (``keras/src/utils/progbar.py``): a progress
bar for the user's own loops, with running averages of the values given at each step.

The averages follow Keras exactly: a value given at step ``current`` counts
``current - seen_so_far`` times (at least once), except for ``stateful_metrics``, which are
shown as given. The text is Keras's without its terminal colour codes:
``3/10 ━━━━━━────────────── 1s 12ms/step - loss: 0.4312``.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from glassnet import config


class Progbar:
    """Displays a progress bar.

    Args:
        target: the number of steps expected, None if unknown.
        width: the bar's width in characters.
        verbose: 0 (silent), 1 (a bar, redrawn), 2 (one line when done).
        interval: the least time in seconds between two redraws.
        stateful_metrics: names of values shown as given, not averaged.
        stateless_metrics: used only when ``stateful_metrics`` is None: the names that
            are averaged (every other is shown as given), as in Keras.
        unit_name: what a step is called (``"step"``).
    """

    def __init__(
        self,
        target=None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name: str = "step",
    ) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else None
        self.stateless_metrics = set(stateless_metrics or ())
        if self.stateful_metrics is None and not self.stateless_metrics:
            self.stateful_metrics = set()
        self._dynamic_display = (
            hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
        ) and config.is_interactive_logging_enabled()
        self._seen_so_far = 0
        self._values: dict[str, list] = {}
        self._values_order: list[str] = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_at_first_step = None

    def _average(self, name: str) -> float:
        total, count = self._values[name]
        return float(np.mean(total)) / max(1, count)

    def update(self, current: int, values=None, finalize=None) -> None:
        """Moves the bar to step ``current`` with ``values``, a list of ``(name, value)``.
        ``finalize`` (default: whether ``current`` reached ``target``) ends the line."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._values_order:
                self._values_order.append(name)
            if self.stateful_metrics is not None:
                stateless = name not in self.stateful_metrics
            else:
                stateless = name in self.stateless_metrics
            if stateless and not finalize:
                base = max(current - self._seen_so_far, 1)
                if name in self._values:
                    self._values[name][0] += value * base
                    self._values[name][1] += base
                else:
                    self._values[name] = [value * base, base]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current
        now = time.time()
        if self._time_at_first_step is None and current > 0:
            self._time_at_first_step = now
        per_step = (now - self._start) / current if current else 0.0
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._emit(self._line(current, now, per_step, finalize), finalize)
        elif self.verbose == 2 and finalize and self.target:
            self._emit(self._line(current, now, per_step, True), True)
        self._last_update = now

    def add(self, n: int, values=None) -> None:
        """``update(seen_so_far + n, values)``."""
        self.update(self._seen_so_far + n, values)

    def _line(self, current: int, now: float, per_step: float, finalize: bool) -> str:
        if self.target:
            digits = int(math.log10(self.target)) + 1
            filled = int(self.width * current / self.target)
            text = f"{current:{digits}d}/{self.target} " + "━" * filled
            text += "─" * (self.width - filled)
        else:
            text = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_step * (self.target - current)
            if eta > 3600:
                shown = f"{eta // 3600:.0f}:{(eta % 3600) // 60:02.0f}:{eta % 60:02.0f}"
            elif eta > 60:
                shown = f"{eta // 60:.0f}:{eta % 60:02.0f}"
            else:
                shown = f"{eta:.0f}s"
        else:
            shown = f"{now - self._start:.0f}s"
        text += f" {shown} {_format_per_step(per_step, self.unit_name)}"
        for name in self._values_order:
            average = self._average(name)
            text += (
                f" - {name}: {average:.4f}"
                if abs(average) > 1e-3
                else (f" - {name}: {average:.4e}")
            )
        return text

    def _emit(self, line: str, finalize: bool) -> None:
        if not config.is_interactive_logging_enabled():
            if finalize:
                config.log_line(line)
            return
        if self._dynamic_display:
            sys.stdout.write("\r" + line + ("\n" if finalize else ""))
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _format_per_step(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"
