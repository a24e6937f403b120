"""Where glassnet's training step spends its time: W1 and W3 under cProfile.

    python bench/profile_glassnet.py                 # W1 and W3 as in the benchmark
    python bench/profile_glassnet.py --quick         # fewer epochs/rows
    python bench/profile_glassnet.py --workloads W2 --top 30

For each workload it trains glassnet once without the profiler (the honest µs/step) and once
under cProfile, then prints per optimizer step:
- the functions with the most own time, and glassnet's functions by cumulative time;
- the NumPy calls that cProfile sees, counted where glassnet's code calls them. cProfile
  records Python functions and C *functions and methods* (``np.empty``, ``ndarray.sum``,
  ``ufunc.reduce``...), but not calls of ufunc objects (``a + b``, ``np.add``,
  ``np.maximum``, ``np.matmul``/``@``...), so the true number of NumPy operations is higher;
- the Python lines of glassnet executed per step (a second, line-traced run), which bounds
  the interpreter work;
- for the Adam moments after training, how many are float32 subnormals (see issue 7).
cProfile adds about a microsecond per call it records, so profiled times are inflated; the
share of each function, not its absolute time, is what to read.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import workloads
from systems import Glassnet

GLASSNET_DIR = None  # set in main(): the folder of the installed package


def is_glassnet(filename: str) -> bool:
    return filename.startswith(GLASSNET_DIR)


def is_numpy(func: tuple) -> bool:
    """A NumPy function or method; not the ``_..._dispatcher`` helpers that NumPy's
    ``__array_function__`` protocol runs before the function itself."""
    filename, _, name = func
    if name.endswith("_dispatcher"):
        return False
    if "/numpy/" in filename:
        return True
    return filename == "~" and "numpy" in name


def label(func: tuple) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    path = Path(filename)
    short = path.name
    if is_glassnet(filename):
        short = str(path.relative_to(GLASSNET_DIR))
    elif "/numpy/" in filename:
        short = "numpy/" + filename.split("/numpy/", 1)[1]
    return f"{short}:{line}({name})"


def build(w, weights) -> Glassnet:
    system = Glassnet()
    system.setup(threads=blas_threads(), seed=0)
    system.build(w, weights)
    return system


def blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def count_lines(system, w, data) -> int:
    """Lines of glassnet's code executed by one ``fit`` (a line-traced run)."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def global_(frame, event, arg):
        return local if is_glassnet(frame.f_code.co_filename) else None

    sys.settrace(global_)
    try:
        system.fit(w, data)
    finally:
        sys.settrace(None)
    return count


def subnormal_share(model) -> dict[str, float]:
    tiny = np.finfo(np.float32).tiny
    slots = getattr(getattr(model, "optimizer", None), "slots", {}) or {}
    return {name: float(np.mean((a != 0) & (np.abs(a) < tiny))) for name, a in slots.items()
            if isinstance(a, np.ndarray) and a.dtype == np.float32}


def profile(w, top: int) -> None:
    data = workloads.make_data(w, seed=0)
    weights = workloads.initial_weights(w, seed=0)
    steps = w.epochs * w.steps_per_epoch
    print(f"\n=== {w.name} {w.title}: {w.describe()} ({steps} steps) ===")

    system = build(w, weights)
    system.fit(replace(w, epochs=1), data)  # warm-up
    system.build(w, weights)
    start = time.perf_counter()
    system.fit(w, data)
    plain = (time.perf_counter() - start) / steps * 1e6
    print(f"subnormal share of the Adam slots after training: {subnormal_share(system.model)}")

    system.build(w, weights)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(system.fit, w, data)
    profiled = (time.perf_counter() - start) / steps * 1e6
    print(f"µs/step: {plain:.1f} without the profiler, {profiled:.1f} under cProfile")

    # func -> (primitive calls, calls, own time, cumulative time, {caller: same numbers})
    stats = pstats.Stats(profiler).stats
    print(f"\nTop {top} by own time (µs per step, calls per step):")
    for func, (_, calls, own, _, _) in sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]:
        print(f"  {own / steps * 1e6:9.2f} µs {calls / steps:7.2f}×  {label(func)}")

    print(f"\nglassnet functions by cumulative time (top {top}):")
    ours = [(f, s) for f, s in stats.items() if is_glassnet(f[0])]
    for func, (_, calls, _, cum, _) in sorted(ours, key=lambda kv: -kv[1][3])[:top]:
        print(f"  {cum / steps * 1e6:9.2f} µs {calls / steps:7.2f}×  {label(func)}")

    # NumPy calls made directly by glassnet's code (not NumPy's calls into itself).
    from_glassnet = {}
    for func, (_, _, _, _, callers) in stats.items():
        if is_numpy(func):
            n = sum(c[1] for caller, c in callers.items() if is_glassnet(caller[0]))
            if n:
                from_glassnet[func] = n
    total = sum(from_glassnet.values())
    python_calls = sum(s[1] for f, s in ours)
    print(f"\nNumPy calls from glassnet visible to cProfile: {total / steps:.1f} per step "
          f"(ufunc calls and operators not included); glassnet Python function calls: "
          f"{python_calls / steps:.1f} per step")
    for func, n in sorted(from_glassnet.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {n / steps:7.2f}×  {label(func)}")

    system.build(w, weights)
    lines = count_lines(system, w, data)
    print(f"\nglassnet Python lines executed: {lines / steps:.0f} per step")


def main(argv=None) -> None:
    global GLASSNET_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", default="W1,W3")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    import glassnet

    GLASSNET_DIR = str(Path(glassnet.__file__).resolve().parent) + "/"
    print(f"glassnet {glassnet.__version__} from {GLASSNET_DIR}, NumPy {np.__version__}, "
          f"{blas_threads()} BLAS threads")
    for w in workloads.select(args.workloads.split(","), args.quick, None):
        if w.kind != "train":
            raise SystemExit(f"{w.name} is not a training workload")
        profile(w, args.top)


if __name__ == "__main__":
    main()
