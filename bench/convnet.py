"""W6: Keras's simple MNIST convnet on 10,000 28×28×1 images, batch 128, side by side.

    python bench/convnet.py                       # glassnet (both paths), floor, pytorch, keras
    python bench/convnet.py --systems glassnet,keras --repeats 3 --rows 10000

The network is Keras's example ``Conv2D(32, 3, relu)``, ``MaxPooling2D(2)``, ``Conv2D(64, 3,
relu)``, ``MaxPooling2D(2)``, ``Flatten``, ``Dropout(0.5)``, ``Dense(10, softmax)``, trained
with Adam(0.001) on sparse categorical cross-entropy. As in ``run.py``, the parent writes
the data (MNIST-like pixels: [0, 1], 80% zeros; labels from a fixed random teacher) and the
starting weights (Glorot-uniform, zero biases) once; each system runs in its own process
(``--worker``), builds its model from them, trains one untimed warm-up epoch, then times
``repeats`` epochs and ``repeats`` bulk predicts of all rows at batch 128, and reports its
peak resident memory (``ru_maxrss``, the whole process: interpreter and framework
included).

``glassnet`` runs as installed: with the compiled loops of ``glassnet[fast]`` (Numba) when
that is installed, which the report says; ``glassnet-numpy`` is the same with them turned
off, NumPy alone.

``matmul floor``: the seconds the epoch's matrix products alone take at this machine's
sgemm rate, measured in its own process on the same shapes (the three products of each
convolution over its patch matrix and of the Dense layer, forward and backward) — what no
implementation built on these products can beat.

Times depend on the load of the machine: the report prints ``uptime`` before and after.
Leave ``OPENBLAS_CORETYPE`` unset for NumPy's best kernel; the report names the kernel
(threadpoolctl).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SYSTEMS = ("glassnet", "glassnet-numpy", "floor", "pytorch", "keras")
SHAPES = [  # (kernel, in channels, out channels, output side)
    (3, 1, 32, 26),
    (3, 32, 64, 11),
]


def make_data(rows: int, seed: int, folder: Path) -> None:
    rng = np.random.default_rng([seed, 6])
    u = rng.random((rows, 28, 28, 1), dtype=np.float32)
    x = np.where(u < 0.2, u * 5.0, np.float32(0.0)).astype(np.float32)
    teacher = rng.standard_normal((784, 10)).astype(np.float32)
    labels = ((x.reshape(rows, -1) - x.mean()) @ teacher).argmax(axis=1).astype(np.int64)
    weights = []
    for shape in [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (1600, 10), (10,)]:
        if len(shape) == 1:
            weights.append(np.zeros(shape, np.float32))
            continue
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, shape).astype(np.float32))
    np.save(folder / "x.npy", x)
    np.save(folder / "labels.npy", labels)
    for i, w in enumerate(weights):
        np.save(folder / f"w{i}.npy", w)


def load(folder: Path):
    x, labels = np.load(folder / "x.npy"), np.load(folder / "labels.npy")
    return x, labels, [np.load(folder / f"w{i}.npy") for i in range(6)]


# --- one adapter per system: build(weights) -> (train_epoch, predict) -------------------


def glassnet_numpy_system(x, labels, weights, batch):
    """glassnet with its compiled loops turned off: NumPy alone."""
    sys.path.insert(0, str(HERE.parent / "src"))
    import glassnet

    glassnet.config.set_compiled_kernels(False)
    return glassnet_system(x, labels, weights, batch)


def glassnet_system(x, labels, weights, batch):
    """glassnet as installed: with its compiled loops when Numba is there."""
    sys.path.insert(0, str(HERE.parent / "src"))
    import glassnet as keras
    from glassnet import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="sparse_categorical_crossentropy"
    )
    model.set_weights(weights)
    return (
        lambda: model.fit(x, labels, batch_size=batch, epochs=1, verbose=0),
        lambda: model.predict(x, batch_size=batch, verbose=0),
    )


def keras_system(x, labels, weights, batch):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    threads = int(os.environ.get("BENCH_THREADS", "2"))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="sparse_categorical_crossentropy"
    )
    model.set_weights(weights)
    return (
        lambda: model.fit(x, labels, batch_size=batch, epochs=1, verbose=0),
        lambda: model.predict(x, batch_size=batch, verbose=0),
    )


def pytorch_system(x, labels, weights, batch):
    import torch
    from torch import nn

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(1600, 10),
    )
    k1, b1, k2, b2, d, db = weights
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(k1.transpose(3, 2, 0, 1).copy()))
        model[0].bias.copy_(torch.from_numpy(b1))
        model[3].weight.copy_(torch.from_numpy(k2.transpose(3, 2, 0, 1).copy()))
        model[3].bias.copy_(torch.from_numpy(b2))
        # Keras flattens (h, w, c); PyTorch (c, h, w): reorder the Dense rows to match.
        rows = d.reshape(5, 5, 64, 10).transpose(2, 0, 1, 3).reshape(1600, 10)
        model[8].weight.copy_(torch.from_numpy(rows.T.copy()))
        model[8].bias.copy_(torch.from_numpy(db))
    opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(labels)

    def epoch():
        model.train()
        order = torch.randperm(len(xt))
        for start in range(0, len(xt), batch):
            idx = order[start : start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    def predict():
        model.eval()
        with torch.inference_mode():
            return np.concatenate(
                [
                    torch.softmax(model(xt[s : s + batch]), 1).numpy()
                    for s in range(0, len(xt), batch)
                ]
            )

    return epoch, predict


def floor_system(x, labels, weights, batch):
    """The epoch's and the predict's matrix products alone, on the shapes glassnet uses."""
    rng = np.random.default_rng(0)
    products = []  # (a_shape, b_shape, transpose_a), per step
    for k, cin, cout, side in SHAPES:
        m, kk = batch * side * side, k * k * cin
        products.append(((m, kk), (kk, cout), False, True))  # forward
        products.append(((m, kk), (m, cout), True, False))  # slope of the kernel
        if cin > 1:
            products.append(((m, cout), (cout, kk), False, False))  # slope of the patches
    products += [
        ((batch, 1600), (1600, 10), False, True),
        ((batch, 1600), (batch, 10), True, False),
        ((batch, 10), (10, 1600), False, False),
    ]
    arrays = [
        (rng.random(a, dtype=np.float32), rng.random(b, dtype=np.float32), t, f)
        for a, b, t, f in products
    ]
    steps = -(-len(x) // batch)

    def run(forward_only):
        for _ in range(steps):
            for a, b, transpose, is_forward in arrays:
                if forward_only and not is_forward:
                    continue
                (a.T @ b) if transpose else (a @ b)

    return (lambda: run(False)), (lambda: run(True))


def worker(system: str, folder: Path, repeats: int, batch: int) -> dict:
    x, labels, weights = load(folder)
    build = {
        "glassnet": glassnet_system,
        "glassnet-numpy": glassnet_numpy_system,
        "keras": keras_system,
        "pytorch": pytorch_system,
        "floor": floor_system,
    }[system]
    epoch, predict = build(x, labels, weights, batch)
    epoch()  # warm-up
    predict()
    epochs, predicts = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        epoch()
        epochs.append(time.perf_counter() - start)
        start = time.perf_counter()
        predict()
        predicts.append(time.perf_counter() - start)
    info = {}
    try:
        import threadpoolctl

        info = [
            {
                k: v
                for k, v in lib.items()
                if k in ("internal_api", "architecture", "num_threads", "version")
            }
            for lib in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        pass
    if system == "glassnet":
        import glassnet

        system += " (compiled loops)" if glassnet.config.compiled_kernels() else " (NumPy)"
    return {
        "system": system,
        "epoch_s": epochs,
        "predict_s": predicts,
        "blas": info,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.data), args.repeats, args.batch)))
        return
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        make_data(args.rows, args.seed, Path(tmp))
        for system in args.systems.split(","):
            print(f"running {system}...", file=sys.stderr)
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    system,
                    "--data",
                    tmp,
                    "--repeats",
                    str(args.repeats),
                    "--batch",
                    str(args.batch),
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                print(f"{system} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"W6, {args.rows:,} images 28×28×1, batch {args.batch}, median of {args.repeats} "
        f"(min–max)\n\nload before: {uptime}\nload after:  {after}\n"
    )
    print("| system | epoch s | predict s | peak MiB |\n|---|---|---|---|")
    for r in results:
        e, p = np.array(r["epoch_s"]), np.array(r["predict_s"])
        print(
            f"| {r['system']} | {np.median(e):.2f} ({e.min():.2f}–{e.max():.2f}) | "
            f"{np.median(p):.2f} ({p.min():.2f}–{p.max():.2f}) | {r['peak_mib']:.0f} |"
        )
    for r in results:
        if r["system"].startswith("glassnet"):
            print(f"\nBLAS (glassnet's process): {r['blas']}")


if __name__ == "__main__":
    main()
