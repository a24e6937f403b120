"""The live page in a real browser (headless Chromium driven by Playwright) while a model trains.

Checks what a learner sees against the explain tools: the loss chart gains points, the node
values for a chosen row are ``explain.trace``'s, a weight's three factors are
``explain.slopes``', "one step" changes the weights as ``explain.step`` says, and a request
without the token is refused. Set ``GLASSNET_LIVE_SCREENSHOT=path.png`` to also save the
screenshot there (``docs/images/live.png`` was made so).
"""

from __future__ import annotations

import json
import os
import shutil
import threading

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet import explain
from glassnet.callbacks import LiveView
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD

LR = 0.02


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return require_tool(
        "chromium", "the live page's browser tests; apt-get install chromium", program=True
    )


@pytest.fixture
def browser():
    require_tool("tornado", "the live page's server; pip install tornado")
    sync_api = require_tool("playwright.sync_api", "drives the browser; pip install playwright")
    executable = _chromium()
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (np.sin(x @ np.array([[1.0], [-2.0], [0.5]])) + 0.3 * x[:, :1] ** 2).astype("float32")
    return x, y


def _model():
    model = Sequential(
        [Dense(5, activation="relu", input_shape=(3,)), Dense(4, activation="tanh"), Dense(1)]
    )
    model.compile(optimizer=SGD(learning_rate=LR), loss="mse")
    return model


def _value(text: str | None) -> float:
    assert text not in (None, ""), "the page shows no number here"
    return float(text)


def test_the_page_shows_the_explain_tools_numbers_while_training(browser, tmp_path):
    x, y = _data()
    model = _model()
    live = LiveView(x, y, open_browser=False, interval=0.05)
    result = {}

    def train():  # one batch per epoch (the whole data, in order): "one step" is known
        result["history"] = model.fit(
            x, y, epochs=10**6, batch_size=64, shuffle=False, callbacks=[live], verbose=0
        )

    worker = threading.Thread(target=train, daemon=True)
    worker.start()
    try:
        _check_page(browser, live, model, x, y, tmp_path)
    finally:
        live.session.resume()
        model.stop_training = True
        worker.join(60)
        live.close()
    assert not worker.is_alive()
    history = result["history"]
    assert len(history.epoch) == len(live.session.epoch_logs) > 0  # nothing lost
    assert len(history.history["loss"]) == len(history.epoch)


def _wait_for(page, script: str, arg=None, timeout: float = 20_000):
    page.wait_for_function(script, arg=arg, timeout=timeout)


def _check_page(browser, live, model, x, y, tmp_path):
    while live.url is None:  # pragma: no cover - set when fit sets the model
        threading.Event().wait(0.01)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(live.url)

    # the loss chart gains points
    _wait_for(page, "() => window.glassnetLive.chartPoints() > 0")
    first = page.evaluate("() => window.glassnetLive.chartPoints()")
    _wait_for(page, "n => window.glassnetLive.chartPoints() > n", first)

    # Pause: training waits before its next batch
    page.click("#pause")
    _wait_for(page, "() => document.getElementById('status').dataset.paused === 'true'")
    while not live.session.waiting:  # fit waits before its next batch
        threading.Event().wait(0.01)
    steps = live.session.steps

    # choose a row: every node shows explain.trace's input and output for it
    page.fill("#row", "5")
    page.dispatch_event("#row", "change")
    _wait_for(page, "() => document.getElementById('row-shown').textContent === '5'")
    traced = explain.trace(model, x[5])
    for lt in traced.layers:
        nodes = page.query_selector_all(f'g.node[data-layer="{lt.name}"]')
        assert len(nodes) == len(lt.node_names)
        for node in nodes:
            j = int(node.get_attribute("data-index"))
            assert _value(node.get_attribute("data-output")) == float(lt.outputs[0, j])
            assert _value(node.get_attribute("data-input")) == float(lt.node_inputs[0, j])
    inputs = page.query_selector_all('g.node[data-layer="input"]')
    assert [_value(n.get_attribute("data-output")) for n in inputs] == traced.inputs[0].tolist()

    # hover a weight: its three factors and slope are explain.slopes', its update explain.step's
    name = model.layers[-1].name  # the output layer: its weights all meet at one node
    page.hover(f'g.edge[data-layer="{name}"][data-from="2"][data-to="0"]')
    _wait_for(page, "() => document.querySelector('#info td[data-key=\"product\"]') !== null")
    shown = {
        td.get_attribute("data-key"): _value(td.get_attribute("data-value"))
        for td in page.query_selector_all("#info td[data-key]")
    }
    s = explain.slopes(model, x[5], y[5])
    ls = s.layer(name)
    assert shown["weight"] == float(model.layers[-1].kernel[2, 0])
    assert shown["x"] == float(ls.x[0, 2])
    assert shown["grad_z"] == float(ls.grad_z[0, 0])
    assert shown["product"] == float(ls.weights["kernel"].products[0, 2, 0])
    assert shown["slope"] == float(s[f"{name}/kernel"][2, 0])
    planned = explain.step(model, x[5], y[5], learning_rate=LR, apply=False)
    k = planned.weight_names.index(f"{name}/kernel")
    assert shown["update"] == float(planned.updates[k][2, 0])

    # one step applies exactly one batch, as explain.step on that batch says
    expected = explain.step(model, x, y, learning_rate=LR, apply=False)
    page.click("#step")
    _wait_for(page, "() => document.querySelectorAll('#step-info tr.step-weight').length > 0")
    while not live.session.waiting:
        threading.Event().wait(0.01)
    assert live.session.steps == steps + 1
    rows = page.query_selector_all("#step-info tr.step-weight")
    assert len(rows) == sum(w.size for w in expected.weights_before)
    for row in rows:
        k = expected.weight_names.index(row.get_attribute("data-name"))
        flat = int(row.get_attribute("data-flat"))
        before = expected.weights_before[k].ravel()[flat]
        after = expected.weights_after[k].ravel()[flat]
        assert _value(row.get_attribute("data-before")) == float(before)
        # the fit step and explain.step compute the same slope by the same pass; float32
        # rounding may differ in the last place where BLAS sums in another order
        np.testing.assert_allclose(
            _value(row.get_attribute("data-after")), float(after), rtol=1e-6, atol=1e-7
        )
    for mine, theirs in zip(model.trainable_weights, expected.weights_after, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)

    shot = tmp_path / "live.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    target = os.environ.get("GLASSNET_LIVE_SCREENSHOT")
    if target:
        shutil.copyfile(shot, target)

    # values typed on the page are explained as explain.trace explains them
    page.fill("#values", "0.5, -1, 2")
    page.click("#typed button")
    _wait_for(page, "() => document.getElementById('row-shown').textContent === 'typed values'")
    typed = explain.trace(model, [0.5, -1, 2])
    for lt in typed.layers:
        for node in page.query_selector_all(f'g.node[data-layer="{lt.name}"]'):
            j = int(node.get_attribute("data-index"))
            assert _value(node.get_attribute("data-output")) == float(lt.outputs[0, j])

    # a request without the token, or with a wrong one, is refused
    bare = live.url.split("?")[0]
    assert page.request.get(bare).status == 403
    assert page.request.get(bare + "api/state?token=wrong").status == 403
    assert page.request.post(bare + "api/resume").status == 403
    assert live.session.paused  # the refused Resume changed nothing

    page.click("#resume")
    _wait_for(page, "() => document.getElementById('status').dataset.paused === 'false'")
    page.close()


# --- the page's requests, with the network in the test's hands --------------------------------
# The page talks to the server by fetch and an event stream, and draws in animation frames.
# Here all three are the test's: each fetch, event and frame happens when the test says, so
# that an ordering the real server makes only now and then is made every time.

_FAKE_NETWORK = """
window.fake = { fetches: [], sources: [], frames: [], nextFrame: 1 };
const kindOf = (f) => f.method + " " + f.url.split("?")[0].replace(/^.*\\/api\\//, "api/");
window.fetch = (url, options) => new Promise((resolve) => {
  fake.fetches.push({ url: String(url), method: (options && options.method) || "GET", resolve });
});
window.EventSource = class { constructor(url) { this.url = url; fake.sources.push(this); }
                             close() {} };
window.requestAnimationFrame = (draw) => { fake.frames.push(draw); return fake.nextFrame++; };
const settled = () => new Promise((done) => setTimeout(done, 0));  // every promise moved on
fake.open = () => fake.fetches.filter((f) => !f.done).map(kindOf);
fake.answer = async (kind, body) => {  // the oldest open fetch of this kind ("GET api/view")
  const f = fake.fetches.find((g) => !g.done && kindOf(g) === kind);
  if (!f) throw new Error("no open fetch " + kind + "; open: " + fake.open().join(", "));
  f.done = true;
  f.resolve({ ok: true, status: 200, json: async () => JSON.parse(body), text: async () => body });
  await settled();
};
fake.event = async (message) => {
  fake.sources[fake.sources.length - 1].onmessage({ data: message });
  await settled();
};
fake.frame = async () => {
  const due = fake.frames.splice(0);
  for (const draw of due) draw(performance.now());
  await settled();
};
"""


def _snapshot_texts(model, x, y):
    """The event and view texts the server sends for snapshots of rows 0 and 5 (paused)."""
    from glassnet.explain.live import snapshot as snapshots
    from glassnet.explain.live import view as views

    texts = {}
    for version, row in ((1, 0), (2, 5)):
        taken = snapshots.take(model, x, y, row, version, with_diagnosis=False)
        texts[f"view {row}"] = json.dumps(
            {"version": version, "network": views.network(taken), "diagnosis": None,
             "error": None}
        )
        status = {
            "model": model.name, "paused": True, "training": True, "finished": False,
            "epoch": 3, "batch": 1, "steps": 3, "epochs": 10, "steps_per_epoch": 1,
            "rows": len(x), "row": row, "has_targets": True, "optimizer": "SGD",
            "can_step": True, "error": None, "snapshot": version,
        }
        texts[f"status {row}"] = json.dumps({"status": status})
        texts[f"event {row}"] = json.dumps(
            {"status": status, "batches": {"first": 4, "losses": ""}, "epochs": []}
        )
    return texts


def test_a_newer_snapshot_announced_while_the_page_fetches_is_drawn(browser):
    """Paused, the page asks for row 5 while it is still fetching row 0's network; the
    answer and the event announcing row 5's snapshot come before that fetch ends. Once it
    ends, the page must fetch row 5's network and draw it: while paused nothing else comes
    for a long time (the server's keep-alive is 20 s)."""
    from importlib import resources

    x, y = _data()
    texts = _snapshot_texts(_model(), x, y)
    static = resources.files("glassnet.explain.live").joinpath("static")
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.add_init_script(_FAKE_NETWORK)

    def serve(route):
        name = route.request.url.split("?")[0].rsplit("/", 1)[-1] or "index.html"
        body = static.joinpath(name).read_bytes()
        if name == "index.html":
            body = body.replace(b"{{TOKEN}}", b"t")
        kinds = {"html": "text/html", "js": "text/javascript", "css": "text/css"}
        route.fulfill(status=200, body=body, content_type=kinds[name.rsplit(".", 1)[1]])

    page.route("http://glassnet.test/**", serve)
    page.goto("http://glassnet.test/?token=t")
    page.wait_for_function("() => window.glassnetLive && window.fake.sources.length === 1")

    def do(script, arg=None):
        return page.evaluate(script, arg)

    do("m => fake.event(m)", texts["event 0"])  # paused, snapshot 1 (row 0)
    assert do("() => fake.open()") == ["GET api/view"]
    page.fill("#row", "5")
    page.dispatch_event("#row", "change")  # the page asks for row 5
    assert do("() => fake.open()") == ["GET api/view", "POST api/row"]
    do("s => fake.answer('POST api/row', s)", texts["status 0"])  # answered before it is taken
    do("m => fake.event(m)", texts["event 5"])  # row 5's snapshot is taken: announced
    do("v => fake.answer('GET api/view', v)", texts["view 0"])  # the first fetch ends
    do("() => fake.frame()")
    assert do("() => document.getElementById('row-shown').textContent") == "0"
    # the page knows of a newer snapshot than it drew: it fetches it, unasked
    assert do("() => fake.open()") == ["GET api/view"]
    do("v => fake.answer('GET api/view', v)", texts["view 5"])
    do("() => fake.frame()")
    assert do("() => document.getElementById('row-shown').textContent") == "5"
    assert do("() => document.getElementById('network').dataset.version") == "2"
    page.close()
