"""``glassnet watch DATA``: train as ``glassnet train`` does, with the live page open.

The options are ``train``'s (the target, the data, the network, training). The page explains
the training rows (as the model takes them: encoded, before its ``Normalization`` layer);
it listens on 127.0.0.1 on a free port unless ``--host``/``--port`` say otherwise, and goes
on showing the trained model until Ctrl+C (or, with ``--no-wait``, ends with training).
The model is saved only when ``--output`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path

from glassnet.cli import train
from glassnet.cli._common import read_data, target_name
from glassnet.cli.errors import CommandError
from glassnet.cli.modelfiles import check_model_path, save_trained


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a whole number, not {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is from 0 to 65535, not {port}")
    return port


def add_parser(subparsers) -> None:
    """Registers ``watch``."""
    parser = subparsers.add_parser(
        "watch",
        help="train as train does, and watch the network learn in a web page",
        description="Train a network as glassnet train does, with a live page showing the "
        "network, each node's value for a chosen row, each weight's slope, the "
        "loss curves and the diagnosis, with Pause, Resume and One step. "
        "Needs pip install tornado.",
    )
    train.add_options(parser)
    parser.add_argument(
        "--output",
        "-o",
        metavar="MODEL",
        help="also save the model (.keras or .h5); not saved by default",
    )
    page = parser.add_argument_group("the page")
    page.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; "
        "another address is reachable from other machines and prints a "
        "warning)",
    )
    page.add_argument("--port", type=_port, default=0, help="port (default 0: a free one)")
    page.add_argument(
        "--no-browser",
        dest="browser",
        action="store_false",
        help="do not open a browser; only print the URL",
    )
    page.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="end when training ends instead of serving the page until Ctrl+C",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Runs ``glassnet watch``; ``stop`` (for tests) ends the wait after training."""
    try:
        from glassnet.callbacks import LiveView
        from glassnet.explain.live import server  # noqa: F401 - fail early without tornado
    except ImportError as missing:
        raise CommandError(str(missing)) from None
    settings = train.settings_from(args)
    output = check_model_path(Path(args.output)) if args.output else None
    table = read_data(args)
    views: list[LiveView] = []

    def live(x, y):
        views.append(LiveView(x, y, port=args.port, host=args.host, open_browser=args.browser))
        return views

    result = train.train_table(
        table, target_name(table, args.target), settings, more_callbacks=live
    )
    if output is not None:
        result.info.data = args.data
        paths = save_trained(result.model, output, result.info, result.history)
        print(f"saved: {', '.join(str(p) for p in paths)}")
    if views and args.wait:
        print(f"the page goes on showing the trained model at {views[0].url}; press Ctrl+C to stop")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends the wait, not an error
            (stop or threading.Event()).wait()
    for view in views:
        view.close()
    return 0
