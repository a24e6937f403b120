"""Trains the same networks on the same data with glassnet and its peers, and compares.

    python bench/run.py                      # everything, about 10 minutes on 2 cores
    python bench/run.py --quick              # the same, shrunk: a couple of minutes
    python bench/run.py --workloads W1,W3 --systems glassnet,numpy,pytorch --repeats 7

Each (system, workload) runs in its own fresh interpreter (``worker.py``), after the data
and starting weights are written once by this process (``workloads.py``). Prints a Markdown
report and saves it with a JSON of every number (default ``bench/results/<date>.{json,md}``).
See ``bench/README.md`` for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import report
import workloads

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
SYSTEM_ORDER = ["glassnet", "numpy", "pytorch", "keras", "sklearn"]
DISTRIBUTIONS = ["numpy", "h5py", "glassnet", "torch", "tensorflow-cpu", "tensorflow", "keras",
                 "scikit-learn", "scipy", "threadpoolctl"]
IMPORTS = {  # label: (code, repeats, quick repeats)
    "glassnet": ("import glassnet", 7, 3),
    "glassnet + Sequential, Dense, Adam": (
        "import glassnet\nfrom glassnet.models import Sequential\n"
        "from glassnet.layers import Dense\nfrom glassnet.optimizers import Adam", 7, 3),
    "numpy": ("import numpy", 7, 3),
    "torch": ("import torch", 3, 1),
    "tensorflow + keras": ("import tensorflow\nimport keras", 3, 1),
    "sklearn MLP": ("from sklearn.neural_network import MLPClassifier", 3, 1),
}
SIZES = {  # label: distributions whose required dependencies are added
    "glassnet": ["glassnet"],
    "numpy": ["numpy"],
    "torch": ["torch"],
    "tensorflow + keras": ["tensorflow-cpu", "keras"],
    "scikit-learn": ["scikit-learn"],
}


def child_env() -> dict:
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_worker(job: dict, scratch: Path, timeout: float) -> dict:
    """Runs one job in a fresh interpreter and returns its result (or an ``error``)."""
    job = {**job, "result": str(scratch / f"result-{time.monotonic_ns()}.json")}
    try:
        done = subprocess.run([sys.executable, str(WORKER), json.dumps(job)], env=child_env(),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    path = Path(job["result"])
    if not path.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        return {"error": f"worker exited with {done.returncode}", "traceback": "\n".join(tail)}
    result = json.loads(path.read_text())
    path.unlink()
    return result


# --- the machine ----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds used by the whole machine, by this process and its finished children).

    The difference over a run, divided by its wall time, is how many cores other processes
    used meanwhile: the noise indicator in the report's header.
    """
    import resource

    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    machine = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))
    return machine, own


def blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info

    return [{k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "version",
                                       "architecture")} for info in threadpool_info()]


def versions() -> dict:
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=HERE.parent,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+uncommitted changes in src" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- import time and installed size ---------------------------------------------------------

IMPORT_SCRIPT = """\
import time
_start = time.perf_counter()
{code}
_seconds = time.perf_counter() - _start
with open("/proc/self/status") as _f:
    _peak = [line.split()[1] for line in _f if line.startswith("VmHWM:")][0]
print(_seconds, int(_peak) / 1024)
"""


def measure_imports(quick: bool, scratch: Path) -> dict:
    """Best wall time of the imports over fresh processes, and peak memory after them."""
    results = {}
    for label, (code, repeats, quick_repeats) in IMPORTS.items():
        seconds, rss, process = [], [], []
        for _ in range(quick_repeats if quick else repeats):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT.format(code=code)],
                                  cwd=scratch, env=child_env(), capture_output=True, text=True)
            process.append(time.perf_counter() - start)
            if done.returncode:
                results[label] = {"error": done.stderr.strip().splitlines()[-1:]}
                break
            s, m = done.stdout.split()[-2:]
            seconds.append(float(s))
            rss.append(float(m))
        else:
            results[label] = {"seconds_best": min(seconds), "seconds_all": seconds,
                              "process_seconds_best": min(process), "peak_rss_mb": max(rss)}
    return results


def _required_closure(names: list[str]) -> dict:
    """The installed distributions ``names`` and everything they require (no extras)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found, todo = {}, list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def _distribution_bytes(dist) -> int:
    total = sum(p.stat().st_size for p in (dist.locate_file(f) for f in dist.files or [])
                if p.is_file())
    if dist.metadata["Name"] == "glassnet":
        # An editable install records only a link; count the package's own files, with the
        # byte code of this interpreter as a regular install would have it.
        import importlib.util

        spec = importlib.util.find_spec("glassnet")
        tag = sys.implementation.cache_tag
        for root in spec.submodule_search_locations or []:
            for path in Path(root).rglob("*"):
                if path.is_file() and (path.parent.name != "__pycache__"
                                       or path.name.endswith(f".{tag}.pyc")):
                    total += path.stat().st_size
    return total


def installed_sizes() -> dict:
    try:
        import packaging.requirements  # noqa: F401 (comes with keras and pip's usual setups)
    except ImportError:
        return {}
    results = {}
    for label, names in SIZES.items():
        dists = _required_closure(names)
        if not dists:
            continue
        sizes = {name: _distribution_bytes(d) / 2**20 for name, d in dists.items()}
        results[label] = {"mb": sum(sizes.values()), "distributions": sizes}
    return results


# --- main -----------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and rows")
    parser.add_argument("--workloads", default=",".join(workloads.WORKLOADS),
                        help="comma-separated, e.g. W1,W3 (default: all)")
    parser.add_argument("--systems", default=",".join(SYSTEM_ORDER),
                        help=f"comma-separated from {','.join(SYSTEM_ORDER)} (default: all)")
    parser.add_argument("--repeats", type=int, help="timed runs per measurement (default: 5, "
                        "W4 3; --quick 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--threads", type=int,
                        help="BLAS/framework threads (default: NumPy's BLAS thread count)")
    parser.add_argument("--seed", type=int, default=0, help="data, weights and shuffling")
    parser.add_argument("--no-imports", action="store_true",
                        help="skip import time and installed size")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child")
    parser.add_argument("--docs", action="store_true",
                        help="also write the report to docs/benchmarks.md")
    parser.add_argument("--out", type=Path,
                        help="JSON path; the Markdown goes beside it (default "
                             "bench/results/<date>[-quick].json)")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = sorted(set(names) - set(SYSTEM_ORDER))
    if unknown:
        raise SystemExit(f"Unknown system(s) {unknown}; choose from {SYSTEM_ORDER}")
    systems = [s for s in SYSTEM_ORDER if s in names]
    chosen = workloads.select([w.strip() for w in args.workloads.split(",") if w.strip()],
                              args.quick, args.repeats)
    threads = args.threads or max(i["num_threads"] for i in blas_info()
                                  if i["user_api"] == "blas")
    now = dt.datetime.now().astimezone()
    results = {
        "date": now.isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": threads,
                    "blas": blas_info(), "platform": platform.platform(),
                    "load_average_start": os.getloadavg()},
        "versions": {**versions(), "glassnet_git": git_revision()},
        "settings": {"warmup": args.warmup, "seed": args.seed, "systems": systems},
        "workloads": {},
    }
    scratch = Path(tempfile.mkdtemp(prefix="glassnet-bench-"))
    started = time.perf_counter()
    cpu_start = cpu_seconds()
    try:
        if any(w.name == "W4" for w in chosen):
            log("sgemm peak ...")
            n, tries = (2048, 5) if args.quick else (4096, 5)
            results["sgemm"] = {"n": n, "tries": tries}
            for library in ["numpy"] + (["torch"] if "pytorch" in systems else []):
                peak = run_worker({"job": "sgemm", "library": library, "n": n, "tries": tries,
                                   "threads": threads}, scratch, args.timeout)
                results["sgemm"][f"{library}_gflops"] = peak.get("gflops")
                if "error" in peak:
                    results["sgemm"][f"{library}_error"] = peak["error"]
        for w in chosen:
            log(f"{w.name}: {w.describe()}")
            folder = workloads.save(w, args.seed, scratch)
            entry = {"spec": w.to_dict(), "description": w.describe(), "systems": {}}
            if w.kind == "train":
                data, weights = workloads.load(folder)
                start = workloads.reference_forward(weights, data["x"], w.loss)
                entry["initial_loss"] = workloads.training_loss(w.loss, start, data["y"])
                entry["steps_per_epoch"] = w.steps_per_epoch
                del data, weights, start
            for system in systems:
                begin = time.perf_counter()
                job = {"job": "system", "system": system, "workload": w.to_dict(),
                       "data": str(folder), "threads": threads, "seed": args.seed,
                       "warmup": args.warmup}
                result = run_worker(job, scratch, args.timeout)
                entry["systems"][system] = result
                log(f"  {system:9s} {report.one_line(w, result)}  "
                    f"({time.perf_counter() - begin:.0f} s)")
            shutil.rmtree(folder)
            results["workloads"][w.name] = entry
        if not args.no_imports:
            log("import times ...")
            results["imports"] = measure_imports(args.quick, scratch)
            results["installed"] = installed_sizes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["machine"]["load_average_end"] = os.getloadavg()
    results["wall_seconds"] = time.perf_counter() - started
    cpu_end = cpu_seconds()
    others = (cpu_end[0] - cpu_start[0]) - (cpu_end[1] - cpu_start[1])
    results["machine"]["other_processes_cores"] = max(others, 0.0) / results["wall_seconds"]

    markdown = report.markdown(results)
    print(markdown)
    out = args.out or HERE / "results" / (now.strftime("%Y-%m-%d_%H%M")
                                          + ("-quick" if args.quick else "") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=_json_default) + "\n")
    out.with_suffix(".md").write_text(markdown)
    log(f"saved {out} and {out.with_suffix('.md')}")
    if args.docs:
        docs = HERE.parent / "docs" / "benchmarks.md"
        saved = out.resolve()
        with contextlib.suppress(ValueError):
            saved = saved.relative_to(HERE.parent)
        latest = markdown.replace("## glassnet benchmark", "## Latest run", 1)
        docs.write_text(DOCS_INTRO.format(json=saved) + latest)
        log(f"saved {docs}")


DOCS_INTRO = """# Benchmarks

glassnet against a hand-written PyTorch loop, Keras 3 `fit` on TensorFlow, scikit-learn's MLP
and a bare NumPy MLP (the reference), on the workloads of issue 7. How it is measured and how
to read it: [`bench/README.md`](../bench/README.md). Produced by `python bench/run.py --docs`;
every number of this run is in `{json}`.

"""


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot save {type(value).__name__} in JSON")


if __name__ == "__main__":
    main()
