"""``glassnet watch DATA``: ``train``'s options, the live page while training and after it."""

from __future__ import annotations

import json
import threading
import urllib.request

from ci_tools import require_tool

from glassnet.cli import build_parser, watch

require_tool("tornado", "the live page's server; pip install tornado")

FAST = ("--epochs", "2", "--hidden", "4", "--no-browser")


def test_watch_trains_like_train_with_the_page_and_saves_only_when_asked(cli, tmp_path):
    run = cli("watch", "wages", *FAST, "--no-wait")
    assert run.code == 0, run
    assert "split: 427 rows for training, 107 for validation" in run.out
    assert "glassnet live page: http://127.0.0.1:" in run.out
    assert "validation scores (107 rows)" in run.out
    assert not list(tmp_path.glob("*.keras"))
    run = cli("watch", "wages", *FAST, "--no-wait", "--output", "w.keras")
    assert run.code == 0, run
    assert (tmp_path / "w.keras").is_file()


def test_watch_takes_every_train_option():
    parser = build_parser()
    train_options = {a.dest for a in parser._subparsers._group_actions[0].choices["train"]._actions}
    watch_options = {a.dest for a in parser._subparsers._group_actions[0].choices["watch"]._actions}
    assert train_options <= watch_options
    assert {"host", "port", "browser", "wait"} <= watch_options


def test_watch_serves_the_trained_model_until_stopped(capsys):
    args = build_parser().parse_args(["watch", "wages", *FAST])
    stop = threading.Event()
    done = []
    worker = threading.Thread(target=lambda: done.append(watch.run(args, stop)), daemon=True)
    worker.start()
    url = None
    while url is None and worker.is_alive():
        for line in capsys.readouterr().out.splitlines():
            if line.startswith("the page goes on showing the trained model at "):
                url = line.split(" at ")[1].split(";")[0]
        stop.wait(0.05)
    base, token = url.split("?token=")
    with urllib.request.urlopen(f"{base}api/state?token={token}", timeout=10) as response:
        state = json.loads(response.read())
    assert state["status"]["finished"]
    assert len(state["epochs"]) == 2
    names = [c["name"] for c in state["view"]["network"]["columns"]]
    assert names == ["input", "normalization", "hidden", "output"]  # every recorded layer
    stop.set()
    worker.join(30)
    assert done == [0]


def test_a_bad_port_is_an_argument_error(cli):
    run = cli("watch", "wages", "--port", "70000")
    assert run.code == 2
    assert "a port is from 0 to 65535" in run.err
