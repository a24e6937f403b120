"""What experiments return: ``Run`` (one training), ``Trial`` (one model), ``Results`` (several).

All three hold plain numbers only (no model objects), so they pickle, compare and print
the same wherever the runs happened. ``to_frame()`` gives a pandas DataFrame (pandas is
optional); ``str()`` gives a plain-text table; ``plot()`` draws learning curves.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Run:
    """One training of one model with one seed (and, in cross-validation, one fold).

    Attributes:
        seed: the seed the model was built and trained with.
        score: the monitored value of the weights the run ended with (the best epoch's
            when early stopping restored them, else the last epoch's); ``nan`` if diverged.
        best_epoch: index (from 0) of the epoch ``score`` comes from.
        epochs: epochs trained.
        seconds: wall time of building and training.
        history: ``History.history`` of the run: each logged key to one value per epoch.
        fold: the held-out fold, in cross-validation.
        error: why the run has no score (for example a loss that became NaN).
    """

    seed: int
    score: float
    best_epoch: int
    epochs: int
    seconds: float
    history: Mapping[str, list[float]] = field(default_factory=dict)
    fold: int | None = None
    error: str | None = None


def _fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return "" if value is None else str(value)


def text_table(rows: list[dict]) -> str:
    """``rows`` (dicts with the same keys) as an aligned plain-text table."""
    if not rows:
        return "(no rows)"
    keys = list(rows[0])
    cells = [[_fmt(row[k]) for k in keys] for row in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    numeric = [all(isinstance(r[k], (int, float)) for r in rows) for k in keys]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(keys), line(["-" * w for w in widths]), *map(line, cells)])


def _frame(rows: list[dict]):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extras
        raise ImportError(
            "to_frame() needs pandas: pip install pandas. str() of the result "
            "gives the same table as plain text."
        ) from None
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Trial:
    """One model (one architecture or setting) trained over several runs.

    ``cross_validate`` returns a ``Trial`` whose runs are the folds; ``compare`` and the
    searches return ``Results`` holding one ``Trial`` per model.

    Attributes:
        name: a short label ("2x250", "lr=0.01", a build function's name).
        params: the settings that define the model (``hidden_layer_sizes``, ...).
        runs: every training of it.
        n_params: its number of weights.
        monitor: the logged key the score is read from (``"val_loss"``...).
        mode: ``"min"`` when smaller scores are better, else ``"max"``.
        stage: where a search tried it ("start", "wider", "deeper", "step back").
    """

    name: str
    params: Mapping[str, object]
    runs: tuple[Run, ...]
    n_params: int
    monitor: str = "val_loss"
    mode: str = "min"
    stage: str = ""

    @property
    def scores(self) -> list[float]:
        """The score of each run."""
        return [run.score for run in self.runs]

    @property
    def score(self) -> float:
        """Mean score over the runs (``nan`` if any run diverged)."""
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        """Standard deviation of the runs' scores (0 for a single run)."""
        return float(np.std(self.scores)) if len(self.runs) > 1 else 0.0

    @property
    def seconds(self) -> float:
        """Total wall time of all runs."""
        return float(sum(run.seconds for run in self.runs))

    @property
    def epochs(self) -> float:
        """Mean number of epochs trained."""
        return float(np.mean([run.epochs for run in self.runs]))

    @property
    def failed(self) -> bool:
        """Whether some run ended without a score (e.g. diverged)."""
        return any(run.error for run in self.runs)

    def curve(self, key: str | None = None) -> np.ndarray:
        """Mean over runs of ``history[key]`` per epoch; ``key`` defaults to the monitored value.

        Runs that stopped early leave the mean when they stop, and the curve ends at the
        last epoch that at least half of the runs reached, so that its tail is never the
        value of a single straggler.
        """
        key = key or self.monitor
        series = [run.history.get(key, []) for run in self.runs]
        lengths = sorted((len(s) for s in series), reverse=True)
        if not lengths or lengths[0] == 0:
            return np.empty(0)
        length = lengths[(len(lengths) - 1) // 2]  # reached by at least half of the runs
        padded = np.full((len(series), length), np.nan)
        for i, s in enumerate(series):
            padded[i, : min(len(s), length)] = s[:length]
        with warnings.catch_warnings():  # a run that diverged may leave an all-NaN column
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(padded, axis=0)

    def summary_row(self) -> dict:
        """The row this trial contributes to a ``Results`` table."""
        row: dict = {"model": self.name}
        row.update({k: v for k, v in self.params.items()})
        row[self.monitor] = self.score
        if len(self.runs) > 1:
            row["std"] = self.std
        row["params"] = self.n_params
        row["epochs"] = self.epochs
        row["seconds"] = round(self.seconds, 3)
        if self.stage:
            row["stage"] = self.stage
        if self.failed:
            row["note"] = "; ".join(sorted({run.error for run in self.runs if run.error}))
        return row

    def rows(self) -> list[dict]:
        """One dict per run: fold or run number, seed, score, epochs, seconds, error."""
        rows = []
        for i, run in enumerate(self.runs):
            row = {"fold" if run.fold is not None else "run": (run.fold if run.fold is not None
                                                                else i) + 1,
                   "seed": run.seed, self.monitor: run.score, "best_epoch": run.best_epoch + 1,
                   "epochs": run.epochs, "seconds": round(run.seconds, 3)}
            if any(r.error for r in self.runs):
                row["error"] = run.error or ""
            rows.append(row)
        return rows

    def to_frame(self):
        """The runs as a pandas DataFrame, one row per run."""
        return _frame(self.rows())

    def plot(self, path=None, ax=None, key: str | None = None):
        """Draws each run's learning curve (``key``, default the monitored value).

        Returns:
            The matplotlib ``Figure``; saved to ``path`` when given.
        """
        from glassnet.experiments._plot import plot_curves

        key = key or self.monitor
        curves = [(f"{'fold' if r.fold is not None else 'run'} "
                   f"{(r.fold if r.fold is not None else i) + 1}", r.history.get(key, []))
                  for i, r in enumerate(self.runs)]
        return plot_curves(curves, key, f"{self.name}: {key} per epoch", path=path, ax=ax)

    def __str__(self) -> str:
        head = (f"{self.name}: {self.monitor} {_fmt(self.score)}"
                + (f" ± {_fmt(self.std)}" if len(self.runs) > 1 else "")
                + f" over {len(self.runs)} run(s), {self.n_params} parameters, "
                f"{self.seconds:.2f} s")
        return head + "\n" + text_table(self.rows())


@dataclass(frozen=True)
class Results:
    """Several models compared on the same data: a table and their learning curves.

    Attributes:
        trials: one ``Trial`` per model, in the order they were tried.
        title: what the study was.
        seed: the seed every run's seed was derived from (runs are reproducible from it).
    """

    trials: tuple[Trial, ...]
    title: str = "results"
    seed: int | None = None

    @property
    def best(self) -> Trial:
        """The trial with the best mean score (diverged trials never win)."""
        ok = [t for t in self.trials if not math.isnan(t.score)]
        if not ok:
            raise ValueError(f"No trial of {self.title!r} has a score; every run failed")
        sign = 1 if ok[0].mode == "min" else -1
        return min(ok, key=lambda t: sign * t.score)

    def rows(self) -> list[dict]:
        """One dict per trial; keys missing in some rows are filled with ``None``."""
        rows = [t.summary_row() for t in self.trials]
        keys: list[str] = []
        for row in rows:
            keys += [k for k in row if k not in keys]
        best = self.best.name if any(not math.isnan(t.score) for t in self.trials) else None
        return [{**{k: row.get(k) for k in keys}, "best": "*" if row["model"] == best else ""}
                for row in rows]

    def to_frame(self):
        """The table as a pandas DataFrame, one row per model."""
        return _frame(self.rows())

    def plot(self, path=None, ax=None, key: str | None = None):
        """Draws every model's learning curve (mean over its runs) in one picture.

        Args:
            path: where to save the picture (PNG, SVG, PDF: by extension), if given.
            ax: a matplotlib ``Axes`` to draw on (a new figure otherwise).
            key: the logged value to draw; defaults to the monitored one (``val_loss``).

        Returns:
            The matplotlib ``Figure``.
        """
        from glassnet.experiments._plot import plot_curves

        key = key or (self.trials[0].monitor if self.trials else "val_loss")
        best = self.best.name if self.trials else None
        curves = [(f"{t.name} ({_fmt(t.score)})", list(t.curve(key))) for t in self.trials]
        highlight = next((i for i, t in enumerate(self.trials) if t.name == best), None)
        runs = {len(t.runs) for t in self.trials}
        each = f" (mean of {runs.pop()} runs each)" if len(runs) == 1 and max(
            len(t.runs) for t in self.trials) > 1 else ""
        return plot_curves(curves, key, f"{self.title}: {key} per epoch{each}", path=path,
                           ax=ax, highlight=highlight)

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self) -> Iterator[Trial]:
        return iter(self.trials)

    def __getitem__(self, key: int | str) -> Trial:
        """A trial by position or by name."""
        if isinstance(key, str):
            for trial in self.trials:
                if trial.name == key:
                    return trial
            raise KeyError(f"No trial named {key!r}. Trials: {[t.name for t in self.trials]}")
        return self.trials[key]

    def __str__(self) -> str:
        head = f"{self.title} (seed {self.seed})" if self.seed is not None else self.title
        text = head + "\n" + text_table(self.rows())
        if self.trials and not all(math.isnan(t.score) for t in self.trials):
            text += f"\nbest: {self.best.name}"
        return text
