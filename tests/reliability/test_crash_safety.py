"""Crash safety (issue 9): a process killed with SIGKILL while saving never leaves a corrupt
model file; the file on disk is always the previous complete model or the new one.

The saving and killing happen in ``reliability_processes.py kill-saves``: a forked child
saves two models with different weights and optimizer states in turn to ``model.keras``
and ``model.h5``, and stops at every point of a save (temporary file created, before each
zip member or HDF5 dataset, before the file is closed, flushed, renamed, after the rename,
after the save) to report it and wait; the parent kills it at a chosen point. Both files
are then loaded and compared, bit for bit, with the model of the last save that got as
far as the rename. The kills land where they are aimed, however fast or slow the machine
is. Kills that land inside a save leave that save's temporary file behind (nothing can
remove it after SIGKILL); the test checks that each such kill left one, named as a
temporary file, that some are half-written, that loaders never see them, and that a later
save of the same file removes them (at most the last kill's remains for each file).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_processes import SAVE_POINTS, TEMP_FILE

from glassnet.layers import Dense, Input
from glassnet.models import Sequential, load_model
from glassnet.saving import files

HELPER = Path(__file__).resolve().parent / "reliability_processes.py"
KILLS = int(os.environ.get("GLASSNET_KILLS", "200"))

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")


def test_sigkill_during_saves_never_leaves_a_corrupt_file(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(HELPER), "kill-saves", str(tmp_path), "--kills", str(KILLS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result = json.loads(completed.stdout)
    print({**result, "temp_files": len(result["temp_files"])})
    assert result["kills"] == KILLS >= 200
    assert result["corrupt"] == 0, result["problems"]
    assert result["problems"] == []  # each kill left the temporary files it should have
    # Every file always held the model of the last save that reached os.replace.
    assert result["as_expected"] == result["loads"] == 2 * KILLS
    assert result["as_a"] > 0 and result["as_b"] > 0  # the saver did replace the files
    # Every point of both kinds of save was killed at least once ...
    assert result["points_missed"] == []
    assert {p.split(":")[1] for p in result["points"]} == set(SAVE_POINTS)
    # ... each kill inside a save left its temporary file, some of them half-written ...
    # A later save of the same file removes the temporary files of killed saves, so at most
    # the last kill inside a save of each file leaves one behind.
    assert result["kills_inside_saves"] > KILLS // 4
    assert len(result["temp_files"]) <= 2
    assert result["partial_temp_files"] > 0
    # ... and nothing else was left in the folder.
    assert result["other_files"] == []
    targets = {TEMP_FILE.match(name)["target"] for name in result["temp_files"]}
    assert targets <= {"model.keras", "model.h5"}
    load_model(tmp_path / "model.keras")  # the loaders read only the file they are given
    load_model(tmp_path / "model.h5")


def test_the_temporary_file_is_written_beside_the_target_and_renamed(tmp_path, monkeypatch):
    """What makes the kill test pass: the save goes to a temporary file in the same
    folder (so that the rename cannot cross file systems), which is renamed into place."""
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(
        files.os, "replace", lambda src, dst: renames.append((src, dst)) or real_replace(src, dst)
    )
    model = Sequential([Input(shape=(3,)), Dense(2)])
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    assert [Path(dst).name for _, dst in renames] == ["m.keras", "m.h5"]
    for src, dst in renames:
        assert Path(src).parent == Path(dst).parent
        assert atomic_temp_name(Path(src).name, Path(dst).name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5", "m.keras"]


def atomic_temp_name(name: str, target: str) -> bool:
    """Whether ``name`` is a temporary file of ``target`` as ``atomic_write`` names it."""
    match = TEMP_FILE.match(name)
    return bool(match) and match["target"] == target


def test_a_killed_save_leaves_the_previous_file(tmp_path):
    """One kill in the middle of a save, deterministically: the child stops inside the
    HDF5 write (SIGSTOP from a patched write), is killed, and the old file stays."""
    model = Sequential([Input(shape=(3,)), Dense(2)])
    model.save(tmp_path / "m.h5")
    before = [w.copy() for w in model.get_weights()]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed
        import h5py

        real_create = h5py.Group.create_dataset

        def stop_midway(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGSTOP)
            return real_create(self, *args, **kwargs)

        h5py.Group.create_dataset = stop_midway
        model.set_weights([w + 1 for w in before])
        model.save(tmp_path / "m.h5")
        os._exit(0)
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    temps = [p.name for p in tmp_path.iterdir() if p.name != "m.h5"]
    assert len(temps) == 1 and atomic_temp_name(temps[0], "m.h5")  # stopped inside the save
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    loaded = load_model(tmp_path / "m.h5")
    assert all((a == b).all() for a, b in zip(loaded.get_weights(), before, strict=True))


def test_a_later_save_removes_the_temporary_files_of_killed_saves(tmp_path):
    """A killed save's temporary file (no process holds its lock) goes at the next save of
    the same file; one a live save is writing (its lock held) stays, and so does any other
    file."""
    fcntl = pytest.importorskip("fcntl")  # POSIX: Windows keeps stale files
    model = Sequential([Input(shape=(3,)), Dense(2)])
    stale = tmp_path / ".m.keras.0123456789ab.tmp"
    stale.write_bytes(b"half a file")
    live = tmp_path / ".m.keras.ba9876543210.tmp"
    live.write_bytes(b"being written")
    other = tmp_path / ".other.keras.0123456789ab.tmp"
    other.write_bytes(b"another target's")
    with open(live, "rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # as the writer of a live save does
        model.save(tmp_path / "m.keras")
        assert not stale.exists()
        assert live.exists() and other.exists()
    model.save(tmp_path / "m.keras")  # its writer is gone now
    assert not live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "m.keras"]
