"""The child process: measures one system on one workload and writes a JSON result.

Started by ``run.py`` as ``python bench/worker.py '<json job>'``, a fresh interpreter per
(system, workload), so frameworks never share a process and each peak memory is its own.
The other job, ``sgemm``, measures the machine's float32 matrix-multiply peak.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """Resident memory now (VmRSS), in MiB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (VmHWM), in MiB.

    Not ``getrusage().ru_maxrss``: Linux carries that over from the parent across fork and
    exec, so every child would report at least the parent's memory at the time it started.
    """
    return _status_mb("VmHWM")


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "all": values}


def blas_threads() -> list[dict]:
    from threadpoolctl import threadpool_info

    return [{k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for info in threadpool_info()]


# --- training and inference -----------------------------------------------------------------


def train_job(system, w, data, weights, warmup: int) -> dict:
    seconds, histories = [], []
    for run in range(warmup + w.repeats):
        system.build(w, weights)
        start = time.perf_counter()
        history = system.fit(w, data)
        elapsed = time.perf_counter() - start
        if run >= warmup:
            seconds.append(elapsed)
            histories.append(history)
    from workloads import training_loss

    steps = w.epochs * w.steps_per_epoch
    per_epoch = [s / w.epochs for s in seconds]
    result = {
        "seconds_per_fit": summary(seconds),
        "seconds_per_epoch": summary(per_epoch),
        "us_per_step": summary([s / steps * 1e6 for s in seconds]),
        # The model of the last run, evaluated on all training rows the same way for everyone.
        "final_loss": training_loss(w.loss, system.outputs(data["x"]), data["y"]),
        "last_epoch_loss_reported": (histories[-1] or [None])[-1] if histories else None,
    }
    if w.name == "W4":
        result["gflops"] = summary([w.flop_per_epoch() / s / 1e9 for s in per_epoch])
    return result


def time_calls(call, n: int, warmup: int) -> dict:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    result = summary([t * 1e6 for t in times])
    del result["all"]
    result["calls"] = n
    return result


def predict_job(system, w, data, weights, warmup: int) -> dict:
    from workloads import reference_forward

    system.build_for_inference(w, weights, data)
    x = data["x"]
    seconds = []
    for run in range(warmup + w.repeats):
        start = time.perf_counter()
        out = system.predict_bulk(x, w.batch_size)
        elapsed = time.perf_counter() - start
        if run >= warmup:
            seconds.append(elapsed)
    check = reference_forward(weights, x[:2000], w.loss)
    result = {
        "bulk_seconds": summary(seconds),
        "bulk_rows_per_second": w.rows / statistics.median(seconds),
        "max_abs_diff_vs_float64": float(np.max(np.abs(np.asarray(out[:2000]) - check))),
        "single_row_us": {},
    }
    row = np.ascontiguousarray(x[:1])
    for label, (call, slow) in system.single_row_calls(row).items():
        n = w.slow_single_row_calls if slow else w.single_row_calls
        result["single_row_us"][label] = time_calls(call, n, warmup=max(3, n // 20))
    return result


def run_system(job: dict) -> dict:
    from systems import SYSTEMS
    from workloads import Workload, load

    w = Workload(**{k: tuple(v) if k == "hidden" else v for k, v in job["workload"].items()})
    system = SYSTEMS[job["system"]]()
    start = time.perf_counter()
    system.setup(job["threads"], job["seed"])
    setup_seconds = time.perf_counter() - start
    data, weights = load(Path(job["data"]))
    base = rss_mb()
    if w.kind == "train":
        result = train_job(system, w, data, weights, job["warmup"])
    else:
        result = predict_job(system, w, data, weights, job["warmup"])
    result.update(
        setup_seconds=setup_seconds,
        rss_after_setup_mb=base,
        peak_rss_mb=peak_rss_mb(),
        versions=system.versions(),
        threads=blas_threads(),
    )
    return result


# --- the matrix-multiply peak and import costs ----------------------------------------------


def sgemm_job(job: dict) -> dict:
    """Best float32 GFLOP/s of ``a @ b`` on square matrices, with NumPy or PyTorch.

    One library per process: OpenBLAS's threads keep spinning for a while after a call and
    would slow down a second library measured right after it in the same process.
    """
    n, tries, threads = job["n"], job["tries"], job["threads"]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty_like(a)
    if job["library"] == "torch":
        import torch

        torch.set_num_threads(threads)
        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)

        def multiply():
            torch.mm(ta, tb, out=tc)
    else:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=threads, user_api="blas")  # noqa: F841 (held)

        def multiply():
            np.matmul(a, b, out=c)

    multiply()
    seconds = []
    for _ in range(tries):
        start = time.perf_counter()
        multiply()
        seconds.append(time.perf_counter() - start)
    return {"n": n, "tries": tries, "gflops": 2.0 * n**3 / min(seconds) / 1e9,
            "threads": blas_threads()}


def main() -> None:
    job = json.loads(sys.argv[1])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        result = run_system(job) if job["job"] == "system" else sgemm_job(job)
    except Exception as error:  # reported in the table, with the traceback in the JSON
        result = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    with open(job["result"], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
