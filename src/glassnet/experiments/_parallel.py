"""Where the runs of an experiment execute: here, in local processes, on Dask or on Ray.

Every engine runs the same pure function on the same arguments (a build function, the
data and a seed), so the results do not depend on where they ran. glassnet schedules
nothing itself: local processes are joblib's ``loky`` backend, a cluster is joblib's
``dask`` backend (a ``distributed.Client``) or Ray's joblib backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

#: ``client=`` strings that mean Ray rather than a Dask scheduler address.
_RAY_PREFIXES = ("ray://",)
_RAY_WORDS = ("ray", "ray:auto")


def _joblib():
    try:
        import joblib
    except ImportError:
        raise ImportError(
            "Running experiments in parallel needs joblib: pip install joblib "
            "(or pass n_jobs=1 to run them one after another)"
        ) from None
    return joblib


def _check_n_jobs(n_jobs) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(
            "`n_jobs` must be a non-zero integer (-1: all cores) or None. "
            f"Received: n_jobs={n_jobs!r}"
        )
    return n_jobs


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` means every core when joblib is installed, else one; -1 every core."""
    n_jobs = _check_n_jobs(n_jobs)
    if n_jobs is None:
        try:
            import joblib  # noqa: F401
        except ImportError:
            return 1
        n_jobs = -1
    if n_jobs < 0:
        n_jobs = max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    return n_jobs


def run_tasks(
    fn: Callable,
    tasks: Sequence[tuple],
    *,
    n_jobs: int | None = None,
    client=None,
    timeout: float = 10.0,
) -> list:
    """``[fn(*task) for task in tasks]``, computed in parallel; results in task order.

    Args:
        fn: a function that pickles (defined at module level, or a closure; cloudpickle).
        tasks: the argument tuples.
        n_jobs: local processes (``None``: all cores if joblib is installed; 1: in this
            process). Ignored when ``client`` is given: the cluster decides.
        client: ``None`` (this machine), a ``distributed.Client``, a Dask scheduler address
            such as ``"tcp://10.0.0.5:8786"``, or Ray: ``"ray"`` (connect to or start a
            local Ray) or ``"ray://host:10001"`` (a Ray cluster).
        timeout: seconds to wait to connect to a cluster and for its first worker.

    Raises:
        ConnectionError: when the cluster cannot be reached within ``timeout``.
    """
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"`timeout` must be a positive number of seconds. Received: {timeout!r}")
    tasks = list(tasks)
    if client is not None:
        if isinstance(client, str) and (client.startswith(_RAY_PREFIXES) or client in _RAY_WORDS):
            return _run_on_ray(fn, tasks, client, timeout)
        return _run_on_dask(fn, tasks, client, timeout)
    n_jobs = resolve_n_jobs(n_jobs)
    if n_jobs == 1 or len(tasks) <= 1:
        return [fn(*task) for task in tasks]
    joblib = _joblib()
    n_jobs = min(n_jobs, len(tasks))
    return joblib.Parallel(n_jobs=n_jobs, backend="loky")(joblib.delayed(fn)(*t) for t in tasks)


def _dask_client(client, timeout: float):
    """``(client, owned)``: a running ``distributed.Client`` and whether we opened it."""
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "client= with Dask needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if isinstance(client, distributed.Client):
        if client.status != "running":
            raise ConnectionError(
                f"The Dask client is not connected (its status is {client.status!r}). "
                "Create a new Client for the scheduler."
            )
        return client, False
    if not isinstance(client, str):
        raise TypeError(
            "`client` must be a dask.distributed Client, a Dask scheduler address such as "
            "'tcp://127.0.0.1:8786', or a Ray address ('ray' or 'ray://host:port'). "
            f"Received: {client!r} of type {type(client).__name__}"
        )
    try:
        return distributed.Client(client, timeout=timeout, set_as_default=False), True
    except (OSError, TimeoutError) as err:
        raise ConnectionError(
            f"Could not reach the Dask scheduler at {client!r} within {timeout:g} s. Is a "
            "scheduler running there (`dask scheduler`) and reachable from this machine? "
            f"Dask said: {err}"
        ) from err


def _run_on_dask(fn: Callable, tasks: list, client, timeout: float) -> list:
    joblib = _joblib()
    client, owned = _dask_client(client, timeout)
    try:
        with joblib.parallel_config(backend="dask", client=client,
                                    wait_for_workers_timeout=timeout):
            return joblib.Parallel(n_jobs=-1)(joblib.delayed(fn)(*t) for t in tasks)
    finally:
        if owned:
            client.close()


def _run_on_ray(fn: Callable, tasks: list, address: str, timeout: float) -> list:
    joblib = _joblib()
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise ImportError("client='ray...' needs Ray: pip install 'ray'") from None
    started = False
    if not ray.is_initialized():
        target = None if address == "ray" else "auto" if address == "ray:auto" else address
        try:
            ray.init(address=target, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, OSError, TimeoutError) as err:
            raise ConnectionError(f"Could not connect to Ray at {address!r}: {err}") from err
        started = True
    register_ray()
    try:
        with joblib.parallel_config(backend="ray"):
            return joblib.Parallel(n_jobs=-1)(joblib.delayed(fn)(*t) for t in tasks)
    finally:
        if started:
            ray.shutdown()
