"""A recurrent text classifier, side by side: glassnet, Keras 3 on TensorFlow and PyTorch.

    python bench/recurrent.py                          # LSTM: glassnet, keras, pytorch
    python bench/recurrent.py --cell gru --repeats 5

The network is the core of Keras's IMDB LSTM example: ``Embedding(20000, 128)``, then
``LSTM(64)`` (or ``GRU(64)``), then ``Dense(1, sigmoid)``, binary cross-entropy, Adam(0.001),
on 2,000 sequences of 200 random token ids, batch 32, float32.

- ``glassnet``: ``fit``.
- ``keras``: Keras 3 on TensorFlow, ``fit``, two threads, the same starting weights.
- ``pytorch``: ``nn.Embedding``, ``nn.LSTM`` / ``nn.GRU`` (batch first, the last step's
  output), ``nn.Linear``, a hand-written loop; the same starting weights for the LSTM (its
  gate order is Keras's), PyTorch's own for the GRU (its gates come in another order).

Each system runs in its own process, trains one untimed warm-up epoch, then times
``repeats`` epochs (``shuffle=False``) and one ``predict`` of every row; the report gives the
median and the range. Times depend on the load of the machine: compare systems from one
invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SYSTEMS = ("glassnet", "keras", "pytorch")
ROWS, LENGTH, VOCAB, WIDTH, UNITS, BATCH = 2_000, 200, 20_000, 128, 64, 32


def build(keras, cell: str):
    layers = keras.layers
    recurrent = layers.LSTM(UNITS) if cell == "lstm" else layers.GRU(UNITS)
    return keras.Sequential([
        keras.Input(shape=(LENGTH,), dtype="int32"),
        layers.Embedding(VOCAB, WIDTH),
        recurrent,
        layers.Dense(1, activation="sigmoid"),
    ])


def data():
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCAB, (ROWS, LENGTH)).astype(np.int32)
    y = rng.integers(0, 2, ROWS).astype(np.float32)
    return x, y


def starting_weights(cell: str) -> list:
    import glassnet

    glassnet.utils.set_random_seed(0)
    return build(glassnet, cell).get_weights()


def keras_like(system: str, cell: str, repeats: int) -> tuple[list, float]:
    if system == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    else:
        import glassnet as keras
    model = build(keras, cell)
    model.set_weights(starting_weights(cell))
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy")
    x, y = data()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    model.predict(x, batch_size=BATCH, verbose=0)
    return times, time.perf_counter() - start


def pytorch(cell: str, repeats: int) -> tuple[list, float]:
    import torch
    from torch import nn

    torch.set_num_threads(2)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, WIDTH)
            kind = nn.LSTM if cell == "lstm" else nn.GRU
            self.recurrent = kind(WIDTH, UNITS, batch_first=True)
            self.dense = nn.Linear(UNITS, 1)

        def forward(self, ids):
            outputs, _ = self.recurrent(self.embedding(ids))
            return torch.sigmoid(self.dense(outputs[:, -1]))

    net = Net()
    if cell == "lstm":  # Keras's gate order (i, f, c, o) is PyTorch's (i, f, g, o)
        table, kernel, recurrent, bias, dense, dense_bias = starting_weights(cell)
        with torch.no_grad():
            net.embedding.weight.copy_(torch.from_numpy(table))
            net.recurrent.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
            net.recurrent.weight_hh_l0.copy_(torch.from_numpy(recurrent.T.copy()))
            net.recurrent.bias_ih_l0.copy_(torch.from_numpy(bias))
            net.recurrent.bias_hh_l0.zero_()
            net.dense.weight.copy_(torch.from_numpy(dense.T.copy()))
            net.dense.bias.copy_(torch.from_numpy(dense_bias))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = nn.BCELoss()
    x, y = data()
    xt, yt = torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y).reshape(-1, 1)

    def epoch():
        for s in range(0, ROWS, BATCH):
            optimizer.zero_grad()
            loss = loss_fn(net(xt[s : s + BATCH]), yt[s : s + BATCH])
            loss.backward()
            optimizer.step()

    epoch()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    with torch.inference_mode():
        for s in range(0, ROWS, BATCH):
            net(xt[s : s + BATCH])
    return times, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker == "pytorch":
            result = pytorch(args.cell, args.repeats)
        else:
            result = keras_like(args.worker, args.cell, args.repeats)
        print(json.dumps(result))
        return
    results = {}
    for system in args.systems.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", system, "--cell", args.cell,
             "--repeats", str(args.repeats)],
            capture_output=True, text=True, check=False)
        if out.returncode:
            print(f"{system}: failed\n{out.stderr[-2000:]}")
            continue
        results[system] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{args.cell.upper()}({UNITS}) text classifier, {ROWS} sequences of {LENGTH} tokens, "
          f"batch {BATCH}, median of {args.repeats} epochs (min–max)\n")
    print("| system | epoch s | predict s |\n|---|---|---|")
    for system, (times, predict) in results.items():
        print(f"| {system} | {statistics.median(times):.2f} "
              f"({min(times):.2f}–{max(times):.2f}) | {predict:.2f} |")


if __name__ == "__main__":
    main()
