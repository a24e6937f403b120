"""Data-parallel training across processes and machines with MPI (mpi4py).

Each process (an MPI *rank*) holds the same model. For every global batch, each rank
takes its share of the rows, computes the slopes of the loss on them with
``model.compute_gradients``, and one ``Allreduce`` adds up, over all ranks, each rank's
slopes weighted by its number of rows (together with the row counts and the losses, in
the same message). Dividing by the total number of rows gives exactly the slope of the
mean loss over the whole global batch, which every rank then applies with its own copy of
the optimizer. The ranks therefore stay identical, and training matches one process
stepping on the same global batches, up to float32 rounding (the sums happen in another
order)::

    # train.py -- run with: mpirun -np 2 python train.py
    from glassnet.distributed import DataParallel

    model = build_model()                  # the same architecture on every rank
    trainer = DataParallel(model)          # rank 0's weights are broadcast to all
    history = trainer.fit(x, y, epochs=10, batch_size=256, seed=0)

Nothing here needs MPI to be installed until a ``DataParallel`` is created; install it
with ``apt-get install openmpi-bin libopenmpi-dev`` and ``pip install mpi4py``.
``python -m glassnet.distributed --help`` runs a small benchmark (step time, all-reduce
time, speed-up).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from glassnet.models import NonFiniteLossError, Sequential


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(
            "glassnet.distributed needs mpi4py and an MPI library: apt-get install "
            "openmpi-bin libopenmpi-dev, then pip install mpi4py"
        ) from None
    return MPI


class DataParallel:
    """Trains a compiled model on several MPI ranks, one all-reduce per step.

    Creating it is a collective call (every rank must create one): it broadcasts rank
    ``root``'s weights so that all ranks start equal.

    Args:
        model: a compiled glassnet model whose input shape is known.
        comm: the MPI communicator (default ``MPI.COMM_WORLD``).
        root: the rank whose initial weights everyone takes.

    Attributes:
        allreduce_seconds: total time spent in the all-reduce (for benchmarks).
        steps: steps taken.
    """

    def __init__(self, model: Sequential, comm=None, root: int = 0) -> None:
        if not isinstance(model, Sequential):
            raise TypeError(f"`model` must be a glassnet model. Received: {type(model).__name__}")
        if not model.compiled:
            raise ValueError("DataParallel needs a compiled model: call model.compile(...) first")
        if not model.built:
            if model.input_shape is None:
                raise ValueError("DataParallel needs a model that knows its input shape: give "
                                 "the first layer input_shape=(columns,) or call model.build()")
            model.build()
        mpi = _mpi()
        self._mpi = mpi
        self.model = model
        self.comm = comm if comm is not None else mpi.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.allreduce_seconds = 0.0
        self.steps = 0
        size = model.storage.gradients.size
        # Slopes (weighted by rows), then the row count, then the loss (weighted by rows).
        self._buffer = np.zeros(size + 2, dtype=np.float64)
        self.broadcast_weights(root)

    def broadcast_weights(self, root: int = 0) -> None:
        """Gives every rank the weights (trainable and not) of rank ``root``."""
        storage = self.model.storage
        self.comm.Bcast(storage.parameters, root=root)
        if storage.state.size:
            self.comm.Bcast(storage.state, root=root)

    def train_on_batch(self, x, y) -> float:
        """One step on this rank's share ``(x, y)`` of a global batch; returns the global loss.

        Every rank must call it once per step (it is collective). A rank may have no rows
        for a step (``len(x) == 0``); it then contributes nothing.
        """
        model = self.model
        storage = model.storage
        grads = storage.gradients
        size = grads.size
        buf = self._buffer
        rows = len(x)
        if rows:
            loss, _ = model.compute_gradients(x, y)  # leaves storage.gradients filled
            np.multiply(grads, rows, out=buf[:size])
        else:
            loss = 0.0
            buf[:size] = 0.0
        buf[size] = rows
        buf[size + 1] = loss * rows
        start = time.perf_counter()
        self.comm.Allreduce(self._mpi.IN_PLACE, buf, op=self._mpi.SUM)
        self.allreduce_seconds += time.perf_counter() - start
        total = buf[size]
        if total == 0:
            raise ValueError("No rank had any rows for this step")
        global_loss = float(buf[size + 1] / total)
        if not math.isfinite(global_loss):
            raise NonFiniteLossError(
                f"The loss became {global_loss} at step {self.steps + 1}. The weights are those "
                "before this step. Try a lower learning rate or scaled inputs.")
        np.divide(buf[:size], total, out=grads, casting="same_kind")
        model.optimizer.apply(storage.parameters, grads)
        self.steps += 1
        return global_loss

    def shard(self, rows: np.ndarray) -> np.ndarray:
        """This rank's share of a global batch's row indices (shares differ by at most 1)."""
        return np.array_split(rows, self.size)[self.rank]

    def fit(self, x, y, *, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
            seed: int = 0) -> dict[str, list[float]]:
        """Trains on ``(x, y)``, which every rank holds; each takes its share of every batch.

        The order of the rows comes from ``seed`` and is the same on every rank, so a
        global batch is the same rows as in one process with ``batch_size`` rows.

        Returns:
            ``{"loss": [mean loss of each epoch over the global batches]}``.
        """
        x, y = np.asarray(x), np.asarray(y)
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows and y has {len(y)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size!r}")
        rng = np.random.default_rng(seed)
        history: dict[str, list[float]] = {"loss": []}
        for _ in range(epochs):
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            total = 0.0
            for start in range(0, len(x), batch_size):
                rows = order[start:start + batch_size]
                mine = self.shard(rows)
                total += self.train_on_batch(x[mine], y[mine]) * len(rows)
            history["loss"].append(total / len(x))
        return history


def benchmark(hidden: tuple[int, ...] = (512, 512), features: int = 64,
              batch_size: int = 2048, steps: int = 30, seed: int = 0) -> dict[str, float]:
    """Times data-parallel steps on random data; run it under ``mpirun -np 1`` and ``-np 2``.

    Returns (on every rank): ``step_ms`` (mean wall time of a step), ``allreduce_ms``
    (of which in the all-reduce), ``rows_per_s`` (global rows per second), ``ranks``.
    """
    from glassnet.experiments import dense_network
    from glassnet.utils import set_random_seed

    set_random_seed(seed)
    model = dense_network(features, hidden, 1, optimizer="sgd", learning_rate=1e-3)
    trainer = DataParallel(model)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch_size, features)).astype(np.float32)
    y = x[:, :1].copy()
    mine = trainer.shard(np.arange(batch_size))
    trainer.train_on_batch(x[mine], y[mine])  # warm-up: allocations, optimizer state
    trainer.comm.Barrier()
    trainer.allreduce_seconds = 0.0
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_on_batch(x[mine], y[mine])
    elapsed = time.perf_counter() - start
    return {"ranks": trainer.size, "step_ms": 1e3 * elapsed / steps,
            "allreduce_ms": 1e3 * trainer.allreduce_seconds / steps,
            "rows_per_s": batch_size * steps / elapsed, "parameters": model.count_params()}


def _main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="mpirun -np N python -m glassnet.distributed",
        description="Benchmark of data-parallel steps: run with -np 1, then -np 2, ...")
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512])
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args(argv)
    result = benchmark(tuple(args.hidden), args.features, args.batch_size, args.steps)
    if _mpi().COMM_WORLD.Get_rank() == 0:
        share = result["allreduce_ms"] / result["step_ms"]
        print(f"ranks {result['ranks']}  parameters {result['parameters']}  global batch "
              f"{args.batch_size}: step {result['step_ms']:.2f} ms, all-reduce "
              f"{result['allreduce_ms']:.2f} ms ({share:.0%}), {result['rows_per_s']:.0f} rows/s")


if __name__ == "__main__":
    _main()
