"""Fuzzing the model-file readers (issue 9): every mutated file loads or is refused with
ModelFileError; nothing crashes, hangs, blows up memory or runs code.

The fuzz driver is ``fuzz_model_files.py`` beside this file; here it runs a few hundred
cases (``GLASSNET_FUZZ_CASES`` sets how many), and the regressions it found are kept as
plain tests.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import fuzz_model_files as fuzz
import h5py
import numpy as np
import pytest

from glassnet.layers import Dense, Input
from glassnet.models import Sequential, load_model, model_from_json
from glassnet.saving import ModelFileError, files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
CI_CASES = int(os.environ.get("GLASSNET_FUZZ_CASES", "300"))


def test_fuzz_model_files(tmp_path):
    """A few hundred hypothesis cases; a failure is shrunk and shown with its file."""
    fuzzer = fuzz.Fuzzer(tmp_path)
    started = time.monotonic()
    fuzzer.run(
        CI_CASES, seed=int(os.environ.get("GLASSNET_FUZZ_SEED", "0")), keep_going=False, shrink=True
    )
    print(fuzzer.summary(time.monotonic() - started))
    assert fuzzer.count >= CI_CASES
    assert not fuzzer.failures
    # Both answers occur, so the cases are neither all trivially broken nor all harmless.
    assert fuzzer.outcomes["loaded"] > CI_CASES // 10
    assert fuzzer.outcomes["refused"] > CI_CASES // 10


# --- the fuzzer's detectors can fire ----------------------------------------------------------


def test_planted_payloads_are_live(tmp_path):
    """The marker module, the pickle and the marshalled bytecode the fuzzer plants would
    create the marker file if anything ran them, so a reader that did would be caught."""
    marker = tmp_path / "CODE_WAS_EXECUTED"
    fuzz.plant_marker_module(tmp_path, marker)
    bytecode = fuzz.lambda_bytecode()
    programs = [
        f"import {fuzz.MARKER_MODULE}",
        f"import pickle; pickle.loads({fuzz.PICKLE_PAYLOAD!r})",
        f"import base64, marshal; eval(marshal.loads(base64.b64decode({bytecode!r})))",
    ]
    for program in programs:
        marker.unlink(missing_ok=True)
        subprocess.run(
            [sys.executable, "-c", program],
            cwd=tmp_path,
            check=True,
            env=dict(os.environ, PYTHONPATH=str(tmp_path)),
        )
        assert marker.exists(), program


def test_the_worker_reports_crashes_hangs_and_foreign_errors(tmp_path):
    """A reader that dies, loops, waits forever or raises another error type is reported
    as a failure. A loop is stopped by the kernel after its CPU time, not by a clock, so
    the answer does not depend on how busy the machine is; the clock (``DEADLOCK_S``)
    only catches a reader that waits without computing."""
    fuzz.plant_marker_module(tmp_path, tmp_path / "CODE_WAS_EXECUTED")
    worker = fuzz.Worker(tmp_path, warmup=[])
    guard = fuzz.DEADLOCK_S
    try:
        crash = worker.run({"path": "-", "reader": "crash", "arch": "-"}, guard)
        assert crash["outcome"] == "crash" and "SIGSEGV" in crash["message"]
        spin = worker.run({"path": "-", "reader": "spin", "arch": "-", "cpu_s": 1}, guard)
        assert spin["outcome"] == "hang"
        assert spin["message"] == "used more than 1 s of CPU time"  # not the guard's
        # Sleeping uses no CPU time: only the guard ends it (shortened here, since an
        # hour's sleep cannot answer sooner however slow the machine).
        hang = worker.run({"path": "-", "reader": "hang", "arch": "-", "cpu_s": 1}, 2.0)
        assert hang["outcome"] == "hang" and hang["message"] == "no answer within 2.0 s"
        other = worker.run(
            {
                "path": str(tmp_path / "nothing.txt"),
                "reader": "model_from_json",
                "arch": "-",
                "cpu_s": 1,
            },
            guard,
        )
        assert other["outcome"] == "error" and other["type"] == "FileNotFoundError"
        code = worker.run({"path": "-", "reader": "import_marker", "arch": "-"}, guard)
        assert any(fuzz.MARKER_MODULE in event for event in code["events"])
        assert (tmp_path / "CODE_WAS_EXECUTED").exists()
        assert worker.starts == 4  # restarted after the crash, the loop and the sleep
    finally:
        worker.stop()


# --- regressions the fuzzer found ------------------------------------------------------------


def _flip(source: Path, target: Path, flips: dict[int, int]) -> Path:
    data = bytearray(source.read_bytes())
    for offset, mask in flips.items():
        data[offset] ^= mask
    target.write_bytes(bytes(data))
    return target


def test_a_file_that_crashes_the_hdf5_library_is_refused(tmp_path):
    """One flipped bit in a real .h5 file makes HDF5 1.14.6 crash with SIGSEGV when h5py
    reads an attribute. glassnet reads the file first in a forked copy of itself
    (``glassnet.saving.files``), so the crash becomes a ModelFileError."""
    path = _flip(FIXTURES / "own" / "own_k2_legacy_rmsprop.h5", tmp_path / "flipped.h5", {12489: 4})
    with pytest.raises(ModelFileError, match="flipped.h5"):
        load_model(path)
    # Without the rehearsal the same load kills the process (with this HDF5 version).
    program = (
        "import glassnet.saving.files as i; i.ENABLED = False\n"
        "from glassnet.models import load_model\n"
        f"load_model({str(path)!r})"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True)
    if result.returncode >= 0:
        pytest.skip(f"this HDF5 ({h5py.version.hdf5_version}) does not crash on the file")
    assert result.returncode == -11  # SIGSEGV


def test_a_file_on_which_the_hdf5_library_loops_is_refused_in_time(tmp_path, monkeypatch):
    """Zeroed bytes in a real .h5 file make HDF5 1.14.6 loop forever reading an attribute;
    the rehearsal's time limit turns that into a ModelFileError. The message names the
    limit that ended it (2 s here, not the default 60 s); other HDF5 versions may refuse
    the file for another reason, which passes too."""
    data = bytearray((FIXTURES / "own" / "own_every_activation.h5").read_bytes())
    data[13837:15900] = bytes(15900 - 13837)
    path = tmp_path / "zeroed.h5"
    path.write_bytes(bytes(data))
    monkeypatch.setattr(files, "TIMEOUT_S", 2.0)
    with pytest.raises(ModelFileError, match="zeroed.h5") as refused:
        load_model(path, compile=False)
    if "loops" in str(refused.value):
        assert "could not be read within 2 s" in str(refused.value)


def _peak_resident_growth(call) -> int:
    """How much the peak resident memory of this process grows during ``call()`` (Linux)."""
    before = fuzz._reset_peak_resident()
    call()
    return fuzz._peak_resident() - before


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_string_that_claims_gigabytes_is_refused_without_taking_them(tmp_path):
    """atheris found a 25 kB .h5 file on which reading the ``training_config`` attribute
    makes HDF5 allocate and fill about 4 GB before it fails. The same happens when the
    length of that variable-length string (4 bytes in the file) says 4 GB. The rehearsal
    runs under a memory limit, so the file is refused and this process stays small."""
    source = FIXTURES / "k3_relu_softmax.h5"
    data = bytearray(source.read_bytes())
    with h5py.File(source) as f:
        length = len(f.attrs["training_config"])
    heap = data.index(b"GCOL")  # the global heap holding the strings
    descriptor = data.index(struct.pack("<IQI", length, heap, 4))  # length, heap, object
    data[descriptor : descriptor + 4] = struct.pack("<I", 0xF0000000)
    path = tmp_path / "claims_4gb.h5"
    path.write_bytes(bytes(data))

    def load():
        with pytest.raises(ModelFileError, match="claims_4gb.h5"):
            load_model(path)

    assert _peak_resident_growth(load) < 256 * 2**20


def test_a_weight_stored_in_a_huge_chunk_is_refused(tmp_path):
    """HDF5 allocates a whole chunk to read any part of it: a 4 x 3 kernel stored in a
    chunk declared 128 MiB would cost 128 MiB. Found while reading h5io for the fuzzer."""
    model = Sequential([Input(shape=(3,)), Dense(4)])
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        layer = f["model_weights"][model.layers[0].name]
        name = [n.decode() if isinstance(n, bytes) else n for n in layer.attrs["weight_names"]][0]
        kernel = layer[name][()]
        del layer[name]
        layer.create_dataset(
            name, data=kernel, maxshape=(None, 4), chunks=(2**23, 4), compression="gzip"
        )
    with pytest.raises(
        ModelFileError,
        match=r"stored in chunks of 134,217,728 bytes for 48 "
        "bytes of data",
    ):
        load_model(tmp_path / "m.h5")


def test_a_rehearsed_file_is_not_rehearsed_again_unless_it_changes(tmp_path, monkeypatch):
    model = Sequential([Input(shape=(3,)), Dense(2)])
    model.save(tmp_path / "m.h5")
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    load_model(tmp_path / "m.h5")
    assert forks == []  # written by this process: nothing to rehearse
    copy = tmp_path / "copy.h5"
    copy.write_bytes((tmp_path / "m.h5").read_bytes())
    load_model(copy)
    load_model(copy)
    assert len(forks) == 1
    copy.write_bytes((tmp_path / "m.h5").read_bytes())
    # A new modification time, whatever the file system's clock resolution.
    before = copy.stat().st_mtime_ns
    os.utime(copy, ns=(before, before + 10**9))
    load_model(copy)
    assert len(forks) == 2


def _keras_with_config(tmp_path: Path, edit) -> Path:
    model = Sequential([Input(shape=(3,)), Dense(2)])
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    description = json.loads(members["config.json"])
    edit(next(e for e in description["config"]["layers"] if e["class_name"] == "Dense"))
    members["config.json"] = json.dumps(description).encode()
    with zipfile.ZipFile(tmp_path / "edited.keras", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return tmp_path / "edited.keras"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda e: e.update(module=["keras"]), r"names the module \['keras'\]"),
        (
            lambda e: e["config"].update(dtype={"class_name": "DTypePolicy", "config": [1]}),
            "unreadable dtype",
        ),
    ],
)
def test_config_values_of_the_wrong_json_type_are_refused(tmp_path, edit, match):
    with pytest.raises(ModelFileError, match=match):
        load_model(_keras_with_config(tmp_path, edit))


@pytest.mark.parametrize(
    ("initializer", "outcome"),
    [
        (["GlorotUniform"], "replaced"),  # a list where an object or a name belongs
        ({"class_name": "GlorotUniform", "config": {"seed": {"a": 1}}}, "refused"),
        ({"class_name": "RandomNormal", "config": {"stddev": "wide"}}, "refused"),
    ],
)
def test_unusable_initializers_are_replaced_or_refused(tmp_path, initializer, outcome):
    """Initializers only make fresh weights. One glassnet cannot read is replaced by the
    default with a warning; one whose settings fail only while building is refused."""
    path = _keras_with_config(
        tmp_path, lambda e: e["config"].update(kernel_initializer=initializer)
    )
    if outcome == "refused":
        with pytest.raises(ModelFileError, match="the model it describes cannot be built"):
            load_model(path)
        return
    with pytest.warns(UserWarning, match="is unknown to glassnet; using 'glorot_uniform'"):
        model = load_model(path)
    assert model.predict(np.zeros((1, 3)), verbose=0).shape == (1, 2)


def test_a_damaged_lzma_member_is_refused(tmp_path):
    model = Sequential([Input(shape=(3,)), Dense(2)])
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(tmp_path / "lzma.keras", "w", zipfile.ZIP_LZMA) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray((tmp_path / "lzma.keras").read_bytes())
    start = data.index(b"PK\x03\x04") + 30 + len("metadata.json") + 20
    data[start : start + 8] = b"\xff" * 8  # inside the first member's compressed stream
    (tmp_path / "lzma.keras").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="damaged, truncated or not a zip"):
        load_model(tmp_path / "lzma.keras")


def test_model_from_json_refuses_what_load_model_refuses():
    text = json.dumps(
        {
            "class_name": "Sequential",
            "config": {
                "layers": [
                    {"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}},
                    {"class_name": "Dense", "module": {"x": 1}, "config": {"units": 2}},
                ]
            },
        }
    )
    with pytest.raises(ModelFileError, match="names the module"):
        model_from_json(text)


def test_a_read_that_keeps_the_cpu_busy_is_refused_naming_the_bound(tmp_path, monkeypatch):
    """The rehearsal's CPU bound is the kernel's (RLIMIT_CPU, then SIGXCPU), so the
    refusal comes after that much CPU time however fast the machine is, and its message
    says which setting raises the bound for a trusted file."""
    if not files.ENABLED:
        pytest.skip("reads are rehearsed in a forked copy only where fork is safe (Linux)")
    monkeypatch.setattr(files, "CPU_SECONDS", 1.0)
    path = tmp_path / "spin.bin"
    path.write_bytes(b"x")

    def spin():
        while True:
            pass

    with pytest.raises(ModelFileError, match=r"took more than 1 s of CPU .*CPU_SECONDS"):
        files.rehearse(spin, str(path))
