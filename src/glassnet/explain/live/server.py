"""The page's small web server (Tornado, ``pip install tornado``), in its own thread.

Safe by default: it listens on 127.0.0.1 on a free port; every request must carry the random
token of the URL (``?token=...`` or the ``X-Glassnet-Token`` header) or gets 403; on the
loopback address a request whose ``Host`` is not a loopback name gets 403 too (a web page
elsewhere cannot reach it by renaming itself). The page reads state with ``GET``; the only
requests that change anything are ``POST /api/pause``, ``/api/resume``, ``/api/step`` and
``/api/row`` (which row is shown). Nothing a request sends is evaluated; the files served are
a fixed list packaged with glassnet.

Updates go to the page as Server-Sent Events (``GET /events``) every two seconds, and at once
when something the page asked for is ready (a row, Pause, One step). Each carries only what
that page has not seen: the status (with the latest snapshot's number), the losses of the
batches since the last event (one base64 string of float64s), the epochs since then and the
step's weights when a new step was applied. The page fetches the network itself
(``GET /api/view``) when it is about to draw it and a newer snapshot exists, so that a
snapshot is encoded only for a page that shows it, and once, whatever the number of pages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hmac
import json
import secrets
import sys
import threading
import time
from array import array
from importlib import resources

try:
    import tornado.httpserver
    import tornado.iostream
    import tornado.netutil
    import tornado.web
except ImportError as missing:  # pragma: no cover - tornado is installed where tests run
    raise ImportError(
        "The live page needs Tornado. Install it with pip install tornado "
        f'(or, in glassnet\'s clone, pip install ".[watch]"). ({missing})'
    ) from None

from glassnet.explain.live import view as views
from glassnet.explain.live.session import Session

TICK = 2.0  # seconds between two updates of a connected page (sooner for what it asked)
QUIET = 10  # ticks with nothing new before a page gets its status anyway (a keep-alive)
STATIC = {  # the files the page may fetch, and their types
    "live.js": "text/javascript; charset=utf-8",
    "live.css": "text/css; charset=utf-8",
    "uPlot.iife.min.js": "text/javascript; charset=utf-8",
    "uPlot.min.css": "text/css; charset=utf-8",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
_STEP_VALUES = 5000  # a step's weights are sent in full up to this many values


def _static(name: str) -> bytes:
    return resources.files("glassnet.explain.live").joinpath("static", name).read_bytes()


class _Handler(tornado.web.RequestHandler):
    """Checks the token (and, on loopback, the Host) before anything else."""

    def initialize(self, server: LiveServer) -> None:
        self.live = server

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "SAMEORIGIN")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'self' http://localhost:* "
            "http://127.0.0.1:*",
        )

    def prepare(self) -> None:
        token = self.get_query_argument("token", None) or self.request.headers.get(
            "X-Glassnet-Token"
        )
        if not token or not hmac.compare_digest(token.encode(), self.live.token.encode()):
            raise tornado.web.HTTPError(403, reason="Forbidden: a valid token is required")
        if self.live.loopback:
            host = self.request.host_name
            if host not in LOOPBACK_NAMES:
                raise tornado.web.HTTPError(403, reason="Forbidden: not a loopback host")

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {self._reason}\n")

    def send_json(self, data) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, allow_nan=False))


class _Page(_Handler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        page = _static("index.html").decode("utf-8")
        self.finish(page.replace("{{TOKEN}}", self.live.token))


class _Static(_Handler):
    def get(self, name: str) -> None:
        kind = STATIC.get(name)
        if kind is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", kind)
        self.finish(_static(name))


class _State(_Handler):
    def get(self) -> None:
        self.live.session.serve_snapshot()
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(self.live.update(_Seen(), _expand(self), full=True)[0])


class _View(_Handler):
    def get(self) -> None:
        live = self.live
        live.session.serve_snapshot()
        snapshot = live.session.snapshot
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish("null" if snapshot is None else live._view(snapshot, _expand(self)))


class _Control(_Handler):
    def post(self, action: str) -> None:
        session = self.live.session
        if action == "pause":
            session.pause()
        elif action == "resume":
            session.resume()
        elif action == "step":
            if not session.one_step():
                raise tornado.web.HTTPError(409, reason="Pause training first, then step")
        elif action == "row":
            try:
                values = self.get_query_argument("values", None)
                if values is not None:  # a row typed on the page: numbers only
                    target = self.get_query_argument("target", None)
                    session.choose_values(
                        _numbers(values), None if not target else _numbers(target)
                    )
                else:
                    session.choose_row(int(self.get_query_argument("row")))
            except ValueError as problem:
                raise tornado.web.HTTPError(400, reason=str(problem)) from None
        else:
            raise tornado.web.HTTPError(404)
        self.live.wake()  # the pages hear of it now, not at their next tick
        self.send_json({"status": self.live.status()})


class _Seen:
    """What one page has been sent: how many batches and epochs, which step, and the last
    status."""

    __slots__ = ("batches", "epochs", "step", "status")

    def __init__(self) -> None:
        self.batches = 0
        self.epochs = 0
        self.step = None
        self.status = None


class _Events(_Handler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        live = self.live
        session = live.session
        news = asyncio.Event()  # set by ``wake``: something the page asked for is ready
        live.listeners.add(news)
        session.connected(+1)
        seen = _Seen()
        quiet = QUIET  # the first event goes at once
        try:
            while not live.closing:
                news.clear()
                session.serve_snapshot()
                text, changed = live.update(seen)
                if changed or quiet >= QUIET:
                    self.write("data: " + text + "\n\n")
                    await self.flush()
                    quiet = 0
                else:
                    quiet += 1
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(news.wait(), TICK)
        except tornado.iostream.StreamClosedError:
            pass
        finally:
            live.listeners.discard(news)
            session.connected(-1)


def _numbers(text: str) -> list[float]:
    """Comma-separated numbers (``float`` reads them; nothing else is done with the text)."""
    if len(text) > 100_000:
        raise ValueError("too many values")
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(
            f"values must be numbers separated by commas; received {text[:80]!r}"
        ) from None


def _expand(handler: _Handler) -> frozenset[str]:
    return frozenset(n for n in handler.get_query_argument("expand", "").split(",") if n)


class LiveServer:
    """Serves one ``Session``'s page from a thread of its own until ``close()``.

    Args:
        session: what to show.
        host: the address to listen on (``127.0.0.1``: this machine only).
        port: the port; 0 picks a free one. A port in use is replaced by a free one, with a
            line saying so.
    """

    def __init__(self, session: Session, host: str = "127.0.0.1", port: int = 0) -> None:
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.closing = False
        self.loopback = host in ("127.0.0.1", "localhost", "::1")
        try:
            sockets = tornado.netutil.bind_sockets(port, host)
        except OSError as problem:
            if problem.errno != errno.EADDRINUSE or port == 0:
                raise
            sockets = tornado.netutil.bind_sockets(0, host)
            print(
                f"glassnet: port {port} is in use; the page uses port "
                f"{sockets[0].getsockname()[1]} instead",
                file=sys.stderr,
            )
        self.host = host
        self.port = int(sockets[0].getsockname()[1])
        if not self.loopback:
            print(
                f"glassnet: warning: the live page listens on {host}:{self.port}, reachable "
                "from other machines; anyone with its URL can see the model and the rows "
                "and pause training",
                file=sys.stderr,
            )
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        self.url = f"http://{shown_host}:{self.port}/?token={self.token}"
        self._cache: dict = {}  # (snapshot version, expand) -> the network's JSON text
        self._step_text: tuple = (None, "null")  # (step record, its JSON text)
        self.listeners: set[asyncio.Event] = set()  # one per connected page (server thread)
        self._timer: asyncio.TimerHandle | None = None  # when the next snapshot is due
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._serve, args=(sockets,), name="glassnet-live-page", daemon=True
        )
        self._thread.start()
        self._started.wait(10)
        session.notify = self.wake
        session.schedule = self.schedule

    def _serve(self, sockets) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            kwargs = {"server": self}
            app = tornado.web.Application(
                [
                    (r"/", _Page, kwargs),
                    (r"/static/([A-Za-z0-9_.]+)", _Static, kwargs),
                    (r"/api/state", _State, kwargs),
                    (r"/api/view", _View, kwargs),
                    (r"/api/(pause|resume|step|row)", _Control, kwargs),
                    (r"/events", _Events, kwargs),
                ],
                log_function=lambda handler: None,
                default_handler_class=_NotFound,
                default_handler_args=kwargs,
                compress_response=False,
            )
            server = tornado.httpserver.HTTPServer(app)
            server.add_sockets(sockets)
            collector = asyncio.create_task(self._collect())
            self._started.set()
            await self._stop.wait()
            collector.cancel()
            server.stop()
            self._wake_all()  # the event streams see `closing` and end cleanly
            for _ in range(40):
                if not self.listeners:
                    break
                await asyncio.sleep(0.025)

        try:
            asyncio.run(main())
        except Exception as problem:  # pragma: no cover - logged, never raised into fit
            self.session.report(f"the page's server stopped: {problem}")
        finally:
            self._started.set()

    async def _collect(self) -> None:
        """Collects the batches' losses every ``TICK`` while training, a page connected or
        not: a long epoch's logs do not wait in memory for its end."""
        session = self.session
        while True:
            await asyncio.sleep(TICK)
            if session.training:
                with session.lock:
                    session.collect()

    def wake(self) -> None:
        """Has every connected page sent what changed now (from any thread)."""
        loop = self._loop
        if loop is not None and not self.closing:
            loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for news in self.listeners:
            news.set()

    def schedule(self, seconds: float) -> None:
        """Says to the session, in ``seconds``, that a snapshot is due (from any thread;
        replaces the timer set before)."""
        loop = self._loop
        if loop is not None and not self.closing:
            loop.call_soon_threadsafe(self._set_timer, seconds)

    def _set_timer(self, seconds: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(seconds, self.session.due_now)

    def close(self) -> None:
        """Stops serving (the page then shows that it lost the connection)."""
        self.closing = True
        self.session.notify = None
        self.session.schedule = None
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(5)

    # --- what the page receives --------------------------------------------------------------

    def status(self) -> dict:
        s = self.session
        model = s.model
        optimizer = getattr(model, "optimizer", None)
        steps, batch = s.progress()
        return {
            "model": getattr(model, "name", ""),
            "paused": s.paused,
            "training": s.training,
            "finished": s.finished,
            "epoch": s.epoch + 1 if steps else 1,
            "batch": batch + 1 if steps else 0,
            "steps": steps,
            "epochs": s.epochs_planned,
            "steps_per_epoch": s.steps_per_epoch,
            "rows": s.rows(),
            "row": s.row,
            "has_targets": s.y is not None,
            "optimizer": None if optimizer is None else type(optimizer).__name__,
            "can_step": s.paused and s.training,
            "error": s.error,
            "snapshot": None if s.snapshot is None else s.snapshot.version,
        }

    def _view(self, snapshot, expand: frozenset[str]) -> str:
        """The snapshot's network and diagnosis as JSON text, encoded once per snapshot
        (and set of expanded layers), whatever the number of pages."""
        key = (snapshot.version, expand)
        text = self._cache.get(key)
        if text is None:
            started = time.perf_counter()
            text = json.dumps(
                {
                    "version": snapshot.version,
                    "network": views.network(snapshot, expand),
                    "diagnosis": views.diagnosis(snapshot),
                    "error": snapshot.error,
                },
                allow_nan=False,
            )
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = text
            # counted in the snapshots' share of the time (``Session.take``)
            self.session.encode_seconds = time.perf_counter() - started
        return text

    def _step(self, record) -> str:
        """The weights before and after the step ``record``, as JSON text (encoded once)."""
        if record is None or record.after is None:
            return "null"
        done, text = self._step_text
        if done is record:
            return text
        total = sum(w.size for w in record.before)
        weights = []
        for name, old, new in zip(record.weight_names, record.before, record.after, strict=True):
            keep = old.size if total <= _STEP_VALUES else min(old.size, 100)
            weights.append(
                {
                    "name": name,
                    "shape": list(old.shape),
                    "size": int(old.size),
                    "before": [views.number(v) for v in old.ravel()[:keep]],
                    "after": [views.number(v) for v in new.ravel()[:keep]],
                }
            )
        text = json.dumps(
            {"epoch": record.epoch + 1, "batch": record.batch + 1, "weights": weights},
            allow_nan=False,
        )
        self._step_text = (record, text)
        return text

    def update(self, seen: _Seen, expand: frozenset[str] = frozenset(), full: bool = False):
        """What a page has not seen yet, as JSON text, and whether there is anything new:
        ``(text, news)``. ``seen`` is updated to what the text holds.

        The text is ``{"status", "batches": {"first", "losses"}, "epochs"}``, with ``step``
        when the page has not seen the latest step. ``full`` (``/api/state``) adds ``view``
        (the network and diagnosis, ``null`` before the first snapshot) and sends ``step``
        always. ``first`` numbers the first new batch (from 1); ``losses`` are their
        losses, float64 little-endian in base64 (NaN: no loss).
        """
        s = self.session
        with s.lock:
            s.collect()
        status = self.status()
        n = len(s.losses)
        losses = s.losses[seen.batches : n]
        epochs = s.epoch_logs[seen.epochs :]
        parts = [
            '{"status":',
            json.dumps(_clean(status), allow_nan=False),
            ',"batches":{"first":',
            str(seen.batches + 1),
            ',"losses":"',
            _base64(losses),
            '"},"epochs":',
            json.dumps(_clean(epochs), allow_nan=False),
        ]
        news = bool(losses or epochs) or status != seen.status
        seen.batches, seen.epochs, seen.status = n, seen.epochs + len(epochs), status
        if full:
            snapshot = s.snapshot
            parts += [',"view":', "null" if snapshot is None else self._view(snapshot, expand)]
        record = s.step_record
        if record is not None and record.after is None:
            record = None
        if full or record is not seen.step:
            parts += [',"step":', self._step(record)]
            seen.step = record
            news = True
        parts.append("}")
        return "".join(parts), news


def _base64(values: array) -> str:
    """Float64s as base64 text, little-endian (the page reads them as a Float64Array)."""
    if sys.byteorder != "little":  # pragma: no cover - every machine glassnet runs on
        values = array("d", values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


class _NotFound(_Handler):
    def get(self, *args) -> None:
        raise tornado.web.HTTPError(404)

    post = get


def _clean(data):
    """Lists and dicts with NaN and infinities as ``None`` (JSON has no such numbers)."""
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_clean(v) for v in data]
    if isinstance(data, float):
        return views.number(data)
    return data
