"""Peak memory of ``predict`` and ``evaluate`` on 1,000,000 rows, against model and batch size.

Each measurement runs in a fresh process: it makes the data (float32, written in chunks so
that making it leaves no higher peak behind), builds the model, warms it up on a few rows,
then calls ``predict`` or ``evaluate`` once on all rows and reports

* **Python peak**: the most memory NumPy and Python held at once during the call, above
  what they held before it (``tracemalloc``);
* **RSS peak**: the process's peak resident memory during the call, above its resident
  memory before it (``ru_maxrss``; includes BLAS buffers and allocator slack);

next to the sizes they should be compared with: the input, the output, one batch of the
widest layer, and what a single forward pass over all rows would need for that layer.

Usage::

    python bench/memory_predict.py                    # the table in docs/reliability.md
    python bench/memory_predict.py --rows 100000 --models S --batch-sizes 32,1024
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

#: Hidden widths and outputs of the models measured (inputs: ``COLUMNS``).
MODELS = {"S": ([16], 1), "M": ([256, 256], 10), "L": ([1024, 1024], 10)}
COLUMNS = 20
MIB = 2**20


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _build(name: str):
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential
    from glassnet.utils import set_random_seed

    set_random_seed(0)
    hidden, outputs = MODELS[name]
    model = Sequential([Input(shape=(COLUMNS,)),
                        *[Dense(width, activation="relu") for width in hidden],
                        Dense(outputs, activation="softmax" if outputs > 1 else None)])
    model.compile(optimizer="adam", loss="categorical_crossentropy" if outputs > 1 else "mse",
                  metrics=["accuracy"] if outputs > 1 else ["mae"])
    return model


def measure(name: str, rows: int, batch_size: int, call: str) -> dict:
    """One measurement, in this process (see the module docstring)."""
    model = _build(name)
    hidden, outputs = MODELS[name]
    x = np.empty((rows, COLUMNS), dtype=np.float32)
    y = np.zeros((rows, outputs), dtype=np.float32)
    rng = np.random.default_rng(1)
    for start in range(0, rows, 65536):
        stop = min(rows, start + 65536)
        x[start:stop] = rng.standard_normal((stop - start, COLUMNS), dtype=np.float32)
        if outputs > 1:
            y[np.arange(start, stop), rng.integers(0, outputs, stop - start)] = 1
    model.predict(x[:256], batch_size=batch_size, verbose=0)
    model.evaluate(x[:256], y[:256], batch_size=batch_size, verbose=0)
    before = _rss_bytes()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 <= before + 8 * MIB, (
        "the set-up left a higher peak than the current memory; the RSS peak would be hidden")
    tracemalloc.start()
    started = time.perf_counter()
    if call == "predict":
        model.predict(x, batch_size=batch_size, verbose=0)
    else:
        model.evaluate(x, y, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - started
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    widest = max([*hidden, outputs])
    return {
        "model": name, "layers": f"{COLUMNS} → {' → '.join(map(str, [*hidden, outputs]))}",
        "parameters": model.count_params(), "call": call, "rows": rows, "batch": batch_size,
        "python_peak_mib": python_peak / MIB, "rss_peak_mib": max(rss_peak, 0) / MIB,
        "input_mib": x.nbytes / MIB, "output_mib": rows * outputs * 4 / MIB,
        "batch_mib": batch_size * widest * 4 / MIB, "all_rows_mib": rows * widest * 4 / MIB,
        "seconds": seconds,
    }


def table(results: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = ["| model | parameters | call | batch | Python peak | RSS peak | output | one batch "
             "of widest layer | all rows of widest layer | time |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['model']} ({r['layers']}) | {r['parameters']:,} | {r['call']} "
            f"| {r['batch']:,} | {r['python_peak_mib']:.1f} MiB | {r['rss_peak_mib']:.1f} MiB "
            f"| {r['output_mib']:.1f} MiB | {r['batch_mib']:.2f} MiB "
            f"| {r['all_rows_mib']:,.0f} MiB | {r['seconds']:.1f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs every measurement in its own process and prints the table (JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", default="S,M,L")
    parser.add_argument("--batch-sizes", default="32,1024,8192")
    parser.add_argument("--calls", default="predict,evaluate")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "BATCH", "CALL"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        name, batch, call = args.one
        print(json.dumps(measure(name, args.rows, int(batch), call)))
        return 0
    results = []
    for name in args.models.split(","):
        for batch in [int(b) for b in args.batch_sizes.split(",")]:
            for call in args.calls.split(","):
                done = subprocess.run(
                    [sys.executable, __file__, "--rows", str(args.rows), "--one", name,
                     str(batch), call], capture_output=True, text=True, check=True)
                results.append(json.loads(done.stdout))
                print(f"{name} batch {batch} {call}: {results[-1]['python_peak_mib']:.1f} MiB",
                      file=sys.stderr)
    print(json.dumps(results, indent=1) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
