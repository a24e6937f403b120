"""The live page's server without a browser: the token, the numbers it sends, Pause/step,
bad input, and that ``fit`` is never in its way (``test_live_browser.py`` drives the page)."""

from __future__ import annotations

import base64
import functools
import json
import socket
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet import explain
from glassnet.callbacks import Callback, LiveView
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

require_tool("tornado", "the live page's server; pip install tornado")


def _data(rows=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    return x, x @ np.array([[1.0], [2.0], [-1.0]])


def _model(dtype="float64"):
    model = Sequential(
        [Dense(3, activation="tanh", input_shape=(3,), dtype=dtype), Dense(1, dtype=dtype)]
    )
    model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
    return model


def _get(url, method="GET", headers=None):
    request = urllib.request.Request(
        url, method=method, headers=headers or {}, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def _status(url, **kw):
    try:
        return _get(url, **kw)[0]
    except urllib.error.HTTPError as error:
        return error.code


def _api(view, path, method="GET"):
    base, token = view.url.split("?token=")
    return json.loads(
        _get(f"{base}{path}{'&' if '?' in path else '?'}token={token}", method=method)[1]
    )


def test_import_glassnet_imports_no_server():
    code = (
        "import glassnet, glassnet.explain, glassnet.callbacks, sys; "
        "print('tornado' in sys.modules, 'glassnet.explain.live.server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_every_request_needs_the_token():
    x, y = _data()
    view = explain.serve(_model(), x, y, open_browser=False)
    try:
        base, token = view.url.split("?token=")
        assert view.url.startswith("http://127.0.0.1:")
        for path in ("", "api/state", "static/live.js", "events", "nothing-here"):
            assert _status(base + path) == 403
            assert _status(f"{base}{path}?token=x{token}") == 403
        for path in ("api/pause", "api/resume", "api/step", "api/row?row=1"):
            assert _status(base + path, method="POST") == 403
        assert _status(base + "api/state", headers={"X-Glassnet-Token": token}) == 200
        # another name for the machine is refused on the loopback address (DNS rebinding)
        assert _status(f"{base}api/state?token={token}", headers={"Host": "evil.example"}) == 403
        assert _status(f"{base}static/../../setup.py?token={token}") in (403, 404)
        assert _status(f"{base}?token={token}") == 200
    finally:
        view.close()
    with pytest.raises(urllib.error.URLError):
        _get(view.url)  # closed: nothing listens any more


def test_the_state_holds_the_explain_tools_numbers():
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0)
    view = explain.serve(model, x, y, open_browser=False)
    try:
        _api(view, "api/row?row=7", method="POST")
        state = _api(view, "api/state")
    finally:
        view.close()
    network = state["view"]["network"]
    assert network["row"] == 7
    traced = explain.trace(model, x[7])
    s = explain.slopes(model, x[7], y[7])
    stepped = explain.step(model, x[7], y[7], learning_rate=0.01, apply=False)
    for column, lt, ls in zip(network["columns"][1:], traced.layers, s.layers, strict=True):
        for node in column["nodes"]:
            j = node["index"]
            assert node["input"] == lt.node_inputs[0, j]
            assert node["output"] == lt.outputs[0, j]
            assert node["grad_z"] == ls.grad_z[0, j]
        for edge in column["edges"]:
            i, j = edge["from"], edge["to"]
            assert edge["x"] == ls.x[0, i]
            assert edge["product"] == ls.weights["kernel"].products[0, i, j]
            assert edge["slope"] == s[f"{lt.name}/kernel"][i, j]
            k = stepped.weight_names.index(f"{lt.name}/kernel")
            assert edge["update"] == stepped.updates[k][i, j]
    assert network["loss"] == s.loss
    assert state["view"]["diagnosis"]["rows"] == len(x)
    assert state["epochs"] == []  # served after training: no epochs were watched


def test_pause_step_and_resume_while_fit_runs():
    x, y = _data(32)
    model = _model()
    view = LiveView(x, y, open_browser=False, interval=0.0)
    done = threading.Event()

    def train():
        model.fit(x, y, epochs=10**6, batch_size=32, shuffle=False, callbacks=[view], verbose=0)
        done.set()

    view.set_model(model)
    worker = threading.Thread(target=train, daemon=True)
    worker.start()
    try:
        while view.session.steps < 3:
            threading.Event().wait(0.01)
        assert _status(view.url.replace("/?", "/api/step?"), method="POST") == 409  # not paused
        _api(view, "api/pause", method="POST")
        while not view.session.waiting:  # fit waits before its next batch
            threading.Event().wait(0.01)
        steps = view.session.steps
        expected = explain.step(model, x, y, learning_rate=0.01, apply=False)
        _api(view, "api/step", method="POST")
        while view.session.step_record is None or not view.session.waiting:
            threading.Event().wait(0.01)
        assert view.session.steps == steps + 1  # exactly one batch
        state = _api(view, "api/state")
        for weight, before, after in zip(
            state["step"]["weights"], expected.weights_before, expected.weights_after, strict=True
        ):
            assert weight["before"] == before.ravel().tolist()
            np.testing.assert_allclose(weight["after"], after.ravel(), rtol=1e-12, atol=1e-15)
        with pytest.raises(urllib.error.HTTPError):
            _api(view, "api/row?row=999", method="POST")  # no such row: 400, nothing changes
        _api(view, "api/resume", method="POST")
        while view.session.steps < steps + 5:
            threading.Event().wait(0.01)
    finally:
        view.session.resume()
        model.stop_training = True
        worker.join(30)
        view.close()
    assert done.is_set()


def test_an_error_in_the_page_never_reaches_fit(monkeypatch, caplog):
    x, y = _data()
    model = _model()
    from glassnet.explain.live import snapshot

    readers = []

    def broken(*args, **kwargs):
        readers.append(threading.current_thread())
        raise RuntimeError("boom")

    monkeypatch.setattr(snapshot, "take", broken)
    view = LiveView(x, y, open_browser=False, interval=0.0)
    view.set_model(model)
    base, token = view.url.split("?token=")
    # snapshots are taken only while a page is connected: connect one
    with urllib.request.urlopen(f"{base}events?token={token}", timeout=10) as stream:
        assert stream.readline().startswith(b"data: ")
        history = model.fit(x, y, epochs=3, batch_size=8, callbacks=[view], verbose=0)
    view.close()
    assert len(history.history["loss"]) == 3
    assert threading.current_thread() in readers  # fit's own thread met the error too
    assert "boom" in view.session.error
    assert sum("boom" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_a_port_in_use_is_replaced_and_said(capsys):
    x, y = _data()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        view = explain.serve(_model(), x, y, port=port, open_browser=False)
        view.close()
    assert f":{port}/" not in view.url
    assert f"port {port} is in use" in capsys.readouterr().err


def test_another_host_prints_a_warning(capsys):
    view = explain.serve(_model(), *_data(), host="0.0.0.0", open_browser=False)
    view.close()
    assert "reachable from other machines" in capsys.readouterr().err


def test_an_unbuilt_model_is_shown_once_built():
    model = Sequential([Dense(2), Dense(1)])
    view = explain.serve(model, open_browser=False)
    try:
        assert _api(view, "api/state")["view"] is None
    finally:
        view.close()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"port": -1}, ValueError),
        ({"port": "80"}, ValueError),
        ({"host": ""}, TypeError),
        ({"interval": -1}, ValueError),
    ],
)
def test_bad_arguments_are_refused(kwargs, error):
    with pytest.raises(error):
        LiveView(open_browser=False, **kwargs)


def test_rows_and_targets_must_match():
    with pytest.raises(ValueError, match="same number of rows"):
        explain.serve(_model(), np.zeros((4, 3)), np.zeros((5, 1)), open_browser=False)


def test_a_page_that_disconnects_leaves_fit_alone():
    x, y = _data()
    model = _model()
    view = LiveView(x, y, open_browser=False, interval=0.0)
    view.set_model(model)
    base, token = view.url.split("?token=")
    stream = urllib.request.urlopen(f"{base}events?token={token}", timeout=10)
    assert stream.readline().startswith(b"data: ")
    stream.close()  # the page goes away while training runs
    history = model.fit(x, y, epochs=5, batch_size=8, callbacks=[view], verbose=0)
    assert len(history.history["loss"]) == 5
    assert _api(view, "api/state")["status"]["finished"]  # still served
    view.close()


def test_paused_with_no_page_training_goes_on(monkeypatch):
    from glassnet.explain.live import session as sessions

    monkeypatch.setattr(sessions, "RESUME_AFTER", 0.2)
    x, y = _data()
    model = _model()
    view = LiveView(x, y, open_browser=False)
    view.set_model(model)
    view.session.pause()  # as a page would, then the page closes
    history = model.fit(x, y, epochs=3, batch_size=8, callbacks=[view], verbose=0)
    view.close()
    assert len(history.history["loss"]) == 3
    assert "training goes on" in view.session.error


def test_the_course_network_shows_every_weight_and_node():
    from glassnet.explain import from_node_weights

    weights = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
    model = from_node_weights(weights)
    model.compile(optimizer="sgd", loss="mse")
    view = explain.serve(model, np.array([[2.0, 3.0]]), np.array([[10.0]]), open_browser=False)
    try:
        columns = _api(view, "api/state")["view"]["network"]["columns"]
    finally:
        view.close()
    assert [c["name"] for c in columns] == ["input", "hidden", "output"]
    assert [n["output"] for n in columns[1]["nodes"]] == [5.0, 1.0]  # the course's numbers
    assert [n["output"] for n in columns[2]["nodes"]] == [9.0]
    assert sorted(e["weight"] for e in columns[1]["edges"]) == [-1.0, 1.0, 1.0, 1.0]
    assert [e["weight"] for e in columns[2]["edges"]] == [2.0, -1.0]


def test_in_a_notebook_the_page_shows_in_an_iframe():
    view = explain.serve(_model(), *_data(), open_browser=False)
    try:
        assert view._repr_html_().startswith(f'<iframe src="{view.url}"')
    finally:
        view.close()


def test_a_typed_row_is_explained_with_the_explain_tools_numbers():
    x, y = _data()
    model = _model()
    view = explain.serve(model, x, y, open_browser=False)
    try:
        _api(view, "api/row?values=0.5,-1,2&target=3", method="POST")
        network = _api(view, "api/state")["view"]["network"]
        for bad in ("values=1,2", "values=1,x,2", "values=1,nan,2", "values=1,2,3&target=1,2"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                _api(view, f"api/row?{bad}", method="POST")
            assert refused.value.code == 400
        assert _api(view, "api/state")["view"]["network"] == network  # nothing changed
    finally:
        view.close()
    assert network["row"] == -1
    traced = explain.trace(model, [0.5, -1, 2])
    s = explain.slopes(model, [0.5, -1, 2], [3])
    hidden = network["columns"][1]
    assert [n["output"] for n in hidden["nodes"]] == traced.layers[0].outputs[0].tolist()
    assert [n["grad_z"] for n in hidden["nodes"]] == s.layers[0].grad_z[0].tolist()
    assert network["target"] == [3.0]


def test_rows_the_model_cannot_take_are_refused_before_training():
    model = _model()
    with pytest.raises(ValueError, match="expects 3 features"):
        model.fit(*_data(), epochs=1, callbacks=[LiveView(np.zeros((4, 5)), open_browser=False)])


def test_a_wide_layer_shows_its_strongest_nodes_and_expands():
    x, y = _data()
    model = Sequential([Dense(30, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    view = explain.serve(model, x, y, open_browser=False)
    try:
        name = model.layers[0].name
        narrow = _api(view, "api/state")["view"]["network"]["columns"][1]
        wide = _api(view, f"api/state?expand={name}")["view"]["network"]["columns"][1]
    finally:
        view.close()
    strength = np.linalg.norm(model.layers[0].kernel, axis=0)
    assert narrow["units"] == 30 and len(narrow["nodes"]) == 12
    assert narrow["shown"] == sorted(np.argsort(-strength, kind="stable")[:12].tolist())
    assert len(narrow["edges"]) == 3 * 12
    assert wide["expanded"] and wide["shown"] == list(range(30))


class _Losses(Callback):
    """Each batch's logged loss, as a page would chart it."""

    def __init__(self) -> None:
        super().__init__()
        self.losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def test_with_no_page_training_runs_no_python_per_batch_and_takes_no_snapshot():
    x, y = _data()
    model = _model()
    view = LiveView(x, y, open_browser=False, interval=0.0)
    seen = _Losses()
    model.fit(x, y, epochs=4, batch_size=8, callbacks=[view, seen], verbose=0)
    try:
        # between batches fit calls a C function that stores the logs (dict.__setitem__)
        assert isinstance(view.on_train_batch_end, functools.partial)
        assert view.session.snapshot is None  # nobody watched: nothing was read
        state = _api(view, "api/state")  # a page that comes later gets one at once
    finally:
        view.close()
    assert state["view"]["network"]["row"] == 0
    assert state["status"]["steps"] == 4 * 5 == view.session.steps
    assert _floats(state["batches"]["losses"]) == seen.losses  # every batch's loss


def test_a_connected_page_gets_every_loss_and_snapshots_while_training(monkeypatch):
    from glassnet.explain.live import snapshot

    x, y = _data(400)
    model = _model()
    view = LiveView(x, y, open_browser=False, interval=0.05)
    view.set_model(model)
    seen = _Losses()
    readers = []
    real = snapshot.take

    def take(*args, **kwargs):
        readers.append((threading.current_thread(), view.session.training))
        return real(*args, **kwargs)

    monkeypatch.setattr(snapshot, "take", take)
    base, token = view.url.split("?token=")
    with urllib.request.urlopen(f"{base}events?token={token}", timeout=10) as stream:
        first = json.loads(stream.readline()[len(b"data: ") :])
        model.fit(x, y, epochs=30, batch_size=4, callbacks=[view, seen], verbose=0)
        losses, status = [], first["status"]
        while len(losses) < len(seen.losses) or not status["finished"]:
            line = stream.readline()
            if line.startswith(b"data: "):
                event = json.loads(line[len(b"data: ") :])
                assert event["batches"]["first"] == len(losses) + 1  # only what is new
                losses += _floats(event["batches"]["losses"])
                status = event["status"]
    view.close()
    assert losses == seen.losses
    assert status["steps"] == 30 * 100
    # snapshots taken by fit's thread while it trained, the page watching
    assert (threading.current_thread(), True) in readers


def test_each_snapshot_is_encoded_once_whatever_the_number_of_pages(monkeypatch):
    from glassnet.explain.live import view as views

    x, y = _data()
    calls = []
    real = views.network
    monkeypatch.setattr(views, "network", lambda *a, **k: calls.append(1) or real(*a, **k))
    view = explain.serve(_model(), x, y, open_browser=False)
    try:
        texts = {_get(f"{view.url.replace('/?', '/api/view?')}")[1] for _ in range(3)}
    finally:
        view.close()
    assert len(texts) == 1 and len(calls) == 1
    assert json.loads(texts.pop())["network"]["row"] == 0


def _floats(text: str) -> list[float]:
    """The page's losses: float64s, little-endian, in base64."""
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 8}d", raw))


def test_losses_that_are_not_numbers_are_gaps_not_errors():
    from glassnet.explain.live.session import Session

    session = Session(_model())
    logs = session.new_epoch(0)
    for batch, entry in enumerate(
        [{"loss": 0.5}, {"loss": np.float32(0.25)}, {}, None, {"loss": np.ones(2)}, {"loss": 2}]
    ):
        logs[batch] = entry
    with session.lock:
        session.collect()
    assert session.steps == 6 and session.batch == 5
    got = session.losses.tolist()
    assert got[:2] == [0.5, 0.25] and got[5] == 2.0
    assert all(np.isnan(got[2:5]))


def test_without_a_page_the_losses_are_collected_as_training_goes(monkeypatch):
    from glassnet.explain.live import session as sessions

    monkeypatch.setattr(sessions, "COLLECT", 12)
    x, y = _data()
    model = _model()
    view = LiveView(x, y, open_browser=False)
    seen = _Losses()
    model.fit(x, y, epochs=20, batch_size=8, callbacks=[view, seen], verbose=0)
    view.close()
    session = view.session
    assert len(session._epochs) <= 4  # not one dict per epoch kept for ever
    assert session.steps == 20 * 5
    with session.lock:
        session.collect()
    assert session.losses.tolist() == seen.losses


# --- a row asked for is taken exactly once, by the thread that may read the model -----------
# The page's server thread asks (``choose_row``); the training thread, running, paused or
# stepping, or the server thread itself outside training, takes the snapshot. Here the
# training thread is the test's own thread object, driven step by step.


class _Takes:
    """Records every snapshot taken: (thread name, row)."""

    def __init__(self, monkeypatch) -> None:
        from glassnet.explain.live import snapshot as snapshots

        self.taken: list[tuple[str, int]] = []
        self.inside = threading.Event()  # a take is under way
        self.hold = threading.Event()  # the take under way may end
        self.hold.set()
        real = snapshots.take

        def take(model, x, y, row, *args, **kwargs):
            self.inside.set()
            assert self.hold.wait(10)
            self.taken.append((threading.current_thread().name, row))
            return real(model, x, y, row, *args, **kwargs)

        monkeypatch.setattr(snapshots, "take", take)


def _session(told=None):
    from glassnet.explain.live.session import Session

    x, y = _data()
    session = Session(_model(), x, y, interval=60.0)
    if told is not None:  # who told the page of a new snapshot
        session.notify = lambda: told.append(threading.current_thread().name)
    session.connected(+1)  # a page is connected (the first snapshot is its own)
    return session


def _until(condition, seconds=10.0):
    waited = 0.0
    while not condition():
        assert waited < seconds, "timed out"
        threading.Event().wait(0.005)
        waited += 0.005


def test_a_row_asked_for_outside_training_is_taken_by_the_asking_thread(monkeypatch):
    takes = _Takes(monkeypatch)
    session = _session()
    session.serve_snapshot()  # the connected page's first snapshot
    takes.taken.clear()
    session.choose_row(5)
    assert takes.taken == [(threading.current_thread().name, 5)]
    session.serve_snapshot()  # asked again by the page's next request: nothing to do
    assert takes.taken == [(threading.current_thread().name, 5)]
    assert session.snapshot.row == 5


def test_a_row_asked_for_while_training_runs_is_taken_after_the_next_batch(monkeypatch):
    takes = _Takes(monkeypatch)
    session = _session()
    armed = []
    session.arm = lambda: armed.append(True)
    session.begin_training({"epochs": 1, "steps": 10})
    session.after_batch(0, 0)  # the connected page's first snapshot
    takes.taken.clear()
    armed.clear()
    session.choose_row(5)  # from the server's thread: fit is to come after its next batch
    assert takes.taken == [] and session.due and armed == [True]
    session.after_batch(0, 1)
    assert takes.taken == [(threading.current_thread().name, 5)] and not session.due


@pytest.mark.parametrize("during_take", [False, True], ids=["waiting", "while-taking"])
def test_a_row_asked_for_while_paused_wakes_fit_and_is_taken_once(monkeypatch, during_take):
    """The paused training thread waits on the session's condition with no timeout while a
    page is connected: only the request's notification can wake it. The request comes
    either while it waits, or while it takes the Pause's snapshot (holding the lock), the
    ordering that a check outside the lock would lose."""
    takes = _Takes(monkeypatch)
    told: list[str] = []
    session = _session(told)
    session.begin_training({"epochs": 1, "steps": 10})
    session.pause()
    if during_take:
        takes.hold.clear()
    trainer = threading.Thread(target=session.after_batch, args=(0, 0), name="trainer")
    trainer.start()  # takes the Pause's snapshot, then waits
    asker = None
    if during_take:
        assert takes.inside.wait(10)
        asker = threading.Thread(target=session.choose_row, args=(5,), name="server")
        asker.start()  # blocks on the lock the trainer holds while it takes
        threading.Event().wait(0.05)
        takes.hold.set()
    else:
        _until(lambda: session.waiting)
        session.choose_row(5)
    _until(lambda: len(takes.taken) == 2)
    _until(lambda: session.waiting)  # waiting again: served, and nothing more to do
    if asker is not None:
        asker.join(10)
    assert takes.taken == [("trainer", 0), ("trainer", 5)]
    assert session.snapshot.row == 5 and not session.want_snapshot
    assert told.count("trainer") == 2  # each announced to the page at once
    session.resume()
    trainer.join(10)
    assert not trainer.is_alive()
    assert takes.taken == [("trainer", 0), ("trainer", 5)]


def test_a_row_asked_for_during_one_step_is_taken_once_after_the_step(monkeypatch):
    takes = _Takes(monkeypatch)
    session = _session()
    session.begin_training({"epochs": 1, "steps": 10})
    session.pause()
    trainer = threading.Thread(target=session.after_batch, args=(0, 0), name="trainer")
    trainer.start()
    _until(lambda: session.waiting)
    assert session.one_step()
    trainer.join(10)  # let through: the step's batch runs now
    assert not trainer.is_alive() and session.stepping is not None
    session.choose_row(5)  # asked while the step's batch runs
    assert takes.taken == [("trainer", 0)]
    trainer = threading.Thread(target=session.after_batch, args=(0, 1), name="trainer")
    trainer.start()  # the step ends: one snapshot, of row 5, with the weights after
    _until(lambda: session.waiting)
    assert takes.taken == [("trainer", 0), ("trainer", 5)]
    assert session.step_record is not None and session.step_record.after is not None
    session.resume()
    trainer.join(10)
    assert not trainer.is_alive()


def test_a_page_leaving_a_paused_fit_wakes_it_to_go_on_without_one(monkeypatch):
    from glassnet.explain.live import session as sessions

    monkeypatch.setattr(sessions, "RESUME_AFTER", 0.1)
    session = _session()
    session.begin_training({"epochs": 1, "steps": 10})
    session.pause()
    trainer = threading.Thread(target=session.after_batch, args=(0, 0), name="trainer")
    trainer.start()
    _until(lambda: session.waiting)
    session.connected(-1)  # the only page goes away: fit goes on 0.1 s later
    trainer.join(10)
    assert not trainer.is_alive() and not session.paused


def test_the_status_is_read_while_fit_starts_epochs():
    """The server reads how far training is (``steps``, ``batch``) while the training
    thread starts epochs and stores batches' logs: never an error. (Read by iterating the
    training thread's deque and dict without the lock, they raised "deque mutated during
    iteration" a few to a hundred times in these 20,000 epochs: in the server, the page's
    event stream or the answer to a request would have ended with it.)"""
    import sys

    from glassnet.explain.live.session import Session

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    try:
        x, y = _data()
        session = Session(_model(), x, y)
        done = threading.Event()
        errors: list[str] = []

        def read():
            while not done.is_set():
                try:
                    assert session.steps >= 0 and session.batch >= -1
                except Exception as error:  # noqa: BLE001 - what the server would meet
                    errors.append(f"{type(error).__name__}: {error}")

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for epoch in range(20_000):
                logs = session.new_epoch(epoch)
                logs[0] = {"loss": 1.0}
        finally:
            done.set()
            reader.join(10)
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert session.steps == 20_000
