"""The benchmark workloads W1-W5 of issue 7, their synthetic data and their initial weights.

Everything here is plain NumPy and deterministic: the same seed gives the same data and
the same starting weights, bit for bit, in every process. The parent process (``run.py``)
writes them to ``.npy`` files once; each system's child process (``worker.py``) loads them,
so every framework trains on identical numbers from an identical starting point.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

EPSILON = 1e-7  # Keras's clipping of probabilities in cross-entropy, and Adam's epsilon


@dataclass(frozen=True)
class Workload:
    """One row of the benchmark: a network, its data and how it is trained or used.

    ``kind`` is ``"train"`` (fit and time the epochs) or ``"predict"`` (W5: bulk and
    single-row inference with the W3 network). ``loss`` is ``"mse"`` (linear output) or
    ``"cce"`` (softmax output, categorical cross-entropy).
    """

    name: str
    title: str
    kind: str
    rows: int
    features: int
    hidden: tuple[int, ...]
    outputs: int
    loss: str
    batch_size: int
    epochs: int
    repeats: int
    data: str  # "tabular" (standard normal) or "pixels" (MNIST-like: [0, 1], 80% zeros)
    single_row_calls: int = 0  # W5: calls timed for single-row latency
    slow_single_row_calls: int = 0  # W5: calls for the slow paths (Keras `predict`)

    @property
    def layer_sizes(self) -> list[int]:
        return [self.features, *self.hidden, self.outputs]

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.rows / self.batch_size)

    @property
    def kernel_weights(self) -> int:
        """Number of kernel entries (biases left out), the ``weights`` of the GFLOP formula."""
        sizes = self.layer_sizes
        return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))

    def flop_per_epoch(self) -> float:
        """6 x weights x rows: forward, slope of the weights and slope of the inputs."""
        return 6.0 * self.kernel_weights * self.rows

    def describe(self) -> str:
        arch = " → ".join(
            [f"{self.rows:,} × {self.features}"]
            + [f"{h} relu" for h in self.hidden]
            + [f"{self.outputs} {'softmax' if self.loss == 'cce' else 'linear'}"]
        )
        if self.kind == "predict":
            return (f"{arch}; predict {self.rows:,} rows at batch {self.batch_size}, "
                    "single-row latency")
        return f"{arch}; {self.loss}, batch {self.batch_size}, {self.epochs} epoch(s)"

    def to_dict(self) -> dict:
        return asdict(self)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("W1", "course regression", "train", 534, 9, (50, 32), 1, "mse", 32, 100, 5,
                 "tabular"),
        Workload("W2", "course classification", "train", 891, 10, (32, 32), 2, "cce", 32, 100,
                 5, "tabular"),
        Workload("W3", "MNIST-size", "train", 60_000, 784, (100, 100), 10, "cce", 128, 2, 5,
                 "pixels"),
        Workload("W4", "BLAS-bound", "train", 65_536, 512, (1024, 1024), 10, "cce", 1024, 1, 3,
                 "tabular"),
        Workload("W5", "inference (W3 network)", "predict", 100_000, 784, (100, 100), 10, "cce",
                 1024, 0, 5, "pixels", single_row_calls=1000, slow_single_row_calls=50),
    ]
}

# --quick: the same networks on less work, so the whole run takes a couple of minutes.
QUICK = {
    "W1": {"epochs": 10, "repeats": 3},
    "W2": {"epochs": 10, "repeats": 3},
    "W3": {"rows": 6_000, "epochs": 1, "repeats": 3},
    "W4": {"rows": 8_192, "repeats": 3},
    "W5": {"rows": 10_000, "repeats": 3, "single_row_calls": 200, "slow_single_row_calls": 5},
}


def select(names: list[str], quick: bool, repeats: int | None) -> list[Workload]:
    """The workloads named, shrunk for ``--quick`` and with ``--repeats`` applied."""
    chosen = []
    for name in names:
        if name not in WORKLOADS:
            raise SystemExit(f"Unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
        w = WORKLOADS[name]
        if quick:
            w = replace(w, **QUICK[name])
        if repeats is not None:
            w = replace(w, repeats=repeats)
        chosen.append(w)
    return chosen


# --- data -----------------------------------------------------------------------------------


def _teacher_targets(x: np.ndarray, outputs: int, rng: np.random.Generator) -> np.ndarray:
    """A fixed random one-hidden-layer tanh network applied to ``x``, plus a little noise:
    targets that a network can learn but not memorise trivially."""
    hidden = 32
    a = rng.standard_normal((x.shape[1], hidden)).astype(np.float32) / np.sqrt(x.shape[1])
    b = rng.standard_normal((hidden, outputs)).astype(np.float32) / np.sqrt(hidden)
    t = np.tanh(x @ (a * 2.0)) @ b
    t += 0.1 * rng.standard_normal(t.shape).astype(np.float32)
    return t


def make_data(w: Workload, seed: int) -> dict[str, np.ndarray]:
    """Inputs and targets of workload ``w``, all float32 (labels int64).

    Returns ``x``; ``y`` (regression targets, or one-hot rows for classification);
    ``labels`` (class indices, classification only).
    """
    rng = np.random.default_rng([seed, int(w.name[1:])])
    if w.data == "pixels":
        u = rng.random((w.rows, w.features), dtype=np.float32)
        x = np.where(u < 0.2, u * 5.0, np.float32(0.0)).astype(np.float32)
        x_for_teacher = x - x.mean(axis=0)
    else:
        x = rng.standard_normal((w.rows, w.features), dtype=np.float32)
        x_for_teacher = x
    t = _teacher_targets(x_for_teacher, w.outputs, rng)
    if w.loss == "mse":
        y = ((t - t.mean(axis=0)) / t.std(axis=0)).astype(np.float32)
        return {"x": x, "y": y}
    labels = t.argmax(axis=1).astype(np.int64)
    y = np.zeros((w.rows, w.outputs), dtype=np.float32)
    y[np.arange(w.rows), labels] = 1.0
    return {"x": x, "y": y, "labels": labels}


def initial_weights(w: Workload, seed: int) -> list[np.ndarray]:
    """Glorot-uniform kernels and zero biases, as Keras's ``Dense`` defaults, in Keras order
    ``[kernel_1, bias_1, kernel_2, bias_2, ...]`` with kernels shaped ``(inputs, units)``.

    W5 uses the W3 network, so it gets W3's weights.
    """
    name = "W3" if w.name == "W5" else w.name
    rng = np.random.default_rng([seed, 1000 + int(name[1:])])
    weights = []
    sizes = w.layer_sizes
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=False):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, dtype=np.float32))
    return weights


def save(w: Workload, seed: int, folder: Path) -> Path:
    """Writes the data and initial weights of ``w`` under ``folder/w.name`` and returns it."""
    target = folder / w.name
    target.mkdir(parents=True, exist_ok=True)
    for key, value in make_data(w, seed).items():
        np.save(target / f"{key}.npy", value)
    for i, value in enumerate(initial_weights(w, seed)):
        np.save(target / f"weight_{i}.npy", value)
    return target


def load(folder: Path) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """The data and initial weights that ``save`` wrote."""
    data = {key: np.load(folder / f"{key}.npy") for key in ("x", "y", "labels")
            if (folder / f"{key}.npy").exists()}
    weights = []
    while (folder / f"weight_{len(weights)}.npy").exists():
        weights.append(np.load(folder / f"weight_{len(weights)}.npy"))
    return data, weights


# --- the loss every system is judged by ------------------------------------------------------


def training_loss(loss: str, outputs: np.ndarray, y: np.ndarray) -> float:
    """The loss of a trained model's outputs on the whole training set, computed the same way
    for every system (in float64): mean squared error, or categorical cross-entropy of
    probabilities clipped to ``[1e-7, 1 - 1e-7]`` as Keras does."""
    out = np.asarray(outputs, dtype=np.float64)
    if loss == "mse":
        return float(np.mean((out - y) ** 2))
    p = np.clip(out, EPSILON, 1.0 - EPSILON)
    return float(-np.mean(np.sum(y * np.log(p), axis=1)))


def reference_forward(weights: list[np.ndarray], x: np.ndarray, loss: str) -> np.ndarray:
    """Outputs of the network with ``weights`` (float64): for the loss at the starting point."""
    a = np.asarray(x, dtype=np.float64)
    layers = list(zip(weights[0::2], weights[1::2], strict=True))
    for i, (kernel, bias) in enumerate(layers):
        a = a @ kernel + bias
        if i < len(layers) - 1:
            a = np.maximum(a, 0.0)
    if loss == "cce":
        a = np.exp(a - a.max(axis=1, keepdims=True))
        a /= a.sum(axis=1, keepdims=True)
    return a
