"""A 1-D convnet on token sequences: ``Conv1D`` and ``MaxPooling1D`` run as one unit or apart.

    python bench/text_convnet.py                  # glassnet fused, glassnet apart, keras
    python bench/text_convnet.py --systems fused,apart --repeats 5

The network is the convolutional part of Keras's "pretrained word embeddings" example:
``Embedding(20000, 100)``, then ``Conv1D(128, 5, relu)``, ``MaxPooling1D(5)`` twice,
``Conv1D(128, 5, relu)``, ``GlobalMaxPooling1D``, ``Dense(128, relu)``, ``Dropout(0.5)``,
``Dense(20, softmax)``, on 2,000 sequences of 200 random tokens, batch 128, RMSprop.

- ``fused``: glassnet as it runs (each ``Conv1D`` and the ``MaxPooling1D`` after it as one
  ``ConvPool`` unit, ``engine/conv_pool.py``).
- ``apart``: glassnet with that pairing switched off, each layer on its own.
- ``keras``: Keras 3 on TensorFlow, same weights and data (when installed).

Each system runs in its own process, trains one untimed warm-up epoch, then times
``repeats`` epochs; the report gives the median and the range. Times depend on the load
of the machine: compare systems from one invocation.
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

SYSTEMS = ("fused", "apart", "keras")
ROWS, LENGTH, VOCAB, CLASSES, BATCH = 2_000, 200, 20_000, 20, 128


def build(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(LENGTH,), dtype="int32"),
        layers.Embedding(VOCAB, 100),
        layers.Conv1D(128, 5, activation="relu"),
        layers.MaxPooling1D(5),
        layers.Conv1D(128, 5, activation="relu"),
        layers.MaxPooling1D(5),
        layers.Conv1D(128, 5, activation="relu"),
        layers.GlobalMaxPooling1D(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(CLASSES, activation="softmax"),
    ])


def data():
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCAB, (ROWS, LENGTH)).astype(np.int32)
    y = rng.integers(0, CLASSES, ROWS)
    return x, y


def worker(system: str, repeats: int) -> list[float]:
    if system == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    else:
        import glassnet as keras

        if system == "apart":
            from glassnet.engine.conv_pool import ConvPool

            ConvPool.takes = staticmethod(lambda conv, pool: False)
    model = build(keras)
    import glassnet

    glassnet.utils.set_random_seed(0)
    model.set_weights(build(glassnet).get_weights())  # the same starting weights everywhere
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = data()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats)))
        return
    results = {}
    for system in args.systems.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", system, "--repeats", str(args.repeats)],
            capture_output=True, text=True, check=False)
        if out.returncode:
            print(f"{system}: failed\n{out.stderr[-2000:]}")
            continue
        results[system] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"text convnet, {ROWS} sequences of {LENGTH} tokens, batch {BATCH}, "
          f"median of {args.repeats} epochs (min–max)\n")
    print("| system | epoch s |\n|---|---|")
    for system, times in results.items():
        print(f"| {system} | {statistics.median(times):.3f} "
              f"({min(times):.3f}–{max(times):.3f}) |")
    if "fused" in results and "apart" in results:
        ratio = statistics.median(results["fused"]) / statistics.median(results["apart"])
        print(f"\nfused / apart: {ratio:.3f}")


if __name__ == "__main__":
    main()
