"""The page's small web server (Tornado, ``pip install tornado``), in its own thread.

Safe by default: it listens on 127.0.0.1 on a free port; every request must carry the random
token of the URL (``?token=...`` or the ``X-Glassnet-Token`` header) or gets 403; on the
loopback address a request whose ``Host`` is not a loopback name gets 403 too (a web page
elsewhere cannot reach it by renaming itself). The page reads state with ``GET``; the only
requests that change anything are ``POST /api/pause``, ``/api/resume``, ``/api/step`` and
``/api/row`` (which row is shown). Nothing a request sends is evaluated; the files served are
a fixed list packaged with glassnet.

Updates go to the page as Server-Sent Events (``GET /events``) about twice a second,
each carrying what changed: the status, the batches and epochs since the last event, and
the network when a new snapshot was taken.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import secrets
import sys
import threading
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

TICK = 0.5  # seconds between two looks for news, per connected page
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
        expand = _expand(self)
        self.send_json(self.live.message(expand, 0, 0, None, full=True)[0])


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
        self.send_json({"status": self.live.status()})


class _Events(_Handler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        expand = _expand(self)
        session = self.live.session
        session.connected(+1)
        batches = epochs = 0
        version = None
        status = None
        quiet = 0
        try:
            while not self.live.closing:
                session.serve_snapshot()
                message, batches, epochs, version, news = self.live.message(
                    expand, batches, epochs, version
                )
                news = news or message["status"] != status
                status = message["status"]
                if news or quiet >= 20:
                    self.write("data: " + json.dumps(message, allow_nan=False) + "\n\n")
                    await self.flush()
                    quiet = 0
                else:
                    quiet += 1
                await asyncio.sleep(TICK)
        except tornado.iostream.StreamClosedError:
            pass
        finally:
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
        self._cache: dict = {}
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._serve, args=(sockets,), name="glassnet-live-page", daemon=True
        )
        self._thread.start()
        self._started.wait(10)

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
            self._started.set()
            await self._stop.wait()
            server.stop()
            await asyncio.sleep(2 * TICK)  # the event streams see `closing` and end cleanly

        try:
            asyncio.run(main())
        except Exception as problem:  # pragma: no cover - logged, never raised into fit
            self.session.report(f"the page's server stopped: {problem}")
        finally:
            self._started.set()

    def close(self) -> None:
        """Stops serving (the page then shows that it lost the connection)."""
        self.closing = True
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(5)

    # --- what the page receives --------------------------------------------------------------

    def status(self) -> dict:
        s = self.session
        model = s.model
        optimizer = getattr(model, "optimizer", None)
        steps = len(s.batches)
        last = s.batches[steps - 1] if steps else (0, -1, None)
        return {
            "model": getattr(model, "name", ""),
            "paused": s.paused,
            "training": s.training,
            "finished": s.finished,
            "epoch": last[0] + 1,
            "batch": last[1] + 1,
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

    def _view(self, expand: frozenset[str]) -> dict | None:
        snapshot = self.session.snapshot
        if snapshot is None:
            return None
        key = (snapshot.version, expand)
        cached = self._cache.get(key)
        if cached is None:
            cached = {
                "version": snapshot.version,
                "network": views.network(snapshot, expand),
                "diagnosis": views.diagnosis(snapshot),
                "error": snapshot.error,
            }
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def _step(self) -> dict | None:
        record = self.session.step_record
        if record is None or record.after is None:
            return None
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
        return {"epoch": record.epoch + 1, "batch": record.batch + 1, "weights": weights}

    def message(
        self, expand: frozenset[str], batches: int, epochs: int, version, full: bool = False
    ):
        """What a page has not seen yet: ``(message, batches, epochs, version, news)``."""
        s = self.session
        new_batches = [
            (batches + k + 1, *entry) for k, entry in enumerate(s.batches[batches:])
        ]  # (step, epoch, ...)
        new_epochs = s.epoch_logs[epochs:]
        view = self._view(expand)
        seen = None if view is None else view["version"]
        status = self.status()
        message = {"status": status, "batches": _clean(new_batches), "epochs": _clean(new_epochs)}
        news = bool(new_batches or new_epochs)
        if full or (view is not None and seen != version):
            message["view"] = view
            message["step"] = self._step()
            news = True
        return (message, batches + len(new_batches), epochs + len(new_epochs), seen, news)


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
