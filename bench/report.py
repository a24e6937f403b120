"""Turns the results of ``run.py`` into Markdown: tables of times, ratios and issue 7's targets.

``python bench/report.py bench/results/<date>.json`` prints the report of a saved run again;
``--statistic min`` computes the ratios and targets from each system's best run.
"""

from __future__ import annotations

import argparse
import json
import statistics

# Which statistic of the timed runs the ratios and targets use: "median" (the default), or
# "min" (the least disturbed run; `report.py FILE --statistic min` on a busy machine).
STATISTIC = "median"
PEERS = ["pytorch", "keras", "sklearn"]  # the frameworks; "numpy" is the bare reference
LABELS = {
    "glassnet": "glassnet",
    "numpy": "bare NumPy MLP (reference)",
    "pytorch": "PyTorch, hand-written loop",
    "keras": "Keras 3 `fit`, TensorFlow",
    "sklearn": "scikit-learn MLP",
}
VERSION_NAMES = [("python", "Python"), ("numpy", "NumPy"), ("glassnet", "glassnet"),
                 ("torch", "torch"), ("tensorflow-cpu", "tensorflow-cpu"),
                 ("tensorflow", "tensorflow"), ("keras", "keras"), ("scikit-learn", "scikit-learn"),
                 ("scipy", "SciPy"), ("h5py", "h5py"), ("threadpoolctl", "threadpoolctl")]


# --- numbers ---------------------------------------------------------------------------------


def us(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def sec(v: float) -> str:
    return f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def times(x: float) -> str:
    return f"{x:.3g}×"


def spread(s: dict, fmt) -> str:
    """``median [min–max]``."""
    return f"{fmt(s['median'])} [{fmt(s['min'])}–{fmt(s['max'])}]"


def ok(result) -> bool:
    return isinstance(result, dict) and "error" not in result


def _train_time(entry: dict, system: str) -> float | None:
    r = entry["systems"].get(system)
    return r["seconds_per_epoch"][STATISTIC] if ok(r) else None


def _bulk_time(entry: dict, system: str) -> float | None:
    r = entry["systems"].get(system)
    return r["bulk_seconds"][STATISTIC] if ok(r) else None


def _single_row(entry: dict, system: str, call: str) -> float | None:
    r = entry["systems"].get(system)
    if not ok(r) or call not in r["single_row_us"]:
        return None
    return r["single_row_us"][call][STATISTIC]


PRIMARY_CALL = {"glassnet": "predict", "numpy": "forward", "pytorch": "inference_mode",
                "keras": "predict_on_batch", "sklearn": "predict_proba"}


def speedup(peer: float | None, mine: float | None) -> float | None:
    return None if peer is None or mine is None or mine == 0 else peer / mine


def one_line(w, result: dict) -> str:
    """A progress line for one (system, workload) result."""
    if not ok(result):
        return f"ERROR {result.get('error')}"
    if "us_per_step" in result:
        return (f"{spread(result['us_per_step'], us)} µs/step, "
                f"{sec(result['seconds_per_epoch']['median'])} s/epoch, "
                f"loss {result['final_loss']:.4g}, peak {result['peak_rss_mb']:.0f} MiB")
    calls = ", ".join(f"{k} {us(v['median'])} µs" for k, v in result["single_row_us"].items())
    return (f"predict {sec(result['bulk_seconds']['median'])} s; single row: {calls}; "
            f"peak {result['peak_rss_mb']:.0f} MiB")


# --- sections -------------------------------------------------------------------------------


def header(res: dict) -> list[str]:
    m, v = res["machine"], res["versions"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b.get('architecture') or '?'}, "
                     f"{b['num_threads']} threads)" for b in m["blas"] if b["user_api"] == "blas")
    listed = []
    for key, label in VERSION_NAMES:
        if key in v:
            extra = f" (git {v['glassnet_git']})" if key == "glassnet" else ""
            listed.append(f"{label} {v[key]}{extra}")
    load = " / ".join(" ".join(f"{x:.2f}" for x in m[k])
                      for k in ("load_average_start", "load_average_end") if k in m)
    lines = [
        f"## glassnet benchmark — {res['date']} ({res['mode']} run)",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores; **{m['threads']} threads** for every "
        f"system (BLAS via threadpoolctl, `torch.set_num_threads`, TensorFlow intra/inter-op).",
        f"- BLAS of NumPy: {blas}.",
        f"- Versions: {' · '.join(listed)}.",
        f"- Load average (1/5/15 min) at start / end: {load}.",
        *_busy(m),
        f"- Each time: median of the timed runs after {res['settings']['warmup']} warm-up "
        "run(s), [min–max] beside; every run starts from the same weights and data.",
        f"- Command: `{res['command']}` (wall time {res.get('wall_seconds', 0):.0f} s).",
    ]
    sg = res.get("sgemm")
    if sg and sg.get("numpy_gflops"):
        peak = f"NumPy {sg['numpy_gflops']:.0f} GFLOP/s"
        if sg.get("torch_gflops"):
            peak += f", PyTorch {sg['torch_gflops']:.0f} GFLOP/s"
        lines.append(f"- float32 matrix-multiply peak, {sg['n']}×{sg['n']} @ {sg['n']}×"
                     f"{sg['n']}, best of {sg['tries']}: {peak}. W4's percentages are of "
                     "NumPy's.")
    if res["mode"] == "quick":
        lines.append("- **Quick run**: fewer epochs and rows than the issue's workloads; the "
                     "numbers show that everything works, they are not the benchmark.")
    return lines


def _busy(m: dict) -> list[str]:
    others = m.get("other_processes_cores")
    if others is None:
        return []
    line = (f"- Other processes used {others:.2f} of the {m['cores']} cores on average during "
            "this run (/proc/stat minus this run's own CPU time).")
    if others > 0.25:
        line += (" **The machine was busy: times are inflated and noisy; re-run on a quiet "
                 "machine.**")
    return [line]


def workload_list(res: dict) -> list[str]:
    lines = ["", "### Workloads", ""]
    for name, entry in res["workloads"].items():
        spec = entry["spec"]
        extra = ""
        if "initial_loss" in entry:
            extra = (f"; {entry['steps_per_epoch']} steps/epoch; loss at the starting weights "
                     f"{entry['initial_loss']:.4g}")
        lines.append(f"- **{name}** {spec['title']}: {entry['description']}{extra}.")
    return lines


def summary_table(res: dict) -> list[str]:
    wl = res["workloads"]
    cols = []
    for name in ("W1", "W2"):
        if name in wl:
            cols.append((f"{name} µs/step", name, "step"))
    if "W3" in wl:
        cols.append(("W3 s/epoch", "W3", "epoch"))
    if "W4" in wl:
        cols.append(("W4 GFLOP/s (% of peak)", "W4", "gflops"))
    if "W5" in wl:
        rows = wl["W5"]["spec"]["rows"]
        cols.append((f"W5 predict {rows:,} rows, s", "W5", "bulk"))
        cols.append(("W5 single row, µs", "W5", "single"))
    if not cols:
        return []
    peak = (res.get("sgemm") or {}).get("numpy_gflops")
    lines = ["", "### Summary (median [min–max])", "",
             "| system | " + " | ".join(c[0] for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for system in res["settings"]["systems"]:
        cells = []
        for _, name, what in cols:
            r = wl[name]["systems"].get(system)
            if not ok(r):
                cells.append("error" if r else "—")
            elif what == "step":
                cells.append(spread(r["us_per_step"], us))
            elif what == "epoch":
                cells.append(spread(r["seconds_per_epoch"], sec))
            elif what == "gflops":
                g = r["gflops"]["median"]
                cells.append(f"{g:.0f} ({100 * g / peak:.0f}%)" if peak else f"{g:.0f}")
            elif what == "bulk":
                cells.append(spread(r["bulk_seconds"], sec))
            else:
                cells.append("<br>".join(f"`{k}` {us(v['median'])}"
                                         for k, v in r["single_row_us"].items()))
        lines.append(f"| {LABELS[system]} | " + " | ".join(cells) + " |")
    return lines


def ratio_table(res: dict) -> list[str]:
    wl = res["workloads"]
    systems = res["settings"]["systems"]
    if "glassnet" not in systems or len(systems) < 2:
        return []
    cols = [(n, n) for n in ("W1", "W2", "W3", "W4") if n in wl]
    if "W5" in wl:
        cols += [("W5 bulk", "W5b"), ("W5 single row (`predict`)", "W5s")]
    lines = ["", f"### glassnet's speed-up over each system (its {STATISTIC} time ÷ glassnet's; "
             "above 1 = glassnet faster)", "",
             "| compared with | " + " | ".join(c[0] for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for system in systems:
        if system == "glassnet":
            continue
        cells = []
        for _, key in cols:
            if key == "W5b":
                r = speedup(_bulk_time(wl["W5"], system), _bulk_time(wl["W5"], "glassnet"))
            elif key == "W5s":
                r = speedup(_single_row(wl["W5"], system, PRIMARY_CALL[system]),
                            _single_row(wl["W5"], "glassnet", "predict"))
            else:
                r = speedup(_train_time(wl[key], system), _train_time(wl[key], "glassnet"))
            cells.append("—" if r is None else times(r))
        label = LABELS[system]
        if "W5" in wl:
            label += f" (single row: `{PRIMARY_CALL[system]}`)"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def training_table(res: dict) -> list[str]:
    lines = ["", "### Training: time, final loss and memory", "",
             "| workload | system | µs/step | s/epoch | final training loss | peak RSS MiB "
             "| glassnet speed-up |",
             "|---|---|---|---|---|---|---|"]
    any_rows = False
    for name, entry in res["workloads"].items():
        if "initial_loss" not in entry:
            continue
        mine = _train_time(entry, "glassnet")
        for system, r in entry["systems"].items():
            any_rows = True
            if not ok(r):
                lines.append(f"| {name} | {LABELS[system]} | error: {r.get('error')} | | | | |")
                continue
            up = speedup(r["seconds_per_epoch"]["median"], mine)
            rel = "" if system == "glassnet" or up is None else times(up)
            lines.append(
                f"| {name} | {LABELS[system]} | {spread(r['us_per_step'], us)} | "
                f"{spread(r['seconds_per_epoch'], sec)} | {r['final_loss']:.4f} | "
                f"{r['peak_rss_mb']:.0f} | {rel} |")
    return lines if any_rows else []


def inference_table(res: dict) -> list[str]:
    entry = res["workloads"].get("W5")
    if not entry:
        return []
    spec = entry["spec"]
    lines = ["", f"### W5 inference: {spec['rows']:,} rows at batch {spec['batch_size']}, and "
             "one row per call", "",
             "| system | bulk predict, s | rows/s | single-row call: median µs [min–max] (calls) "
             "| max abs diff vs float64 | peak RSS MiB |",
             "|---|---|---|---|---|---|"]
    for system, r in entry["systems"].items():
        if not ok(r):
            lines.append(f"| {LABELS[system]} | error: {r.get('error')} | | | | |")
            continue
        calls = "<br>".join(f"`{k}` {spread(v, us)} ({v['calls']})"
                            for k, v in r["single_row_us"].items())
        lines.append(f"| {LABELS[system]} | {spread(r['bulk_seconds'], sec)} | "
                     f"{r['bulk_rows_per_second']:,.0f} | {calls} | "
                     f"{r['max_abs_diff_vs_float64']:.1e} | {r['peak_rss_mb']:.0f} |")
    return lines


def imports_table(res: dict) -> list[str]:
    imports, sizes = res.get("imports"), res.get("installed", {})
    if not imports:
        return []
    lines = ["", "### Import time and installed size", "",
             "| import | best of fresh processes, s | peak RSS after it, MiB |",
             "|---|---|---|"]
    for label, r in imports.items():
        if "error" in r:
            lines.append(f"| `{label}` | error: {r['error']} | |")
        else:
            lines.append(f"| `{label}` | {r['seconds_best']:.3f} (of {len(r['seconds_all'])}) | "
                         f"{r['peak_rss_mb']:.0f} |")
    if sizes:
        lines += ["", "| installed, with required dependencies | MiB | distributions |",
                  "|---|---|---|"]
        for label, r in sizes.items():
            parts = ", ".join(f"{k} {v:.1f}" for k, v in
                              sorted(r["distributions"].items(), key=lambda kv: -kv[1]))
            lines.append(f"| {label} | {r['mb']:.0f} | {parts} |")
    return lines


# --- the targets of issue 7 -----------------------------------------------------------------


def _target(rows: list, what: str, value: float | None, goal, shown: str) -> None:
    if value is None:
        rows.append((what, "not measured", "—"))
    else:
        rows.append((what, shown, "met" if goal(value) else "**missed**"))


def targets(res: dict) -> list[tuple[str, str, str]]:
    wl, rows = res["workloads"], []
    for name in ("W1", "W2"):
        entry = wl.get(name)
        if not entry:
            continue
        mine = _train_time(entry, "glassnet")
        peers = {p: _train_time(entry, p) for p in PEERS if _train_time(entry, p)}
        if peers and mine:
            fastest = min(peers, key=peers.get)
            r = peers[fastest] / mine
            _target(rows, f"{name}: ≥ 5× faster per epoch than the fastest peer", r,
                    lambda x: x >= 5, f"{times(r)} (fastest peer: {fastest})")
        for peer, goal in (("pytorch", 8), ("keras", 40)):
            r = speedup(_train_time(entry, peer), mine)
            _target(rows, f"{name}: ≥ {goal}× faster than {LABELS[peer]}", r,
                    lambda x, g=goal: x >= g, times(r) if r else "")
        losses = {s: r["final_loss"] for s, r in entry["systems"].items() if ok(r)}
        if "glassnet" in losses and len(losses) > 1:
            others = statistics.median(v for s, v in losses.items() if s != "glassnet")
            mine_loss = losses["glassnet"]
            _target(rows, f"{name}: same final loss (≤ 1.1 × the others' median + 0.005)",
                    mine_loss, lambda x, o=others: x <= 1.1 * o + 0.005,
                    f"{mine_loss:.4f} vs median {others:.4f}")
    for name in ("W1", "W2", "W3"):
        entry = wl.get(name)
        if entry:
            r = speedup(_train_time(entry, "glassnet"), _train_time(entry, "numpy"))
            _target(rows, f"{name}: within 1.25× of the bare NumPy reference", r,
                    lambda x: x <= 1.25, f"glassnet takes {times(r)} its time" if r else "")
    if "W5" in wl:
        e = wl["W5"]
        r = speedup(_bulk_time(e, "glassnet"), _bulk_time(e, "numpy"))
        _target(rows, "W5 bulk predict: within 1.25× of the bare NumPy reference", r,
                lambda x: x <= 1.25, f"glassnet takes {times(r)} its time" if r else "")
        r = speedup(_single_row(e, "glassnet", "predict"), _single_row(e, "numpy", "forward"))
        _target(rows, "W5 single-row `predict`: within 1.25× of the bare NumPy reference", r,
                lambda x: x <= 1.25, f"glassnet takes {times(r)} its time" if r else "")
    if "W3" in wl:
        r = speedup(_train_time(wl["W3"], "pytorch"), _train_time(wl["W3"], "glassnet"))
        _target(rows, "W3: ≥ 1.6× faster than the PyTorch loop", r, lambda x: x >= 1.6,
                times(r) if r else "")
        g, t = wl["W3"]["systems"].get("glassnet"), wl["W3"]["systems"].get("pytorch")
        if ok(g) and ok(t):
            _target(rows, "W3: peak memory of training below PyTorch's", g["peak_rss_mb"],
                    lambda x: x < t["peak_rss_mb"],
                    f"{g['peak_rss_mb']:.0f} vs {t['peak_rss_mb']:.0f} MiB")
    if "W4" in wl:
        g, peak = wl["W4"]["systems"].get("glassnet"), (res.get("sgemm") or {}).get("numpy_gflops")
        rate = g["gflops"]["max" if STATISTIC == "min" else STATISTIC] if ok(g) else None
        frac = rate / peak if rate and peak else None
        _target(rows, "W4: ≥ 85% of the matrix-multiply peak", frac, lambda x: x >= 0.85,
                f"{100 * frac:.0f}% ({rate:.0f} of {peak:.0f} GFLOP/s)" if frac else "")
    if "W5" in wl:
        e = wl["W5"]
        r = speedup(_bulk_time(e, "pytorch"), _bulk_time(e, "glassnet"))
        _target(rows, "W5: bulk predict at least as fast as PyTorch", r, lambda x: x >= 1.0,
                times(r) if r else "")
        mine = _single_row(e, "glassnet", "predict")
        for peer, call, goal in (("pytorch", "inference_mode", 2),
                                 ("keras", "predict_on_batch", 20)):
            r = speedup(_single_row(e, peer, call), mine)
            _target(rows, f"W5: single-row `predict` ≥ {goal}× faster than {peer} `{call}`", r,
                    lambda x, g=goal: x >= g, times(r) if r else "")
    imp = res.get("imports", {}).get("glassnet")
    if imp and "seconds_best" in imp:
        _target(rows, "`import glassnet` under 0.3 s", imp["seconds_best"], lambda x: x < 0.3,
                f"{imp['seconds_best']:.3f} s")
    return rows


def targets_table(res: dict) -> list[str]:
    rows = targets(res)
    if not rows:
        return []
    lines = ["", f"### Targets of issue 7 in this run ({STATISTIC} times)", "",
             "| target | measured | |",
             "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return lines


def errors(res: dict) -> list[str]:
    lines = []
    for name, entry in res["workloads"].items():
        for system, r in entry["systems"].items():
            if not ok(r):
                lines += [f"- {name} / {system}: {r.get('error')}", "", "```",
                          (r.get("traceback") or "").strip(), "```"]
    return ["", "### Errors", "", *lines] if lines else []


NOTES = """
### Reading it and noise

Times are of the training call alone (`fit`, or the hand-written loop), on data already in
memory; building the model and compiling are not timed. µs/step = seconds of the fit ÷
(epochs × steps per epoch); the final training loss is that of the last run's model on all
training rows, computed the same way for every system, so a fast system that did not train
shows it. On a shared machine absolute times move by ±25% between runs and ratios within a
run by about 15%: compare ratios within one run, look at [min–max], and re-run on a quiet
machine before drawing conclusions.
"""


def markdown(res: dict, statistic: str = "median") -> str:
    global STATISTIC
    STATISTIC = statistic
    parts = (header(res) + workload_list(res) + summary_table(res) + ratio_table(res)
             + training_table(res) + inference_table(res) + imports_table(res)
             + targets_table(res) + errors(res))
    return "\n".join(parts) + "\n" + NOTES


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Prints the report of a saved run.")
    parser.add_argument("results", help="a JSON file that bench/run.py saved")
    parser.add_argument("--statistic", choices=["median", "min"], default="median",
                        help="what the ratios and targets compare (default: median)")
    args = parser.parse_args(argv)
    with open(args.results) as f:
        print(markdown(json.load(f), args.statistic))


if __name__ == "__main__":
    main()
