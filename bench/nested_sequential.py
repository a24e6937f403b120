"""What a nested augmentation ``Sequential`` costs: TensorFlow's image-tutorial convnet (on
32x32x3 images) trained with ``fit``, three ways, alternated run by run so that all three see
the same machine:

* **plain**: Rescaling, three Conv2D/MaxPooling2D pairs, Dropout, Flatten, Dense(128), Dense(5);
* **flat**: RandomFlip, RandomRotation and RandomZoom in front of it, as layers of the model;
* **nested**: the same three layers as a ``Sequential`` that is the model's first layer (the
  tutorial's ``data_augmentation``).

The outer plan opens the nested model up, so **nested** should cost what **flat** costs.
Reported: the median seconds per epoch of each and the ratio nested / flat.

    python bench/nested_sequential.py --rows 512 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import glassnet as keras
from glassnet import layers

SHAPE = (32, 32, 3)


def augmentation() -> list:
    return [layers.RandomFlip("horizontal", seed=1), layers.RandomRotation(0.1, seed=2),
            layers.RandomZoom(0.1, seed=3)]


def convnet() -> list:
    return [
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Dropout(0.2), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dense(5),
    ]


def build(kind: str):
    keras.utils.set_random_seed(0)
    if kind == "plain":
        stack = convnet()
    elif kind == "flat":
        stack = [*augmentation(), *convnet()]
    else:
        stack = [keras.Sequential([keras.Input(shape=SHAPE), *augmentation()]), *convnet()]
    model = keras.Sequential([keras.Input(shape=SHAPE), *stack] if kind != "nested" else stack)
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def epoch_seconds(kind: str, x, y, epochs: int) -> float:
    model = build(kind)
    model.fit(x[:64], y[:64], epochs=1, batch_size=32, verbose=0)  # plan and buffers made
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (args.rows, *SHAPE)).astype("float32")
    y = rng.integers(0, 5, args.rows)
    kinds = ["plain", "flat", "nested"]
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for repeat in range(args.repeats):
        order = kinds[repeat % 3:] + kinds[:repeat % 3]  # each kind first in turn
        for kind in order:
            times[kind].append(epoch_seconds(kind, x, y, args.epochs))
    for kind in kinds:
        print(f"{kind:7} {statistics.median(times[kind]):.3f} s/epoch  "
              f"({', '.join(f'{t:.3f}' for t in times[kind])})")
    ratio = statistics.median(times["nested"]) / statistics.median(times["flat"])
    print(f"nested / flat: {ratio:.3f}")


if __name__ == "__main__":
    main()
