"""``Diagnostics``: watches training for dead ReLU units, vanishing or exploding gradients and
saturated tanh/sigmoid units, and says in plain words what to try.

Without data of its own it reads what every training batch recorded (each layer's node
inputs and the slopes the optimizer received), so a unit counts as dead when it was never
positive on any row the epoch trained on. Given ``x`` and ``y`` it runs
``glassnet.explain.diagnose`` on them at the end of each checked epoch instead.
"""

from __future__ import annotations

from collections.abc import Callable

from glassnet.explain.diagnostics import Observer, diagnose
from glassnet.trainers.callbacks import Callback


class Diagnostics(Callback):
    """Checks the health of every layer during ``fit`` and reports problems in plain words.

    Args:
        x, y: optional data to check on at the end of each checked epoch (for example a
            sample of the training data). Without them the training batches themselves are
            read as they pass.
        every: check every this many epochs (1: every epoch).
        verbose: 0 silent, 1 prints each problem the first time it appears (default), 2
            prints the whole report at every check.
        print_fn: where reports go (``print`` by default).
        **thresholds: any of ``glassnet.explain.diagnostics.THRESHOLDS``.

    Attributes:
        reports: ``[(epoch, Diagnosis), ...]``, one per checked epoch.

    Example:
        >>> from glassnet.callbacks import Diagnostics
        >>> watch = Diagnostics()
        >>> # model.fit(x, y, epochs=10, callbacks=[watch])
        >>> # watch.last.findings   -> the problems found in the last epoch
    """

    def __init__(
        self,
        x=None,
        y=None,
        every: int = 1,
        verbose: int = 1,
        print_fn: Callable[[str], None] | None = None,
        **thresholds: float,
    ) -> None:
        super().__init__()
        if (x is None) != (y is None):
            raise ValueError(
                "Diagnostics needs both `x` and `y`, or neither (to read the training batches)"
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be a positive integer. Received: every={every!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
        self.x, self.y = x, y
        self.every = every
        self.verbose = verbose
        self.print_fn = print_fn or print
        self.thresholds = thresholds
        self._observer = Observer(**thresholds)
        self.reports: list = []
        self._told: set[tuple[str, str]] = set()

    @property
    def last(self):
        """The latest ``Diagnosis``, or ``None`` before the first check."""
        return self.reports[-1][1] if self.reports else None

    def history(self, what: str = "gradient_ratio") -> dict[str, list]:
        """One number per checked epoch for each layer: ``"gradient_ratio"``,
        ``"dead_share"`` or ``"saturated_share"`` (``None`` where it does not apply)."""
        if what not in ("gradient_ratio", "dead_share", "saturated_share"):
            raise ValueError(
                "`what` must be 'gradient_ratio', 'dead_share' or "
                f"'saturated_share'. Received: what={what!r}"
            )
        out: dict[str, list] = {}
        for _, report in self.reports:
            for health in report.layers:
                out.setdefault(health.name, []).append(getattr(health, what))
        return out

    def on_train_begin(self, logs=None):
        self.reports = []
        self._told = set()
        self._observer.reset()

    def on_train_batch_end(self, batch, logs=None):
        if self.x is None:
            self._observer.observe(self.model)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self.x is None:
            report = self._observer.result(self.model)
        else:
            report = diagnose(self.model, self.x, self.y, **self.thresholds)
        self._observer.reset()
        self.reports.append((epoch, report))
        self._tell(epoch, report)

    def _tell(self, epoch: int, report) -> None:
        if self.verbose == 2:
            self.print_fn(f"Epoch {epoch + 1}: {report}")
            return
        if self.verbose == 0:
            return
        for finding in report.findings:
            key = (finding.kind, finding.layer)
            if key not in self._told:
                self._told.add(key)
                self.print_fn(f"Epoch {epoch + 1}: {finding}")
