"""Serial, process-parallel, Dask and Ray runs of an experiment give the same numbers."""

from __future__ import annotations

import concurrent.futures
import re
import socket

import numpy as np
import pytest
from ci_tools import require_tool, run_slow_tool_tests

from glassnet.experiments import capacity_search, cross_validate, dense_network, run_tasks
from glassnet.models import Sequential

#: Seconds after which a test that waits for an event gives up (a guard, not a limit).
DEADLOCK_S = 300


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(90, 4)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] + x[:, 2] - x[:, 3]).astype(np.float32)
    return x, y


SEARCH = {
    "start": (2,),
    "max_units": 8,
    "max_layers": 2,
    "epochs": 5,
    "repeats": 2,
    "learning_rate": 0.02,
    "seed": 4,
}


def needs_dask():
    """dask.distributed (``glassnet[experiments]``, in the test extras); a failure in CI."""
    return require_tool("distributed", "client= runs on Dask: pip install 'glassnet[experiments]'")


def numbers(results):
    """Everything a study reports except wall times."""
    return [
        (
            t.name,
            t.stage,
            t.n_params,
            t.scores,
            [dict(r.history) for r in t.runs],
            [r.seed for r in t.runs],
        )
        for t in results
    ]


@pytest.fixture(scope="module")
def serial(data):
    return capacity_search(*data, n_jobs=1, **SEARCH)


def test_processes_give_the_serial_results(data, serial):
    parallel = capacity_search(*data, n_jobs=2, **SEARCH)
    assert numbers(parallel) == numbers(serial)
    assert parallel.best.name == serial.best.name


def test_cross_validation_in_processes_matches_serial(data):
    def build(n_features):
        return dense_network(n_features, (5,))

    a = cross_validate(build, *data, folds=3, epochs=3, seed=2, n_jobs=1)
    b = cross_validate(build, *data, folds=3, epochs=3, seed=2, n_jobs=2)
    assert a.scores == b.scores


def test_dask_local_cluster_gives_the_serial_results(data, serial):
    distributed = needs_dask()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = capacity_search(*data, client=client, **SEARCH)
    assert numbers(on_dask) == numbers(serial)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_unreachable_dask_scheduler_fails_fast_and_clearly(data, monkeypatch):
    """Nothing listens at the address: the one connection attempt, given the 1 s limit,
    fails, and the search raises a ConnectionError that names the address and the limit,
    before it trains anything. The test waits for that exception (the future's result),
    not for a clock: ``DEADLOCK_S`` only keeps a connection that never gives up from
    hanging the suite."""
    distributed = needs_dask()
    address = f"tcp://127.0.0.1:{closed_port()}"
    attempts, fits = [], []

    class RecordingClient(distributed.Client):
        def __init__(self, *args, **kwargs):
            attempts.append((args, kwargs.get("timeout")))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(distributed, "Client", RecordingClient)
    monkeypatch.setattr(Sequential, "fit", lambda *args, **kwargs: fits.append(args))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        search = pool.submit(capacity_search, *data, client=address, timeout=1, **SEARCH)
        error = search.exception(timeout=DEADLOCK_S)
    finally:
        pool.shutdown(wait=False)
    assert isinstance(error, ConnectionError), error
    assert re.match(
        r"Could not reach the Dask scheduler at 'tcp://127\.0\.0\.1:\d+' within 1 s\. ",
        str(error),
    )
    assert attempts == [((address,), 1)]  # one attempt, with the limit
    assert isinstance(error.__cause__, (OSError, TimeoutError))  # and its own failure
    assert fits == []


def test_closed_dask_client_is_refused(data):
    distributed = needs_dask()
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        client = distributed.Client(cluster)
        client.close()
    with pytest.raises(ConnectionError, match="Dask client is not connected"):
        cross_validate(lambda: dense_network(4, (2,)), *data, folds=2, client=client)


def test_run_tasks_argument_errors():
    with pytest.raises(TypeError, match="`client` must be a dask.distributed Client"):
        run_tasks(divmod, [(1, 2)], client=42)
    with pytest.raises(ValueError, match="`n_jobs` must be a non-zero integer"):
        run_tasks(divmod, [(1, 2)], n_jobs=0)
    with pytest.raises(ValueError, match="`timeout` must be a positive number"):
        run_tasks(divmod, [(1, 2)], timeout=0)
    assert run_tasks(divmod, [(7, 2), (9, 4)], n_jobs=2) == [(3, 1), (2, 1)]


@pytest.mark.slow
@pytest.mark.skipif(
    not run_slow_tool_tests("GLASSNET_TEST_RAY"),
    reason="starting Ray takes ~20 s; runs in CI, or set GLASSNET_TEST_RAY=1",
)
def test_ray_gives_the_serial_results(data, serial):
    ray = require_tool("ray", "client='ray' runs on Ray: pip install 'glassnet[ray]'")
    assert not ray.is_initialized(), "something left Ray running in the test process"
    on_ray = capacity_search(*data, client="ray", **SEARCH)
    assert not ray.is_initialized()  # the search shut down the Ray it started
    assert numbers(on_ray) == numbers(serial)


def test_dask_threads_in_one_process_still_give_the_serial_results(data, serial):
    # Threads share the process's random state; seeded runs take turns instead of mixing.
    distributed = needs_dask()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=3, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_threads = capacity_search(*data, client=client, **SEARCH)
    assert numbers(on_threads) == numbers(serial)
