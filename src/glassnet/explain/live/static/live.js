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
  function el(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function api(path) {
    return fetch(path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN),
                 { method: "POST" }).then((r) => r.json()).then((d) => d.status && showStatus(d.status))
      .catch(() => {});
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
  let epochChart = null;
  let epochKeys = [];
  function drawEpochs() {
    const keys = [];
    for (const e of state.epochs) for (const k in e)
      if (k !== "epoch" && k !== "learning_rate" && !keys.includes(k)) keys.push(k);
    keys.sort((a, b) => (a.startsWith("val_") - b.startsWith("val_")) || a.localeCompare(b));
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
    const data = [state.epochs.map((e) => e.epoch)];
    for (const k of keys) data.push(state.epochs.map((e) => (k in e ? e[k] : null)));
    data.push(state.epochs.map((e) => e.learning_rate));
    epochChart.setData(data);
    $("epoch-count").textContent = state.epochs.length;
  }

  // --- status and controls ---------------------------------------------------------------------
  function showStatus(s) {
    state.status = s;
    $("model-name").textContent = s.model || "";
    const where = s.steps ? `epoch ${s.epoch}${s.epochs ? "/" + s.epochs : ""}, batch ${s.batch}` +
      `${s.steps_per_epoch ? "/" + s.steps_per_epoch : ""}` : "";
    const what = s.finished ? "training finished" : s.paused ? "paused" :
      s.training ? "training" : "waiting for fit";
    const st = $("status");
    st.textContent = what + (where ? " · " + where : "");
    st.className = "status " + (s.finished ? "finished" : s.paused ? "paused" : "");
    st.dataset.paused = s.paused; st.dataset.training = s.training; st.dataset.steps = s.steps;
    $("pause").disabled = !s.training || s.paused;
    $("resume").disabled = !s.paused;
    $("step").disabled = !s.can_step;
    $("row").max = Math.max(s.rows - 1, 0);
    $("row-count").textContent = s.rows ? `of ${s.rows}` : "";
    const err = $("error");
    err.hidden = !s.error; err.textContent = s.error || "";
  }
  $("pause").onclick = () => api("api/pause");
  $("resume").onclick = () => api("api/resume");
  $("step").onclick = () => api("api/step");
  function chooseRow(r) {
    const rows = state.status ? state.status.rows : 0;
    if (!rows) return;
    r = Math.min(Math.max(0, r), rows - 1);
    $("row").value = r;
    api("api/row?row=" + r);
  }
  $("typed").onsubmit = (event) => {
    event.preventDefault();
    const values = $("values").value.replace(/\s+/g, "");
    const target = $("target").value.replace(/\s+/g, "");
    if (!values) return;
    fetch("api/row?values=" + encodeURIComponent(values) +
          (target ? "&target=" + encodeURIComponent(target) : "") +
          "&token=" + encodeURIComponent(TOKEN), { method: "POST" })
      .then((r) => (r.ok ? r.json() : r.text().then((t) => { throw new Error(t); })))
      .then((d) => showStatus(d.status))
      .catch((e) => { const err = $("error"); err.hidden = false; err.textContent = e.message; });
  };
  $("row").onchange = () => chooseRow(parseInt($("row").value, 10) || 0);
  $("row-prev").onclick = () => chooseRow((parseInt($("row").value, 10) || 0) - 1);
  $("row-next").onclick = () => chooseRow((parseInt($("row").value, 10) || 0) + 1);

  // --- the network -------------------------------------------------------------------------------
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
  function drawNetwork(net) {
    const svg = $("network");
    svg.innerHTML = "";
    const W = svg.clientWidth || 900, H = svg.clientHeight || 460, top = 30, bottom = 30;
    const cols = net.columns, dx = W / cols.length;
    const pos = cols.map((c, k) => {
      const m = c.nodes.length, gap = (H - top - bottom) / Math.max(m, 1);
      const p = {};
      c.nodes.forEach((n, i) => { p[n.index] = [dx * (k + 0.5), top + gap * (i + 0.5)]; });
      return p;
    });
    let wmax = 0, nedges = 0;
    for (const c of cols) for (const e of c.edges) { wmax = Math.max(wmax, Math.abs(e.weight || 0)); nedges++; }
    const labelled = nedges <= 16;  // a small network (the course's) shows every weight
    const edges = el("g", {}), nodes = el("g", {});
    svg.appendChild(edges); svg.appendChild(nodes);
    cols.forEach((c, k) => {
      const label = el("text", { x: dx * (k + 0.5), y: 14, class: "layer-label" },
                       c.name + (c.activation ? ` (${c.activation})` : ""));
      nodes.appendChild(label);
      for (const e of c.edges) {
        const a = pos[k - 1][e.from], b = pos[k][e.to];
        const w = e.weight || 0;
        const line = el("g", { class: "edge" });
        line.appendChild(el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "wire",
          stroke: w >= 0 ? "#1f5fbf" : "#c0392b",
          "stroke-width": (0.6 + 4.5 * Math.abs(w) / (wmax || 1)).toFixed(2) }));
        // a wider invisible line on top, so that a thin weight is easy to point at
        line.appendChild(el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "hit" }));
        line.dataset.layer = c.name; line.dataset.from = e.from; line.dataset.to = e.to;
        for (const key of ["weight", "x", "grad_z", "product", "slope", "update"])
          if (key in e) line.dataset[key] = raw(e[key]);
        if (labelled) {
          const t = el("text", { x: a[0] + (b[0] - a[0]) * 0.3, y: a[1] + (b[1] - a[1]) * 0.3 - 3,
                                 class: "weight-label" }, fmt(e.weight));
          line.appendChild(t);
        }
        line.addEventListener("mouseenter", () => edgeInfo(c, cols[k - 1], e));
        line.addEventListener("click", () => edgeInfo(c, cols[k - 1], e));
        edges.appendChild(line);
      }
      const r = Math.max(6, Math.min(19, (H - top - bottom) / Math.max(c.nodes.length, 1) / 2.4));
      for (const n of c.nodes) {
        const [x, y] = pos[k][n.index];
        const g = el("g", { class: "node" + (k === 0 ? " input" : ""), transform: `translate(${x},${y})` });
        g.dataset.layer = c.name; g.dataset.index = n.index; g.dataset.name = n.name;
        for (const key of ["input", "output", "grad_a", "activation_slope", "grad_z", "bias"])
          if (key in n) g.dataset[key] = raw(n[key]);
        g.appendChild(el("circle", { r: r }));
        if (r >= 9) g.appendChild(el("text", { y: 3 }, fmt(n.output)));
        g.appendChild(el("text", { y: -r - 2, class: "name" }, c.nodes.length <= 16 ? n.name : ""));
        g.addEventListener("mouseenter", () => nodeInfo(c, n));
        g.addEventListener("click", () => nodeInfo(c, n));
        nodes.appendChild(g);
      }
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
    $("row-shown").textContent = net.row < 0 ? "typed values" : net.row;
    const p = $("prediction");
    p.textContent = "Prediction: " + net.prediction.map(fmt).join(", ") +
      (net.target ? ` · target: ${net.target.map(fmt).join(", ")} · ${net.loss_name}: ${fmt(net.loss)}` +
       ` (after the next step: ${fmt(net.loss_after_step)}, learning rate ${fmt(net.learning_rate)})` : "");
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
  function drawDiagnosis(d) {
    const box = $("diagnosis");
    if (!d) return;
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
  // The charts are redrawn at most once a second, so that a page open beside training
  // takes little of the machine.
  const redraw = { batches: false, epochs: false, last: 0, timer: null };
  function drawCharts() {
    redraw.timer = null;
    redraw.last = Date.now();
    if (redraw.batches) {
      batchChart.setData([state.batchX, state.batchY]);
      $("batch-count").textContent = state.batchX.length;
    }
    if (redraw.epochs) drawEpochs();
    redraw.batches = redraw.epochs = false;
  }
  function scheduleCharts() {
    if (redraw.timer || !(redraw.batches || redraw.epochs)) return;
    redraw.timer = setTimeout(drawCharts, Math.max(0, 1000 - (Date.now() - redraw.last)));
  }
  let source = null;
  function connect() {
    if (source) source.close();
    state.batchX = []; state.batchY = []; state.epochs = [];
    const ex = Array.from(expand).map(encodeURIComponent).join(",");
    source = new EventSource(`events?token=${encodeURIComponent(TOKEN)}&expand=${ex}`);
    source.onmessage = (event) => {
      const m = JSON.parse(event.data);
      showStatus(m.status);
      if (m.batches.length) {
        for (const b of m.batches) { state.batchX.push(b[0]); state.batchY.push(b[3]); }
        redraw.batches = true;
      }
      if (m.epochs.length) { state.epochs.push(...m.epochs); redraw.epochs = true; }
      scheduleCharts();
      if (m.view) {
        state.view = m.view;
        $("network").dataset.version = m.view.version;
        drawNetwork(m.view.network);
        drawDiagnosis(m.view.diagnosis);
      }
      if (m.step) { state.step = m.step; drawStep(m.step); }
    };
    source.onerror = () => { $("status").textContent = "connection lost; retrying…"; };
  }
  connect();
})();
