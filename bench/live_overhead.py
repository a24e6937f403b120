"""What the live page costs training: W1 and W3 epochs with and without the page connected.

Trains glassnet's W1 and W3 networks (``workloads.py``, same data and starting weights as
``run.py``) with ``fit`` alone and with ``glassnet.callbacks.LiveView`` and a page connected
to it, alternating the two (alone then watched, watched then alone, ...) so that both see
the same machine, and reports the median epoch time of each and their ratio (issue 20's
target: within 5%), the median of the pairs' own ratios (each run's median epoch against
its neighbour's: steadier when the machine's speed drifts) and the ratio of the lower
quartiles of the epoch times (steadier when other jobs on the machine slow some epochs: they
can only slow, never speed, an epoch).

The page is a real headless Chromium (Playwright, ``--client browser``, the default when it
is installed) or a client reading the page's event stream (``--client events``). On a small
machine the browser's own drawing competes with training for the cores; ``events`` measures
what the server costs training alone. Training starts once the page has drawn the network
and then ``--settle`` seconds later (default 3, when a freshly started Chromium has done its
own start-up work): what is measured is a page open and connected, not the page loading.

Besides the epoch times, each watched run accounts for the CPU time of the page's server
thread (``/proc``, Linux) and of the client's processes (the browser's, with psutil), per
second of training: on a busy machine they are what the page takes from training.

    python bench/live_overhead.py                  # W1 (100 epochs) and W3 (2 epochs), 5 pairs
    python bench/live_overhead.py --quick          # shrunk as run.py --quick
    python bench/live_overhead.py --client events --repeats 7
    python bench/live_overhead.py --epochs W1=3000,W3=10   # longer runs: the page's steady state

With the workloads' own epochs (W1: 100 epochs of under a millisecond, W3: 2 epochs of under
half a second) a run is over before the page's first snapshot is due (one a second): what
is measured is a page open and connected while fit runs. ``--epochs`` makes the runs long
enough for the page to get snapshots and draw them several times during each.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads  # noqa: E402
from systems import Glassnet  # noqa: E402

from glassnet.callbacks import Callback, LiveView  # noqa: E402


class EpochTimes(Callback):
    """Seconds per epoch: wall-clock, the process's CPU time (all its threads: training,
    BLAS and the page's server), and the training thread's own CPU time (epoch hooks only:
    nothing is added to the batches). On a busy machine the CPU times are steadier than the
    wall-clock: they leave out the time other processes took the cores. The training
    thread's shows what the page costs the thread that runs ``fit`` (its hooks, the
    snapshots, waiting for nothing: a lock's wait is not CPU time)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, float, float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = (time.perf_counter(), time.process_time(), time.thread_time())

    def on_epoch_end(self, epoch, logs=None):
        wall, cpu, own = self._start
        self.times.append((time.perf_counter() - wall, time.process_time() - cpu,
                           time.thread_time() - own))


class EventsClient:
    """Reads the page's event stream in another process, as a connected page does."""

    READER = (
        "import sys, urllib.request\n"
        "n = 0\n"
        "for line in urllib.request.urlopen(sys.argv[1], timeout=60):\n"
        "    n += line.startswith(b'data:')\n"
        "    print(n, flush=True)\n"
    )

    def __init__(self, url: str) -> None:
        base, token = url.split("?token=")
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.READER, f"{base}events?token={token}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.process.stdout.readline()  # connected: the first event arrived

    def close(self) -> int:
        self.process.terminate()
        out, _ = self.process.communicate()
        lines = out.split()
        return 1 + (int(lines[-1]) if lines else 0)


class BrowserClient:
    """The page open in headless Chromium, driven by Playwright from a process of its own:
    as with a user's browser, nothing of the client runs in, or adds objects to, the
    training process."""

    DRIVER = (
        "import shutil, sys\n"
        "from playwright.sync_api import sync_playwright\n"
        "with sync_playwright() as p:\n"
        "    browser = p.chromium.launch(executable_path=shutil.which('chromium'),\n"
        "                                args=['--no-sandbox'])\n"
        "    page = browser.new_page()\n"
        "    page.goto(sys.argv[1])\n"
        "    page.wait_for_function('() => window.glassnetLive.status !== null')\n"
        "    # the network drawn: the page has loaded and shows the model\n"
        "    page.wait_for_function(\n"
        "        \"() => document.getElementById('network').dataset.version !== undefined\")\n"
        "    print('drawn', flush=True)\n"
        "    sys.stdin.readline()  # until training has ended\n"
        "    print(page.evaluate('() => window.glassnetLive.batchX.length'), flush=True)\n"
        "    browser.close()\n"
    )

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.DRIVER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if line.strip() != "drawn":
            raise SystemExit("the browser did not show the page")

    def close(self) -> int:
        out, _ = self.process.communicate("done\n", timeout=60)
        return int(out.split()[-1])


def children_cpu() -> float:
    """CPU seconds of this process's child processes (the browser's, or the reader's)."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def thread_cpu(native_id: int | None) -> float:
    """CPU seconds of one thread of this process (Linux's /proc), or NaN."""
    try:
        with open(f"/proc/self/task/{native_id}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median(times: list[tuple], k: int) -> float:
    return statistics.median(t[k] for t in times)


def quartile(times: list[tuple], k: int) -> float:
    """The lower quartile of the epochs' wall (``k=0``) or CPU (``k=1``) seconds."""
    return statistics.quantiles([t[k] for t in times], n=4)[0]


def run_once(
    w, data, weights, live: bool, client: str, threads: int, settle: float
) -> tuple[list, tuple, str]:
    system = Glassnet()
    system.setup(threads=threads, seed=0)
    system.build(w, weights)
    timer = EpochTimes()
    callbacks = [timer]
    note = ""
    page = None
    server = None
    if live:
        view = LiveView(data["x"], data["y"], open_browser=False)
        view.set_model(system.model)
        page = BrowserClient(view.url) if client == "browser" else EventsClient(view.url)
        time.sleep(settle)
        callbacks.insert(0, view)
        server = view.server._thread.native_id
    started = (time.perf_counter(), thread_cpu(server), children_cpu())
    system.model.fit(
        data["x"],
        data["y"],
        batch_size=w.batch_size,
        epochs=w.epochs,
        verbose=0,
        callbacks=callbacks,
    )
    ended = (time.perf_counter(), thread_cpu(server), children_cpu())
    seconds = ended[0] - started[0]
    shares = ((ended[1] - started[1]) / seconds, (ended[2] - started[2]) / seconds)
    if live:
        seen = page.close()
        note = f"{view.session.snapshot.version} snapshots, client saw {seen} batches"
        view.close()
    return timer.times, shares, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", default="W1,W3")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5, help="pairs of runs (default 5)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads (default 1: steadier on a shared machine)",
    )
    parser.add_argument(
        "--client",
        choices=("browser", "events"),
        default="browser" if shutil.which("chromium") else "events",
    )
    parser.add_argument(
        "--epochs",
        default="",
        help="epochs per run instead of the workload's, e.g. W1=3000,W3=10",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds between the page showing the network and fit starting (default 3)",
    )
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", file=sys.stderr)
    epochs = dict(part.split("=") for part in args.epochs.split(",") if part)
    print(
        f"| workload | epochs × pairs | median epoch, fit alone | with the page ({args.client}) "
        "| ratio | pairs' median ratio | ratio of totals | CPU (process): alone "
        "| with the page | ratio | ratio of CPU totals | server thread CPU | client CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for w in workloads.select(args.workloads.split(","), args.quick, args.repeats):
        if w.name in epochs:
            w = dataclasses.replace(w, epochs=int(epochs[w.name]))
        data = workloads.make_data(w, 0)
        weights = workloads.initial_weights(w, 0)
        alone, watched, shares, notes, pairs = [], [], [], [], []
        run_once(w, data, weights, False, args.client, args.threads, args.settle)  # warm-up
        for repeat in range(w.repeats):
            runs = {}
            for live in (False, True) if repeat % 2 == 0 else (True, False):
                runs[live] = run_once(
                    w, data, weights, live, args.client, args.threads, args.settle
                )
            alone += runs[False][0]
            watched += runs[True][0]
            shares.append(runs[True][1])
            notes.append(runs[True][2])
            pairs.append(
                [
                    statistics.median(t[k] for t in runs[True][0])
                    / statistics.median(t[k] for t in runs[False][0])
                    for k in (0, 1, 2)
                ]
            )
        a = statistics.median(t[0] for t in alone)
        b = statistics.median(t[0] for t in watched)
        ca = statistics.median(t[1] for t in alone)
        cb = statistics.median(t[1] for t in watched)
        server = statistics.median(s[0] for s in shares)
        client = statistics.median(s[1] for s in shares)
        paired = statistics.median(p[0] for p in pairs)
        totals = sum(t[0] for t in watched) / sum(t[0] for t in alone)
        cpu_totals = sum(t[1] for t in watched) / sum(t[1] for t in alone)
        # epochs whose wall-clock time exceeds their CPU time by 20 ms: the process was
        # stopped or left without a core meanwhile (other jobs); totals count them in full
        held = sum(t[0] - t[1] > 0.02 for t in alone + watched)
        print(
            f"| {w.name} | {w.epochs} × {w.repeats} | {a * 1000:.1f} ms | {b * 1000:.1f} ms "
            f"| {b / a:.3f} | {paired:.3f} | {totals:.3f} | {ca * 1000:.1f} ms "
            f"| {cb * 1000:.1f} ms | {cb / ca:.3f} | {cpu_totals:.3f} | {server:.1%} "
            f"| {client:.1%} |",
            flush=True,
        )
        print(
            f"  ({notes[-1]}; median of the pairs' ratios: wall "
            f"{statistics.median(p[0] for p in pairs):.3f}, CPU "
            f"{statistics.median(p[1] for p in pairs):.3f}; ratio of the lower quartiles: "
            f"wall {quartile(watched, 0) / quartile(alone, 0):.3f}, CPU "
            f"{quartile(watched, 1) / quartile(alone, 1):.3f}; the training thread's CPU: "
            f"median epochs {_median(watched, 2) / _median(alone, 2):.3f}, pairs' median "
            f"{statistics.median(p[2] for p in pairs):.3f}; {held} of "
            f"{len(alone) + len(watched)} epochs held up by other jobs)",
            file=sys.stderr,
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", file=sys.stderr)


if __name__ == "__main__":
    main()
