// glassnet's live page: draws what the server sends (Server-Sent Events) and sends only
// Pause, Resume, One step and the chosen row back. Every number shown comes from the server
// (explain.trace / slopes / step / diagnose); this script only lays them out.
(function () {
  "use strict";
  const TOKEN = document.body.dataset.token;
  const SVGNS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const expand = new Set();
  const state = { status: null, view: null, step: null, batchX: [], batchY: [], epochs: [] };
  window.glassnetLive = state;

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(3) : v.toPrecision(4);
  }
  function raw(v) { return v === null || v === undefined ? "" : String(v); }
  // DOM writes only where something changed: an unchanged page costs the browser nothing
  function setText(e, v) { if (e.textContent !== v) e.textContent = v; }
  function setAttr(e, k, v) { v = String(v); if (e.getAttribute(k) !== v) e.setAttribute(k, v); }
  function setData(e, k, v) { if (e.dataset[k] !== v) e.dataset[k] = v; }
  function setProp(e, k, v) { if (e[k] !== v) e[k] = v; }
  function el(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function withToken(path) {
    return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
  }
  // a request whose answer is a new snapshot (a row, Pause, One step) has it drawn at once
  function api(path, wantsView) {
    if (wantsView) awaitView();
    return fetch(withToken(path), { method: "POST" }).then((r) => r.json())
      .then((d) => { if (d.status) { showStatus(d.status); request(); } }).catch(() => {});
  }

  // --- charts -------------------------------------------------------------------------------
  function chart(target, series, extraAxis) {
    const opts = { width: target.clientWidth || 500, height: 220, series: series,
                   axes: [{}, {}], scales: { x: { time: false } } };
    if (extraAxis) { opts.axes.push({ scale: "lr", side: 1, grid: { show: false } }); }
    return new uPlot(opts, series.map(() => []), target);
  }
  const batchChart = chart($("batch-chart"), [{ label: "step" },
                                             { label: "loss", stroke: "#1f5fbf", width: 1.5 }]);
  state.chartPoints = () => batchChart.data[0].length;  // points the loss chart draws
  // The epoch chart's columns grow as epochs come (rebuilt only when a new key appears).
  let epochChart = null;
  let epochKeys = [];
  let epochData = null;
  let epochsIn = 0;  // epochs of state.epochs already in epochData
  function keysOf(epochs) {
    const keys = [];
    for (const e of epochs) for (const k in e)
      if (k !== "epoch" && k !== "learning_rate" && !keys.includes(k)) keys.push(k);
    keys.sort((a, b) => (a.startsWith("val_") - b.startsWith("val_")) || a.localeCompare(b));
    if (!keys.length) keys.push("loss");  // what fit logs: made once, before the first epoch
    return keys;
  }
  function drawEpochs() {
    const fresh = state.epochs.slice(epochsIn);
    let keys = epochKeys;
    if (!epochChart || epochsIn > state.epochs.length ||
        fresh.some((e) => Object.keys(e).some((k) => k !== "epoch" && k !== "learning_rate" &&
                                                    !epochKeys.includes(k)))) {
      keys = keysOf(state.epochs);
      epochsIn = 0;
    }
    const colours = ["#1f5fbf", "#2ca02c", "#9467bd", "#8c564b", "#c0392b", "#17becf", "#e377c2"];
    if (!epochChart || keys.join() !== epochKeys.join()) {
      if (epochChart) epochChart.destroy();
      epochKeys = keys;
      const series = [{ label: "epoch" }].concat(keys.map((k, i) => ({
        label: k, stroke: colours[i % colours.length], width: 1.5,
        dash: k.startsWith("val_") ? [6, 4] : undefined })));
      series.push({ label: "learning rate", stroke: "#999", scale: "lr", dash: [2, 3] });
      epochChart = chart($("epoch-chart"), series, true);
    }
    if (epochsIn === 0) epochData = [[]].concat(keys.map(() => []), [[]]);
    for (const e of state.epochs.slice(epochsIn)) {
      epochData[0].push(e.epoch);
      keys.forEach((k, i) => epochData[i + 1].push(k in e ? e[k] : null));
      epochData[keys.length + 1].push(e.learning_rate);
    }
    epochsIn = state.epochs.length;
    epochChart.setData(epochData);
    setText($("epoch-count"), String(state.epochs.length));
  }

  // --- status and controls ---------------------------------------------------------------------
  function showStatus(s) {
    const now = state.status;  // an answer to a request may come after a newer event
    if (!now || (s.steps >= now.steps && (s.snapshot ?? -1) >= (now.snapshot ?? -1))) state.status = s;
    setText($("model-name"), s.model || "");
    const where = s.steps ? `epoch ${s.epoch}${s.epochs ? "/" + s.epochs : ""}, batch ${s.batch}` +
      `${s.steps_per_epoch ? "/" + s.steps_per_epoch : ""}` : "";
    const what = s.finished ? "training finished" : s.paused ? "paused" :
      s.training ? "training" : "waiting for fit";
    const st = $("status");
    setText(st, what + (where ? " · " + where : ""));
    setProp(st, "className", "status " + (s.finished ? "finished" : s.paused ? "paused" : ""));
    setData(st, "paused", String(s.paused)); setData(st, "training", String(s.training));
    setData(st, "steps", String(s.steps));
    setProp($("pause"), "disabled", !s.training || s.paused);
    setProp($("resume"), "disabled", !s.paused);
    setProp($("step"), "disabled", !s.can_step);
    setProp($("row"), "max", String(Math.max(s.rows - 1, 0)));
    setText($("row-count"), s.rows ? `of ${s.rows}` : "");
    const err = $("error");
    setProp(err, "hidden", !s.error); setText(err, s.error || "");
  }
  $("pause").onclick = () => api("api/pause", true);
  $("resume").onclick = () => api("api/resume", false);
  $("step").onclick = () => api("api/step", true);
  function chooseRow(r) {
    const rows = state.status ? state.status.rows : 0;
    if (!rows) return;
    r = Math.min(Math.max(0, r), rows - 1);
    $("row").value = r;
    api("api/row?row=" + r, true);
  }
  $("typed").onsubmit = (event) => {
    event.preventDefault();
    const values = $("values").value.replace(/\s+/g, "");
    const target = $("target").value.replace(/\s+/g, "");
    if (!values) return;
    awaitView();
    fetch(withToken("api/row?values=" + encodeURIComponent(values) +
                    (target ? "&target=" + encodeURIComponent(target) : "")), { method: "POST" })
      .then((r) => (r.ok ? r.json() : r.text().then((t) => { throw new Error(t); })))
      .then((d) => { showStatus(d.status); request(); })
      .catch((e) => { const err = $("error"); err.hidden = false; err.textContent = e.message; });
  };
  $("row").onchange = () => chooseRow(parseInt($("row").value, 10) || 0);
  $("row-prev").onclick = () => chooseRow((parseInt($("row").value, 10) || 0) - 1);
  $("row-next").onclick = () => chooseRow((parseInt($("row").value, 10) || 0) + 1);

  // --- the network -------------------------------------------------------------------------------
  // The numbers box shows what the pointer last pointed at, and follows it as new
  // snapshots come (infoShown: [column, node index] or [column, from, to] for a weight).
  let infoShown = null;
  function info(title, rows) {
    const box = $("info");
    box.innerHTML = "";
    const h = document.createElement("h2"); h.textContent = title; box.appendChild(h);
    const t = document.createElement("table");
    for (const [label, value, key] of rows) {
      const tr = document.createElement("tr");
      const a = document.createElement("td"); a.textContent = label;
      const b = document.createElement("td"); b.textContent = fmt(value);
      b.dataset.value = raw(value); if (key) b.dataset.key = key;
      tr.appendChild(a); tr.appendChild(b); t.appendChild(tr);
    }
    box.appendChild(t);
  }
  function edgeInfo(col, prev, e) {
    const from = prev.nodes.find((n) => n.index === e.from), to = col.nodes.find((n) => n.index === e.to);
    const rows = [["weight", e.weight, "weight"]];
    if ("slope" in e) {
      rows.push(["value feeding in (x)", e.x, "x"], ["slope at the node fed (grad_z)", e.grad_z, "grad_z"],
                ["their product", e.product, "product"], ["slope of the loss (gradient)", e.slope, "slope"],
                ["next step's update (−lr × slope)", e.update, "update"]);
    }
    info(`${col.name}/kernel[${e.from}, ${e.to}]: ${from ? from.name : e.from} → ${to ? to.name : e.to}`, rows);
  }
  function nodeInfo(col, n) {
    const rows = [["input (z)", n.input, "input"], ["output (a)", n.output, "output"]];
    if ("grad_a" in n) rows.push(["slope at the output (grad_a)", n.grad_a, "grad_a"],
                                 ["activation's slope", n.activation_slope, "activation_slope"],
                                 ["slope at the input (grad_z)", n.grad_z, "grad_z"]);
    if ("bias" in n) rows.push(["bias", n.bias, "bias"], ["bias slope", n.bias_slope, "bias_slope"],
                               ["bias update", n.bias_update, "bias_update"]);
    info(`${n.name} (${col.name}${col.activation ? ", " + col.activation : ""})`, rows);
  }
  function showInfo() {
    const net = drawn && drawn.net;
    if (!net || !infoShown) return;
    const [k, i, j] = infoShown, c = net.columns[k];
    if (j === undefined) {
      const n = c.nodes.find((m) => m.index === i);
      if (n) nodeInfo(c, n);
    } else {
      const e = c.edges.find((f) => f.from === i && f.to === j);
      if (e) edgeInfo(c, net.columns[k - 1], e);
    }
  }
  function pointEdge(k, i) { const e = drawn.net.columns[k].edges[i]; infoShown = [k, e.from, e.to]; showInfo(); }
  function pointNode(k, i) { infoShown = [k, drawn.net.columns[k].nodes[i].index]; showInfo(); }

  // The network is built once per shape (layers, how many nodes each shows, size of the
  // drawing); a new snapshot of the same shape only changes the attributes whose values
  // changed (which nodes a wide layer shows may change too: its strongest ones).
  const NODE_KEYS = ["input", "output", "grad_a", "activation_slope", "grad_z", "bias"];
  let drawn = null;  // { shape, net, edges: [[group, wire, label]], nodes: [[group, value, name]] }
  function shapeOf(net, W, H) {
    return `${W}x${H}|` + net.columns.map((c) => [c.name, c.activation, c.units, c.expanded,
      c.nodes.length, c.edges.length, c.edges.length && "slope" in c.edges[0]].join(":")).join("|");
  }
  function setKeys(e, keys, values) {
    for (const key of keys) {
      if (key in values) setData(e, key, raw(values[key]));
      else if (key in e.dataset) delete e.dataset[key];
    }
  }
  function drawNetwork(net) {
    const svg = $("network");
    const W = svg.clientWidth || 900, H = svg.clientHeight || 460, top = 30, bottom = 30;
    const cols = net.columns, dx = W / cols.length;
    const shape = shapeOf(net, W, H);
    let wmax = 0, nedges = 0;
    for (const c of cols) for (const e of c.edges) { wmax = Math.max(wmax, Math.abs(e.weight || 0)); nedges++; }
    const labelled = nedges <= 16;  // a small network (the course's) shows every weight
    const build = !drawn || drawn.shape !== shape;
    if (build) buildNetwork(svg, net, shape, W, H, top, bottom, dx, labelled);
    drawn.net = net;
    cols.forEach((c, k) => {
      c.edges.forEach((e, i) => {
        const [line, wire, label] = drawn.edges[k][i];
        const w = e.weight || 0;
        setData(line, "from", String(e.from)); setData(line, "to", String(e.to));
        setAttr(wire, "stroke", w >= 0 ? "#1f5fbf" : "#c0392b");
        // in quarter pixels: a weight that moved less than the eye can see is not redrawn
        setAttr(wire, "stroke-width", String(Math.round(4 * (0.6 + 4.5 * Math.abs(w) / (wmax || 1))) / 4));
        if (label) setText(label, fmt(e.weight));
      });
      c.nodes.forEach((n, i) => {
        const [g, text, name] = drawn.nodes[k][i];
        setData(g, "index", String(n.index)); setData(g, "name", n.name);
        setKeys(g, NODE_KEYS, n);
        if (text) setText(text, fmt(n.output));
        setText(name, c.nodes.length <= 16 ? n.name : "");
      });
    });
    setText($("row-shown"), net.row < 0 ? "typed values" : String(net.row));
    setText($("prediction"), "Prediction: " + net.prediction.map(fmt).join(", ") +
      (net.target ? ` · target: ${net.target.map(fmt).join(", ")} · ${net.loss_name}: ${fmt(net.loss)}` +
       ` (after the next step: ${fmt(net.loss_after_step)}, learning rate ${fmt(net.learning_rate)})` : ""));
    showInfo();
    return build;
  }
  function buildNetwork(svg, net, shape, W, H, top, bottom, dx, labelled) {
    svg.innerHTML = "";
    drawn = { shape: shape, net: net, edges: [], nodes: [] };
    const cols = net.columns;
    const pos = cols.map((c, k) => {
      const m = c.nodes.length, gap = (H - top - bottom) / Math.max(m, 1);
      const p = {};
      c.nodes.forEach((n, i) => { p[n.index] = [dx * (k + 0.5), top + gap * (i + 0.5)]; });
      return p;
    });  // by node index: the edges' ends; a node's place is its place in the list shown
    // two layers of their own: new node values repaint the nodes, not every line
    const edges = el("g", { class: "edges" }), nodes = el("g", { class: "nodes" });
    svg.appendChild(edges); svg.appendChild(nodes);
    cols.forEach((c, k) => {
      const label = el("text", { x: dx * (k + 0.5), y: 14, class: "layer-label" },
                       c.name + (c.activation ? ` (${c.activation})` : ""));
      nodes.appendChild(label);
      drawn.edges.push(c.edges.map((e, i) => {
        const a = pos[k - 1][e.from], b = pos[k][e.to];
        const line = el("g", { class: "edge" });
        const wire = el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "wire" });
        line.appendChild(wire);
        // a wider invisible line on top, so that a thin weight is easy to point at
        line.appendChild(el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "hit" }));
        line.dataset.layer = c.name;
        let t = null;
        if (labelled) {
          t = el("text", { x: a[0] + (b[0] - a[0]) * 0.3, y: a[1] + (b[1] - a[1]) * 0.3 - 3,
                           class: "weight-label" });
          line.appendChild(t);
        }
        line.addEventListener("mouseenter", () => pointEdge(k, i));
        line.addEventListener("click", () => pointEdge(k, i));
        edges.appendChild(line);
        return [line, wire, t];
      }));
      const r = Math.max(6, Math.min(19, (H - top - bottom) / Math.max(c.nodes.length, 1) / 2.4));
      drawn.nodes.push(c.nodes.map((n, i) => {
        const [x, y] = pos[k][n.index];
        const g = el("g", { class: "node" + (k === 0 ? " input" : ""), transform: `translate(${x},${y})` });
        g.dataset.layer = c.name;
        g.appendChild(el("circle", { r: r }));
        const t = r >= 9 ? el("text", { y: 3 }) : null;
        if (t) g.appendChild(t);
        const name = el("text", { y: -r - 2, class: "name" });
        g.appendChild(name);
        g.addEventListener("mouseenter", () => pointNode(k, i));
        g.addEventListener("click", () => pointNode(k, i));
        nodes.appendChild(g);
        return [g, t, name];
      }));
      const rest = c.units - c.nodes.length;
      if (rest > 0 || c.expanded) {
        const t = el("text", { x: dx * (k + 0.5), y: H - 10, class: "more" },
                     rest > 0 ? `+ ${rest} more (strongest shown)` + (c.expanded ? "" : " · show more")
                              : "show fewer");
        t.addEventListener("click", () => {
          if (expand.has(c.name)) expand.delete(c.name); else expand.add(c.name);
          connect();
        });
        nodes.appendChild(t);
      }
    });
    infoShown = null;  // another shape: what was pointed at is gone
  }

  // --- one step and diagnosis ------------------------------------------------------------------
  function drawStep(step) {
    const box = $("step-info");
    if (!step) return;
    box.innerHTML = "";
    const p = document.createElement("p");
    p.textContent = `Epoch ${step.epoch}, batch ${step.batch}: weights before and after the step ` +
      "(largest changes first).";
    box.appendChild(p);
    const rows = [];
    for (const w of step.weights) w.before.forEach((b, i) =>
      rows.push({ name: w.name, flat: i, before: b, after: w.after[i],
                  change: (w.after[i] ?? 0) - (b ?? 0) }));
    rows.sort((a, b) => Math.abs(b.change) - Math.abs(a.change));
    const t = document.createElement("table");
    t.innerHTML = "<tr><th>weight</th><th>before</th><th>after</th></tr>";
    rows.slice(0, 200).forEach((r, i) => {
      const tr = document.createElement("tr");
      tr.className = "step-weight"; tr.hidden = i >= 12;
      tr.dataset.name = r.name; tr.dataset.flat = r.flat;
      tr.dataset.before = raw(r.before); tr.dataset.after = raw(r.after);
      for (const v of [`${r.name}[${r.flat}]`, fmt(r.before), fmt(r.after)]) {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      }
      t.appendChild(tr);
    });
    box.appendChild(t);
  }
  let diagnosisShown = "";
  function drawDiagnosis(d) {
    const box = $("diagnosis");
    if (!d) return;
    const text = JSON.stringify(d);  // a few numbers per layer: redrawn only when they change
    if (text === diagnosisShown) return;
    diagnosisShown = text;
    box.innerHTML = "";
    const pct = (v) => (v === null || v === undefined ? "–" : Math.round(100 * v) + "%");
    const t = document.createElement("table");
    t.innerHTML = "<tr><th>layer</th><th>activation</th><th>units</th><th>dead ReLU</th>" +
      "<th>saturated</th><th>|slope|</th><th>|weights|</th><th>|slope|/|weights|</th></tr>";
    for (const h of d.layers) {
      const tr = document.createElement("tr");
      for (const v of [h.name, h.activation || "–", h.units, pct(h.dead_share), pct(h.saturated_share),
                       fmt(h.gradient_norm), fmt(h.weight_norm), fmt(h.gradient_ratio)]) {
        const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      }
      t.appendChild(tr);
    }
    box.appendChild(t);
    const words = document.createElement("p");
    if (d.ok) words.textContent = `No problem found on ${d.rows} rows.`;
    box.appendChild(words);
    for (const f of d.findings) {
      const q = document.createElement("p"); q.className = "finding"; q.textContent = f.message;
      box.appendChild(q);
    }
  }

  // --- updates ------------------------------------------------------------------------------------
  // The server sends an event every two seconds (at once for what the page asked for) with
  // the status, the new losses and epochs, and a new step. The page draws them in one
  // animation frame (none while it is hidden) and, while training, no more often than its
  // own drawing allows: frames are at least a second apart, and 200 times what the last ones
  // took (script, style, layout and paint, measured), so that drawing takes about 0.5% of
  // the page's time however large the network or the charts (the frame that first builds
  // the network is not counted). What the page asked for (a row, Pause, One step, more
  // nodes) and a change of state (paused, finished, an error) are drawn at once. The network
  // is fetched (api/view) only when a frame is to draw it and a newer snapshot was taken:
  // the server encodes a snapshot only for a page that shows it.
  const MIN_GAP = 1000, MAX_GAP = 10000, SHARE = 200;
  const redraw = { frame: 0, timer: null, last: 0, cost: 0, fetching: false, waitFor: null,
                   batches: false, epochs: false, step: null, view: null, version: null,
                   drawn: null, again: false };
  function awaitView() { redraw.waitFor = redraw.version === null ? -1 : redraw.version; }
  function changed(a, b) {  // a change of state, drawn at once
    return !a || a.paused !== b.paused || a.finished !== b.finished || a.error !== b.error ||
      a.row !== b.row;
  }
  function request() {
    if (redraw.frame || redraw.fetching) { redraw.again = true; return; }  // after that frame
    const s = state.status;
    const now = !s.training || s.paused || redraw.waitFor !== null || changed(redraw.drawn, s);
    const wait = now ? 0 : redraw.last + Math.max(MIN_GAP, Math.min(MAX_GAP, SHARE * redraw.cost))
      - performance.now();
    if (wait <= 0) { clearTimeout(redraw.timer); redraw.timer = null; prepare(); }
    else if (!redraw.timer) redraw.timer = setTimeout(() => { redraw.timer = null; prepare(); }, wait);
  }
  function prepare() {  // the newer snapshot's network first, when there is one
    const s = state.status;
    if (s.snapshot === null || s.snapshot === undefined || s.snapshot === redraw.version) {
      redraw.frame = requestAnimationFrame(draw);
      return;
    }
    redraw.fetching = true;
    const ex = Array.from(expand).map(encodeURIComponent).join(",");
    fetch(withToken(`api/view?expand=${ex}`)).then((r) => (r.ok ? r.json() : null))
      .then((view) => { if (view) { state.view = redraw.view = view; redraw.version = view.version; } })
      .catch(() => {})
      .finally(() => { redraw.fetching = false; redraw.frame = requestAnimationFrame(draw); });
  }
  function draw() {
    const started = performance.now();
    redraw.frame = 0;
    redraw.last = started;
    redraw.drawn = state.status;
    showStatus(state.status);
    if (redraw.batches) {
      batchChart.setData([state.batchX, state.batchY]);
      setText($("batch-count"), String(state.batchX.length));
      redraw.batches = false;
    }
    if (redraw.epochs) { drawEpochs(); redraw.epochs = false; }
    const view = redraw.view;
    let built = false;
    if (view) {
      redraw.view = null;
      $("network").dataset.version = view.version;
      built = drawNetwork(view.network);
      drawDiagnosis(view.diagnosis);
      if (redraw.waitFor !== null && view.version > redraw.waitFor) redraw.waitFor = null;
    }
    if (redraw.step) { drawStep(redraw.step); redraw.step = null; }
    // what the frame cost: this script, then style, layout and paint, which run before
    // the next task (a timer at 0); averaged over the last few
    if (!built) setTimeout(() => {
      redraw.cost = 0.5 * redraw.cost + 0.5 * (performance.now() - started);
    }, 0);
    if (redraw.again) { redraw.again = false; request(); }  // news came while this frame waited
  }
  // the losses of new batches: float64s, little-endian, in base64
  function losses(text) {
    const bytes = atob(text), n = bytes.length >> 3, out = new Array(n);
    const buffer = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) buffer[i] = bytes.charCodeAt(i);
    const data = new DataView(buffer.buffer);
    for (let i = 0; i < n; i++) {
      const v = data.getFloat64(8 * i, true);
      out[i] = Number.isFinite(v) ? v : null;
    }
    return out;
  }
  let source = null;
  function connect() {
    if (source) source.close();
    state.batchX = []; state.batchY = []; state.epochs = []; epochsIn = 0;
    redraw.batches = redraw.epochs = true;
    redraw.version = null;  // the network again, with the layers shown as asked
    awaitView();
    source = new EventSource(withToken("events"));
    source.onmessage = (event) => {
      const m = JSON.parse(event.data);
      state.status = m.status;
      const first = m.batches.first;
      if (first === 1 && state.batchX.length) {  // a new stream (reconnected): all again
        state.batchX = []; state.batchY = []; state.epochs = []; epochsIn = 0;
      }
      const ys = losses(m.batches.losses);
      if (ys.length) {
        for (let i = 0; i < ys.length; i++) { state.batchX.push(first + i); state.batchY.push(ys[i]); }
        redraw.batches = true;
      }
      if (m.epochs.length) { for (const e of m.epochs) state.epochs.push(e); redraw.epochs = true; }
      if (m.step) state.step = redraw.step = m.step;
      request();
    };
    source.onerror = () => { $("status").textContent = "connection lost; retrying…"; };
  }
  connect();
})();
