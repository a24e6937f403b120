"""The state the training thread and the page's server share, and who may touch the model.

While ``fit`` runs, only the training thread reads the model: it takes a snapshot when one is
due (at most ``interval`` seconds apart, and only while a page is connected), or when a page
asked for one (a page connecting, another row, Pause), and while paused it waits here,
taking snapshots the page asks for, until Resume or "one step". When no ``fit`` runs, the
server's thread takes snapshots itself, holding the same lock, so that a ``fit`` starting
meanwhile waits for it. The page only ever reads copies.

The training thread does nothing per batch but store the batch's logs (``LiveView``): it
comes here only when something is ``due``, which the other threads say by ``_call`` (a page
asked, or the server's timer says a snapshot is due). Each batch's loss ends up as one float
in ``losses`` (an ``array``), so that the server sends the new ones as one slice.

Any error while taking a snapshot is logged once and shown on the page; it never reaches
``fit``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import operator
import threading
import time
from array import array
from collections import deque
from dataclasses import dataclass

import numpy as np

from glassnet.explain.live import snapshot as snapshots
from glassnet.explain.live.snapshot import Snapshot
from glassnet.layers.storage import trains

log = logging.getLogger("glassnet.explain.live")

RESUME_AFTER = 30.0  # seconds paused with no page connected before training goes on
COLLECT = 64  # the training thread collects the losses of this many batches or more itself,
# at the start of an epoch, so that few batches' logs wait in memory (measured: fewer is faster)
BUDGET = 0.005  # while training, snapshots (taking them, and the server encoding them for
# the page) take at most this share of the time, and as much again for the diagnosis: a
# large model is snapshotted less often, never slowed more


@dataclass
class StepRecord:
    """The weights before and after one batch applied by "one step"."""

    epoch: int
    batch: int
    weight_names: list[str]
    before: list[np.ndarray]
    after: list[np.ndarray] | None = None


def _weight_names(model) -> list[str]:
    return [
        f"{layer.name}/{s.name}"
        for layer in model.layers
        for s in layer.specs
        if trains(layer, s, model.trainable)
    ]


class Session:
    """One model shown on one page: its records, its latest snapshot, Pause/Resume/step.

    Args:
        model: the glassnet model.
        x, y: the rows the page explains and their targets (``y`` may be ``None``).
        interval: least seconds between two snapshots while training and a page is
            connected; longer when a snapshot takes more than ``BUDGET`` of the time.
        diagnose_every: least seconds between two runs of ``explain.diagnose`` (longer in
            the same way).
    """

    def __init__(
        self, model, x=None, y=None, interval: float = 1.0, diagnose_every: float = 5.0
    ) -> None:
        self.model = model
        self.x = None if x is None else _rows(x)
        self.y = None if y is None else _rows(y)
        if self.x is not None and self.y is not None and len(self.x) != len(self.y):
            raise ValueError(
                f"x and y must have the same number of rows. Received "
                f"{len(self.x)} rows of x and {len(self.y)} of y"
            )
        self.interval = float(interval)
        self.diagnose_every = float(diagnose_every)
        self.row = 0
        self.typed: tuple | None = None  # (row, target or None) typed on the page
        self.lock = threading.Condition()
        self.paused = False
        self.permits = 0
        self.training = False
        self.finished = False
        self.epochs_planned: int | None = None
        self.steps_per_epoch: int | None = None
        self.epoch = 0  # the epoch being trained
        self.losses = array("d")  # the loss logged after each batch (NaN: none), collected
        # {batch: logs} per epoch, as the batches end, until collected into ``losses`` (the
        # last is the epoch being trained); of the first, ``_taken`` are collected already
        self._epochs: deque[dict] = deque()
        self._taken = 0
        self._backlog = 0  # batches of complete epochs since the last collection
        self.epoch_logs: list[dict] = []  # {"epoch", "learning_rate", **logs} per epoch
        self.snapshot: Snapshot | None = None
        self.step_record: StepRecord | None = None
        self.stepping: StepRecord | None = None
        self.want_snapshot = True
        self.waiting = False  # the training thread is waiting before a batch (paused)
        self.clients = 0
        self.last_client = time.monotonic()
        self.error: str | None = None
        self._logged: set[str] = set()
        self.due = False  # the training thread is to come here after its next batch
        self.arm = None  # has the training thread come (set by ``LiveView``)
        self.schedule = None  # ``schedule(seconds)``: ``due_now`` then (set by the server)
        self.encode_seconds = 0.0  # how long the server took to encode the last snapshot
        self._next_diagnosis = 0.0
        self._version = 0
        self.notify = None  # called (from any thread) when a page should hear news at once

    # --- the page's requests (server thread) ------------------------------------------------

    def pause(self) -> None:
        with self.lock:
            self.paused = True
            self.want_snapshot = True
            self._call()
            self.lock.notify_all()

    def resume(self) -> None:
        with self.lock:
            self.paused = False
            self.permits = 0
            self.lock.notify_all()

    def one_step(self) -> bool:
        """Lets exactly one batch through while paused; ``False`` when not paused or not
        training (nothing to step)."""
        with self.lock:
            if not (self.paused and self.training):
                return False
            self.permits += 1
            self.lock.notify_all()
            return True

    def choose_row(self, row: int) -> None:
        """Shows row ``row`` of the explained rows (changes what is shown, nothing else)."""
        rows = self.rows()
        if not 0 <= row < max(rows, 1):
            raise ValueError(f"row must be between 0 and {rows - 1}. Received: {row}")
        with self.lock:
            self.row = row
            self.typed = None
            self.want_snapshot = True
            self._call()
            self.lock.notify_all()
        self.serve_snapshot()

    def choose_values(self, values: list[float], target: list[float] | None = None) -> None:
        """Shows a row typed on the page (and its target, for the slopes); changes what is
        shown, nothing else.

        Raises:
            ValueError: for values that are not finite numbers, or not as many as the model
                takes (or, for the target, as the targets have).
        """
        shape = self._row_shape()
        row = _finite(values, "values")
        if shape is not None and row.size != int(np.prod(shape)):
            raise ValueError(
                f"the model takes {int(np.prod(shape))} values per row; received {row.size}"
            )
        row = row.reshape(1, *(shape or (row.size,)))
        goal = None
        if target is not None:
            goal = _finite(target, "target")
            if self.y is not None:
                width = int(np.prod(np.shape(self.y)[1:]))
                if goal.size != width:
                    raise ValueError(f"a target has {width} values; received {goal.size}")
                goal = goal.reshape(1, *np.shape(self.y)[1:])
            else:
                goal = goal.reshape(1, -1)
        with self.lock:
            self.typed = (row, goal)
            self.want_snapshot = True
            self._call()
            self.lock.notify_all()
        self.serve_snapshot()

    def _row_shape(self) -> tuple | None:
        if self.x is not None:
            return tuple(np.shape(self.x)[1:])
        shape = getattr(self.model, "input_shape", None)
        return None if shape is None else tuple(shape)

    def rows(self) -> int:
        return 0 if self.x is None else len(self.x)

    def connected(self, change: int) -> None:
        """A page connected (``+1``) or went away (``-1``). A page that connects gets a
        fresh snapshot; with none connected, training takes none (and, paused, goes on
        after ``RESUME_AFTER`` seconds)."""
        with self.lock:
            self.clients += change
            self.last_client = time.monotonic()
            if change > 0:
                self.want_snapshot = True
                self._call()
            self.lock.notify_all()

    def serve_snapshot(self) -> None:
        """Outside training, takes the snapshot the page asked for in this (server) thread.

        A snapshot asked for (``want_snapshot``, set under ``lock``) is taken exactly once,
        by whichever thread may read the model when it looks under ``lock``: while
        ``training``, the training thread (after its next batch, or at once while it waits
        paused: every request notifies ``lock``); otherwise this one. ``take`` clears
        ``want_snapshot`` under the same lock, so the other thread finds nothing to do."""
        if self.training or not self.want_snapshot:
            return  # the usual case: nothing to do, and no lock taken
        with self.lock:
            if not self.training and self.want_snapshot:
                self.take(force_diagnosis=True, news=False)

    # --- the training thread ---------------------------------------------------------------

    def begin_training(self, params: dict) -> None:
        with self.lock:
            self.training = True
            self.finished = False
            self.epochs_planned = params.get("epochs")
            self.steps_per_epoch = params.get("steps")
            # the first diagnosis comes after ``diagnose_every`` seconds of training
            self._next_diagnosis = time.monotonic() + self.diagnose_every
            if self.clients and self.want_snapshot:
                self._call()
            else:  # a connected page has a snapshot already: the next in ``interval``
                self._plan(self.interval)

    def end_training(self) -> None:
        with self.lock:
            if self.clients:
                self.take(force_diagnosis=True)
            else:  # the next page to connect gets it (``serve_snapshot``)
                self.want_snapshot = True
            self.training = False
            self.finished = True
            self.paused = False
            self.permits = 0
            self.stepping = None
            self.lock.notify_all()
        self._tell()

    def wait_turn(self, epoch: int, batch: int) -> None:
        """Between two batches: waits while paused (taking snapshots the page asks for) until
        Resume, or "one step" lets this one batch through."""
        with self.lock:
            try:
                self._wait_turn(epoch, batch)
            finally:
                self.waiting = False

    def _wait_turn(self, epoch: int, batch: int) -> None:
        # Every change read here is made under ``lock`` and notifies it (Pause, Resume, a
        # step, a row, a page connecting or leaving), and the loop reads them all under
        # ``lock`` before it waits: no request can come between the reading and the waiting
        # unseen. The wait's timeout is only for going on without a page.
        while self.paused:
            if self.want_snapshot:
                self.take(force_diagnosis=True)
            if self.permits:
                self.permits -= 1
                self.stepping = StepRecord(
                    epoch,
                    batch,
                    _weight_names(self.model),
                    [w.copy() for w in self.model.trainable_weights],
                )
                self._call()
                return
            timeout = None
            if self.clients == 0:
                timeout = self.last_client + RESUME_AFTER - time.monotonic()
                if timeout <= 0:
                    self.report("no page has been connected for a while; training goes on")
                    self.paused = False
                    return
            self.waiting = True  # waiting for the page (tests read it)
            self.lock.wait(timeout)
            self.waiting = False

    @property
    def steps(self) -> int:
        """Batches trained while watched."""
        return self.progress()[0]

    @property
    def batch(self) -> int:
        """The index of the last batch trained in this epoch (-1: none yet)."""
        return self.progress()[1]

    def progress(self) -> tuple[int, int]:
        """``(steps, batch)`` read together: batches trained while watched, and the index of
        the last batch of this epoch (-1: none yet).

        Any thread. ``_epochs`` only changes under ``lock`` (``new_epoch``, ``collect``);
        the training thread adds to its last dict without it, where only ``len`` is read
        (one C call: never an iteration that a new batch would break)."""
        with self.lock:
            epochs = self._epochs
            steps = len(self.losses) - self._taken + sum(map(len, epochs))
            return steps, (len(epochs[-1]) - 1 if epochs else -1)

    def new_epoch(self, epoch: int) -> dict:
        """Starts epoch ``epoch``: returns the dict the training thread fills with each
        batch's logs, ``{batch: logs}``. Once per epoch, in constant time (a deque append)
        but every ``COLLECT`` batches, when the losses waiting are collected here (the
        server also collects them every two seconds while training, page or not)."""
        epochs = self._epochs
        logs: dict = {}
        with self.lock:  # once per epoch (uncontended: well under a microsecond)
            if epochs:
                self._backlog += len(epochs[-1])
                if self._backlog > COLLECT:
                    self.collect()
            self.epoch = epoch
            epochs.append(logs)
        return logs

    def collect(self) -> None:
        """Moves the losses of the batches ended since the last call into ``losses`` (the
        caller holds ``lock``; any thread, while the training thread goes on filling the
        last epoch's dict)."""
        self._backlog = 0
        epochs = self._epochs
        fresh: list = []
        while epochs:
            logs = epochs[0]
            n = len(logs)
            if n > self._taken:
                values = logs.values()
                fresh.extend(
                    values
                    if self._taken == 0 and len(epochs) > 1
                    else itertools.islice(values, self._taken, n)
                )
                self._taken = n
            # an epoch before the last is complete: dropped once all of it is collected
            if len(epochs) > 1 and len(logs) == self._taken:
                epochs.popleft()
                self._taken = 0
            else:
                break
        if fresh:
            try:
                self.losses.extend(array("d", map(_LOSS, fresh)))
            except (KeyError, TypeError, ValueError, IndexError):
                self.losses.extend(array("d", map(_loss, fresh)))

    def _call(self) -> None:
        """Has the training thread come here after its next batch."""
        self.due = True
        arm = self.arm
        if arm is not None:
            arm()

    def due_now(self) -> None:
        """The server's timer: a snapshot is due (if a page still watches training)."""
        with self.lock:
            if self.training and self.clients:
                self._call()

    def after_batch(self, epoch: int, batch: int) -> None:
        """After a batch (its loss already recorded): finishes a step, takes a snapshot when
        one is due or asked for, and waits while paused."""
        with self.lock:
            if self.stepping is not None:
                self.stepping.epoch, self.stepping.batch = epoch, batch  # the batch applied
                self.stepping.after = [w.copy() for w in self.model.trainable_weights]
                self.step_record, self.stepping = self.stepping, None
                self.want_snapshot = True
            if self.clients or self.want_snapshot:
                self.take()
            else:
                self.due = False
        if self.paused:
            self.wait_turn(epoch, batch)

    def after_epoch(self, epoch: int, logs: dict | None) -> None:
        entry = {"epoch": epoch + 1, "learning_rate": snapshots.learning_rate_of(self.model)}
        for key, value in (logs or {}).items():
            try:
                entry[key] = float(value)
            except (TypeError, ValueError):
                continue
        self.epoch_logs.append(entry)

    # --- snapshots -------------------------------------------------------------------------

    def take(self, force_diagnosis: bool = False, news: bool | None = None) -> None:
        """Takes a snapshot now (the caller holds ``lock`` and may touch the model).

        The next is due ``interval`` seconds later while a page is connected (the server's
        timer says so), never while none is. A snapshot a page asked for
        (``want_snapshot``; ``news``) is announced at once (``notify``); the others go with
        the page's next regular update."""
        if news is None:
            news = self.want_snapshot
        self.want_snapshot = False
        self.due = False
        now = time.monotonic()
        if self.x is None and self.typed is None:
            self._plan(self.interval)
            return  # nothing to explain yet (the rows of the first batch come with it)
        due = force_diagnosis or now >= self._next_diagnosis
        try:
            self._version += 1
            taken = snapshots.take(
                self.model,
                self.x,
                self.y,
                self.row,
                self._version,
                diagnosis=None if self.snapshot is None else self.snapshot.diagnosis,
                with_diagnosis=due,
                typed=self.typed,
            )
        except Exception as problem:  # never stop fit: say it once, show it on the page
            self.report(f"the page could not read the model: {type(problem).__name__}: {problem}")
            self._plan(self.interval)
            return
        now = time.monotonic()
        self._plan(max(self.interval, (taken.seconds + self.encode_seconds) / BUDGET))
        if due:
            self._next_diagnosis = now + max(self.diagnose_every, taken.diagnosis_seconds / BUDGET)
        if taken.error:
            self.report(taken.error)
        self.snapshot = taken
        if news:
            self._tell()

    def _plan(self, seconds: float) -> None:
        """The next snapshot in ``seconds``, while training with a page connected."""
        schedule = self.schedule
        if schedule is not None and self.training and self.clients:
            with contextlib.suppress(Exception):  # a server closing: no more snapshots
                schedule(seconds)

    def _tell(self) -> None:
        """Has the connected pages sent what changed now rather than at their next tick."""
        notify = self.notify
        if notify is not None and self.clients:
            with contextlib.suppress(Exception):  # a server closing: its tick will do
                notify()

    def use_rows(self, x) -> None:
        """Explains the rows of the latest batch when no rows were given (no targets, so
        the page shows values only)."""
        if self.x is None and x is not None:
            self.x = np.array(x, copy=True).reshape(len(x), -1)[:64]
            self.want_snapshot = True
            self._call()

    def report(self, message: str) -> None:
        """Shows ``message`` on the page and logs it once."""
        self.error = message
        if message not in self._logged:
            self._logged.add(message)
            log.warning("glassnet live page: %s", message)


_LOSS = operator.itemgetter("loss")


def _loss(logs) -> float:
    """A batch's logged loss as a float; NaN when there is none or it is not a number."""
    try:
        return float(logs["loss"])
    except (KeyError, TypeError, ValueError, IndexError):
        return float("nan")


def _rows(data):
    """An array of rows (a pandas object stays as it is: its column names name the inputs)."""
    if type(data).__module__.startswith("pandas"):
        return data
    return np.asarray(data)


def _finite(values, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite numbers; received {list(values)!r}")
    return array
