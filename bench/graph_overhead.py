"""What building a model as a graph costs: a functional two-branch model against a
``Sequential`` stack of the same FLOPs, and the course's networks before and after a change.

Two measurements, each alternated run by run so that both sides see the same machine:

* **graph** (issue 17's target: within 1.5x): ``Sequential([Dense(w, relu), Dense(w, relu),
  Dense(1)])`` against a functional model whose input feeds two ``Dense(w/2, relu)`` branches
  joined by ``Concatenate`` (the same multiply-adds), then ``Dense(w, relu)`` and
  ``Dense(1)``, on W1's data (534 x 9, w = 64, batch 32) and on MNIST-size data (12,000 x 784,
  w = 128, batch 128). Reported: seconds per epoch and the ratio.
* **before/after** (``--before PATH``, a checkout of glassnet's ``src`` folder to compare
  with): W1, W2 and W3 epochs of glassnet's ``fit`` with the sources at ``PATH`` and with the
  current ones, each in its own process, alternated. Reported: median seconds per epoch and
  the ratio after/before (issue 17's target: a plain Dense stack within 5%).

    python bench/graph_overhead.py                       # the graph comparison, 7 pairs
    python bench/graph_overhead.py --before /tmp/old/src --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE.parent / "src"

_EPOCH_SCRIPT = r"""
import json, sys, time
import numpy as np
import glassnet
from glassnet.layers import Dense
from glassnet.models import Sequential
workload, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
shapes = {"W1": (534, 9, [50, 32, 1], "mse", 32), "W2": (891, 10, [32, 32, 2], "cce", 32),
          "W3": (12000, 784, [100, 100, 10], "cce", 128)}
rows, columns, units, loss, batch = shapes[workload]
x = rng.normal(size=(rows, columns)).astype("float32")
if loss == "mse":
    y = rng.normal(size=(rows, 1)).astype("float32")
    layers = [Dense(u, activation="relu") for u in units[:-1]] + [Dense(units[-1])]
    loss_name = "mean_squared_error"
else:
    y = np.eye(units[-1], dtype="float32")[rng.integers(0, units[-1], rows)]
    layers = [Dense(u, activation="relu") for u in units[:-1]]
    layers.append(Dense(units[-1], activation="softmax"))
    loss_name = "categorical_crossentropy"
model = Sequential(layers)
model.build((None, columns))
model.compile(optimizer=glassnet.optimizers.Adam(learning_rate=0.001), loss=loss_name)
model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
start = time.perf_counter()
model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
print(json.dumps((time.perf_counter() - start) / epochs))
"""


def epoch_seconds(sources: Path, workload: str, epochs: int, seed: int) -> float:
    """One process's seconds per epoch of ``workload`` with glassnet from ``sources``."""
    env = {**os.environ, "PYTHONPATH": str(sources)}
    done = subprocess.run(
        [sys.executable, "-c", _EPOCH_SCRIPT, workload, str(epochs), str(seed)],
        env=env, capture_output=True, text=True, check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


#: (name, rows, columns, hidden width, batch size): the course's W1 data, and MNIST-size.
SIZES = (("W1 data (534 x 9), batch 32", 534, 9, 64, 32),
         ("MNIST-size (12,000 x 784), batch 128", 12000, 784, 128, 128))


def graph_pair(size: tuple, epochs: int, seed: int) -> tuple[float, float]:
    """Seconds per epoch of the Sequential stack and of the two-branch functional model."""
    import numpy as np

    import glassnet as keras
    from glassnet import layers

    _, rows, columns, width, batch = size
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns)).astype("float32")
    y = rng.normal(size=(rows, 1)).astype("float32")
    stack = keras.Sequential([layers.Dense(width, activation="relu", input_shape=(columns,)),
                              layers.Dense(width, activation="relu"), layers.Dense(1)])
    inputs = keras.Input(shape=(columns,))
    left = layers.Dense(width // 2, activation="relu")(inputs)
    right = layers.Dense(width // 2, activation="relu")(inputs)
    hidden = layers.Dense(width, activation="relu")(layers.Concatenate()([left, right]))
    graph = keras.Model(inputs, layers.Dense(1)(hidden))
    times = []
    for model in (stack, graph):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        times.append((time.perf_counter() - start) / epochs)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", type=Path, help="a glassnet src folder to compare with")
    args = parser.parse_args()
    sys.path.insert(0, str(SOURCES))
    print("| data | Sequential s/epoch | functional two-branch s/epoch | functional / Sequential |")
    print("|---|---|---|---|")
    for size in SIZES:
        epochs = args.epochs if size[1] < 1000 else max(1, args.epochs // 10)
        pairs = [graph_pair(size, epochs, args.seed) for _ in range(args.repeats)]
        stack = statistics.median(p[0] for p in pairs)
        graph = statistics.median(p[1] for p in pairs)
        print(f"| {size[0]} | {stack:.4f} | {graph:.4f} | {graph / stack:.2f} |")
    if args.before is None:
        return
    print()
    print("| workload | before s/epoch | after s/epoch | after / before |")
    print("|---|---|---|---|")
    for workload, epochs in (("W1", 20), ("W2", 20), ("W3", 2)):
        before, after = [], []
        for _ in range(args.repeats):
            before.append(epoch_seconds(args.before, workload, epochs, args.seed))
            after.append(epoch_seconds(SOURCES, workload, epochs, args.seed))
        b, a = statistics.median(before), statistics.median(after)
        print(f"| {workload} | {b:.4f} | {a:.4f} | {a / b:.3f} |")


if __name__ == "__main__":
    main()
