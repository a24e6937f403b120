"""``LiveView``: the callback that serves the live page while ``fit`` runs, and ``serve``.

The hooks do as little as they can. After each batch, ``fit`` calls a C function that stores
the batch's logs in a dict (``{batch: logs}``, one per epoch): no Python code runs per batch,
no clock is read. When the page's machinery has something for the training thread (a
snapshot is due, the page asked for a row, Pause, a step to finish), it switches that
function for ``LiveView``'s own method, which does it after the next batch and switches
back. While a page is connected a snapshot of the explain tools' results (copies) is taken
every ``interval`` seconds; with none connected, none. A paused page makes ``fit`` wait
between two batches. An error in the page's machinery is logged once and shown on the page;
it never reaches ``fit``.
"""

from __future__ import annotations

import functools
import operator
import sys
import webbrowser

from glassnet.explain import _common, _records
from glassnet.explain.live.session import Session
from glassnet.trainers.callbacks import Callback


def _check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(
            f"`port` must be an integer from 0 (any free port) to 65535. Received: port={port!r}"
        )
    return port


class LiveView(Callback):
    """Shows the model learning, live, in a web page: ``fit(..., callbacks=[LiveView(x, y)])``.

    The page draws the network (nodes, and weights as lines coloured by sign, thick by size),
    every node's input and output for a chosen row (``explain.trace``), each weight's slope
    as the course's three factors and the next step's update (``explain.slopes``,
    ``explain.step``), the loss and metrics per batch and per epoch, the learning rate, the
    diagnosis (``explain.diagnose``), and Pause, Resume and "one step" buttons.

    The URL is printed and kept in ``.url``; the page keeps being served after ``fit`` ends,
    until the process exits or ``close()`` is called. Needs ``pip install tornado``.

    Args:
        x, y: rows to explain and their targets (e.g. the training data); without them the
            page explains the rows of the first batch, values only (no slopes).
        port: the port; 0 (default) picks a free one.
        host: the address to listen on; ``127.0.0.1`` (default) is this machine only.
            Another address prints a warning.
        open_browser: open the page in the default browser when it starts.
        interval: least seconds between two snapshots while training with a page connected
            (default 1; none are taken while no page is connected).

    Example:
        ``model.fit(x, y, epochs=20, callbacks=[LiveView(x, y)])``
    """

    def __init__(
        self,
        x=None,
        y=None,
        port: int = 0,
        host: str = "127.0.0.1",
        open_browser: bool = True,
        interval: float = 1.0,
    ) -> None:
        super().__init__()
        self._port = _check_port(port)
        if not isinstance(host, str) or not host:
            raise TypeError(f"`host` must be an address such as '127.0.0.1'. Received: {host!r}")
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
            raise ValueError(
                f"`interval` must be a number of seconds >= 0. Received: interval={interval!r}"
            )
        self._host = host
        self._open = bool(open_browser)
        self._interval = float(interval)
        self._x, self._y = x, y
        self.session: Session | None = None
        self.server = None
        self._in_fit = False
        self._epoch = 0
        self._logs: dict | None = None  # this epoch's {batch: logs}
        self._store = None

    # --- the page -----------------------------------------------------------------------------

    def set_model(self, model) -> None:
        super().set_model(model)
        if self.session is not None:
            self.session.model = model
            return
        if self._x is not None:  # rows the model cannot take: said now, as fit would
            _common.check_features(model, self._x, "LiveView")
        self.session = Session(model, self._x, self._y, interval=self._interval)
        from glassnet.explain.live.server import LiveServer

        self.server = LiveServer(self.session, self._host, self._port)
        print(f"glassnet live page: {self.url}")
        if self._open:
            try:
                opened = webbrowser.open(self.url)
            except Exception:  # noqa: BLE001 - no browser is fine: the URL is printed
                opened = False
            if not opened:
                print("glassnet: no browser found; open the URL above", file=sys.stderr)

    @property
    def url(self) -> str | None:
        """The page's address, with its token (``None`` before the model is set)."""
        return None if self.server is None else self.server.url

    def close(self) -> None:
        """Stops serving the page. (When ``fit`` ends it calls this too; then the page goes
        on being served, showing the finished training.)"""
        if self._in_fit:
            self._in_fit = False
            if self.session is not None and self.session.training:
                self._guard(self.session.end_training)
            return
        if self.server is not None:
            self.server.close()

    def _repr_html_(self) -> str:
        """In Jupyter: the page in an IFrame."""
        if self.url is None:
            return "<p>LiveView: the page starts when fit begins.</p>"
        return (
            f'<iframe src="{self.url}" width="100%" height="720" '
            'style="border:1px solid #ccc"></iframe>'
        )

    def _guard(self, hook, *args) -> None:
        try:
            hook(*args)
        except Exception as problem:  # never in training's way: logged once, shown
            if self.session is not None:
                self.session.report(f"{type(problem).__name__}: {problem}")

    # --- the hooks ----------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self.session.arm = self._arm
        self._guard(self.session.begin_training, self.params)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        session = self.session
        self._logs = session.new_epoch(epoch)
        # the batch hook while nothing is due: dict.__setitem__ on this epoch's dict, called
        # by fit as on_train_batch_end(batch, logs), in C
        self._store = functools.partial(operator.setitem, self._logs)
        self.on_train_batch_end = self._store
        if session.due:  # set (then armed) before or meanwhile: due is set first, so seen
            self.on_train_batch_end = self._batch_end

    def _arm(self) -> None:
        """Has ``fit`` call ``_batch_end`` after its next batch (any thread; the session's
        lock is held)."""
        self.on_train_batch_end = self._batch_end

    def _batch_end(self, batch, logs=None):
        # After a batch when something is due: stores its logs as the C function does, then
        # pauses, finishes a step or takes a snapshot (``Session.after_batch``), and goes
        # back to the C function when nothing more is due.
        if self._logs is None:  # batches outside fit's epochs (a loop of one's own)
            self._logs = self.session.new_epoch(self._epoch)
            self._store = functools.partial(operator.setitem, self._logs)
        self._logs[batch] = logs
        self._guard(self._after_batch, batch)
        session = self.session
        with session.lock:
            if not session.due:
                self.on_train_batch_end = self._store

    on_train_batch_end = _batch_end  # fit calls batch hooks only on callbacks that have one

    def _after_batch(self, batch) -> None:
        session = self.session
        if session.x is None:
            session.use_rows(_records.last_pass(self.model).layers[0].inputs)
        session.after_batch(self._epoch, batch)

    def on_epoch_end(self, epoch, logs=None):
        self._guard(self.session.after_epoch, epoch, logs)

    def on_train_end(self, logs=None):
        self._guard(self.session.end_training)


def serve(
    model, x=None, y=None, port: int = 0, host: str = "127.0.0.1", open_browser: bool = True
) -> LiveView:
    """Shows a model (trained or not) in the live page, explaining rows ``x`` with targets
    ``y``; returns the ``LiveView`` (``.url``, ``.close()``), which can also be passed to a
    later ``fit``. Needs ``pip install tornado``.

    Example:
        ``page = glassnet.explain.serve(model, x, y)``, then open ``page.url``.
    """
    view = LiveView(x, y, port=port, host=host, open_browser=open_browser)
    view.set_model(model)
    return view
