"""glassnet.distributed: ``mpirun -np 2`` trains to the weights of one process.

MPI runs in subprocesses (``mpirun``), never in the test process, so that MPI's
initialisation cannot disturb the other tests (which fork and spawn workers).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet.distributed import DataParallel
from glassnet.experiments import dense_network
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.utils import set_random_seed


@pytest.fixture
def mpirun() -> str:
    """OpenMPI's ``mpirun``, with mpi4py importable: skipped locally without them, a
    failure in CI (``.ci/run`` installs both)."""
    how = (
        "MPI data parallelism needs OpenMPI and mpi4py: apt-get install openmpi-bin "
        "libopenmpi-dev; pip install 'glassnet[mpi]'"
    )
    path = require_tool("mpirun", how, program=True)
    require_tool("mpi4py", how)
    return path


SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from glassnet.distributed import DataParallel
    from glassnet.experiments import dense_network
    from glassnet.utils import set_random_seed

    data = np.load(sys.argv[1])
    batch_size = int(sys.argv[3])
    set_random_seed(0)
    model = dense_network(3, (16, 8), learning_rate=0.01)
    trainer = DataParallel(model)
    history = trainer.fit(data["x"], data["y"], epochs=3, batch_size=batch_size, seed=5)
    np.savez(f"{sys.argv[2]}.{trainer.rank}.npz", *model.get_weights(),
             loss=np.array(history["loss"]), size=trainer.size)
""")


def one_process(x, y, batch_size):
    """The same training in one process, with the model's own train_on_batch."""
    set_random_seed(0)
    model = dense_network(3, (16, 8), learning_rate=0.01)
    rng = np.random.default_rng(5)
    losses = []
    for _ in range(3):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            rows = order[start : start + batch_size]
            total += model.train_on_batch(x[rows], y[rows]) * len(rows)
        losses.append(total / len(x))
    return model.get_weights(), losses


@pytest.mark.parametrize("batch_size", [32, 25])  # 25: shards of 13 and 12 rows
def test_two_ranks_match_one_process(tmp_path, batch_size, mpirun):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 3)).astype(np.float32)
    y = (x[:, 0] - x[:, 1] * x[:, 2]).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    (tmp_path / "train.py").write_text(SCRIPT)
    env = {
        **os.environ,
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    out = tmp_path / "weights"
    done = subprocess.run(
        [
            mpirun,
            "-np",
            "2",
            sys.executable,
            str(tmp_path / "train.py"),
            str(tmp_path / "data.npz"),
            str(out),
            str(batch_size),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [np.load(f"{out}.{r}.npz") for r in (0, 1)]
    assert int(ranks[0]["size"]) == 2
    expected, losses = one_process(x, y, batch_size)
    for rank in ranks:
        got = [rank[f"arr_{i}"] for i in range(len(expected))]
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(rank["loss"], losses, rtol=1e-5)
    for a, b in zip(
        *(sorted(k for k in r.files if k.startswith("arr_")) for r in ranks), strict=True
    ):
        np.testing.assert_array_equal(ranks[0][a], ranks[1][b])  # the ranks agree exactly


def test_data_parallel_needs_a_compiled_model_with_a_shape():
    with pytest.raises(ValueError, match="needs a compiled model"):
        DataParallel(Sequential([Dense(1, input_shape=(2,))]))
    model = Sequential([Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="knows its input shape"):
        DataParallel(model)
    with pytest.raises(TypeError, match="must be a glassnet model"):
        DataParallel("model")
    assert dense_network(2, (3,)).compiled
