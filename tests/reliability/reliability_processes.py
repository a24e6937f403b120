"""Programs that the reliability tests run in separate processes, so that they can be killed.

Each subcommand prints one JSON object on stdout::

    python tests/reliability/reliability_processes.py kill-saves FOLDER --kills 200
    python tests/reliability/reliability_processes.py train OUT.npz [--checkpoint PATTERN]
        [--die-in-epoch K --die-after-batch B]
    python tests/reliability/reliability_processes.py resume CHECKPOINT OUT.npz --initial-epoch K

``kill-saves`` forks a child that saves two different models in turn to ``model.keras`` and
``model.h5``, reporting each point a save reaches (temporary file opened, partly written,
complete, about to be renamed, renamed, ...) and waiting there for a go-ahead; the parent
kills it with SIGKILL at a chosen point, checks that both files load and equal the model
of the last save that was renamed into place, and repeats. ``train`` and
``resume`` run the same seeded training (Dropout, Adam, shuffling) as a whole, with a
checkpoint per epoch and an optional SIGKILL in the middle of an epoch, or from a
checkpoint onwards; they write the final weights and optimizer state to an ``.npz``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import signal
import sys
from pathlib import Path

import numpy as np

#: How a temporary file of ``glassnet.saving.files`` is named: ``.<name>.<12 hex>.tmp``.
TEMP_FILE = re.compile(r"^\.(?P<target>.+)\.[0-9a-f]{12}\.tmp$")
EPOCHS = 6
SEED = 1234


# --- saving under SIGKILL -------------------------------------------------------------------


def _saving_models():
    """Two models of one architecture (about 100k weights) with different weights and
    optimizer states."""
    from glassnet.layers import Dense, Dropout, Input
    from glassnet.models import Sequential
    from glassnet.utils import set_random_seed

    set_random_seed(7)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(256, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 256)]
    models = []
    for epochs in (1, 2):
        model = Sequential(
            [
                Input(shape=(64,)),
                Dense(256, activation="relu"),
                Dropout(0.2),
                Dense(256, activation="relu"),
                Dense(10, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
        models.append(model)
    return models


def model_state(model) -> list[np.ndarray]:
    """Everything a complete model file restores: weights, optimizer step and slots."""
    state = [np.asarray(w) for w in model.get_weights()]
    optimizer = model.optimizer
    state.append(np.asarray(optimizer.iterations))
    state += [np.asarray(optimizer.slots[name]) for name in sorted(optimizer.slots)]
    return state


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


#: Where a saving process is killed, in the order a save reaches them. A ``.keras`` save
#: first builds its weights file in memory (``prepare``, before each HDF5 dataset); then
#: the temporary file beside the target is ``opened`` (created, empty), gets a ``write``
#: before each zip member or HDF5 dataset (partly written), reaches ``closing`` (every byte
#: of data written, not yet the zip's directory or HDF5's metadata: a truncated file) and
#: ``fsync`` (complete, not yet flushed to disk), and ``rename`` comes just before
#: ``os.replace``; ``renamed`` is just after it (before the folder is synced) and ``saved``
#: after the save has returned.
SAVE_POINTS = ("prepare", "opened", "write", "closing", "fsync", "rename", "renamed", "saved")
#: The points at which the temporary file exists and the target still holds the old file.
TEMP_POINTS = frozenset({"opened", "write", "closing", "fsync", "rename"})
#: The files the saver writes, in turn: save ``i`` writes model ``(i // 2) % 2`` to
#: ``FILES[i % 2]``, so each file alternates between the two models.
FILES = ("model.keras", "model.h5")


def _saver(models, paths, first: int, last: int | None, events: int, go: int) -> None:
    """The forked saving process: saves ``first``, ``first + 1``, ... (up to ``last``).

    At every point of ``SAVE_POINTS`` it writes ``"<save> <point>"`` to ``events`` and
    waits for a byte on ``go``, so the parent kills it exactly there. The points are
    reached through wrappers around the functions a save calls, installed here, in the
    child only.
    """
    import contextlib
    import zipfile

    import h5py

    from glassnet.saving import files, keras_format, legacy_h5

    current = {"save": first, "tmp": None}

    def point(name: str) -> None:
        os.write(events, f"{current['save']} {name}\n".encode())
        if os.read(go, 1) != b"g":  # the parent has gone
            os._exit(3)

    real_atomic_write = files.atomic_write

    @contextlib.contextmanager
    def watched_atomic_write(path):
        with real_atomic_write(path) as tmp:
            current["tmp"] = tmp
            point("opened")
            yield tmp
        current["tmp"] = None

    def before(name: str, function, is_open=lambda obj: True):
        def wrapper(*args, **kwargs):
            if is_open(args[0]):  # a second close (ZipFile.__del__ has one) is no point
                point(name if current["tmp"] else "prepare")
            return function(*args, **kwargs)

        return wrapper

    keras_format.atomic_write = legacy_h5.atomic_write = watched_atomic_write
    h5py.Group.create_dataset = before("write", h5py.Group.create_dataset)
    zipfile.ZipFile.writestr = before("write", zipfile.ZipFile.writestr)
    h5py.File.close = before("closing", h5py.File.close, lambda f: bool(f.id))
    zipfile.ZipFile.close = before("closing", zipfile.ZipFile.close, lambda f: f.fp is not None)
    files._fsync_file = before("fsync", files._fsync_file)
    files.os.replace = before("rename", os.replace)  # the child's os module only
    files._fsync_folder = before("renamed", files._fsync_folder)
    i = first
    while last is None or i < last:
        current["save"] = i
        models[(i // 2) % 2].save(paths[i % 2])
        point("saved")
        i += 1


def _run_saver(
    models, paths, first: int, last: int | None, kill_at: tuple[int, str, int] | None
) -> list[tuple[int, str]]:
    """Forks ``_saver`` and follows its points; kills it with SIGKILL at ``kill_at``
    (save, point, occurrence of that point in that save, from 0), or lets it finish.

    Returns:
        The points it reached, ``(save, point)``, the last one where it was killed.
    """
    events_r, events_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child is killed or leaves with os._exit
        code = 0
        try:
            os.close(events_r)
            os.close(go_w)
            _saver(models, paths, first, last, events_w, go_r)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 2
        finally:
            os._exit(code)
    os.close(events_w)
    os.close(go_r)
    seen: list[tuple[int, str]] = []
    killed = False
    with os.fdopen(events_r, "rb") as reader:
        for line in reader:
            save, name = line.decode().split()
            seen.append((int(save), name))
            if kill_at is not None and kill_at == (int(save), name, seen.count(seen[-1]) - 1):
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            os.write(go_w, b"g")
    os.close(go_w)
    _, status = os.waitpid(pid, 0)
    if killed:
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    else:
        assert kill_at is None, f"the saver never reached {kill_at}; it reached {seen[-3:]}"
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    return seen


def kill_saves(folder: Path, kills: int, seed: int) -> dict:
    """Kills a saving process ``kills`` times, each time at a chosen point of a save, and
    checks the files after each kill.

    First one saving process runs four saves to the end (every file format and model once)
    and reports the points of each; then each kill picks a file, one of the points its save
    reaches (each point equally likely, then one of its occurrences), and lets a new saving
    process run, from the first save not yet done, until that point of the next save to
    that file. Nothing depends on timing: the same seed kills at the same points.

    Returns:
        Counts: ``kills``; ``loads`` (file loads checked); ``as_expected`` (loads equal to
        the model of the last save that reached ``os.replace`` for that file),
        ``as_a``/``as_b`` (loads equal to each model); ``corrupt`` (loads that failed or
        did not match, with the first messages in ``problems``, along with any kill that
        left other temporary files than expected); ``points`` (kills per ``file:point``)
        and ``points_missed`` (points a save reaches that no kill hit);
        ``kills_inside_saves`` (kills while a temporary file existed), ``temp_files``
        (the temporary files left, one for each of those kills), ``partial_temp_files``
        (how many of them were cut short: longer than nothing, shorter than a complete
        file) and ``other_files`` (anything else in the folder).
    """
    from glassnet.models import load_model
    from glassnet.saving import files

    files.ENABLED = False  # these files are checked for content; rehearsals add nothing
    models = _saving_models()
    states = [model_state(m) for m in models]
    paths = [folder / name for name in FILES]
    for path in paths:
        models[0].save(path)
    holds = {path: 0 for path in paths}  # which model each file must hold

    def follow(seen):
        for save, name in seen:
            if name == "renamed":  # os.replace has put save's file in place
                holds[paths[save % 2]] = (save // 2) % 2

    dry_run = _run_saver(models, paths, 0, 4, None)
    follow(dry_run)
    # Saves 0 and 1 are the first to each file; every save to a file reaches the same points.
    occurrences = [
        collections.Counter(name for save, name in dry_run if save == f) for f in range(len(FILES))
    ]
    next_save = 4
    rng = random.Random(seed)
    counts = {
        "kills": 0,
        "loads": 0,
        "as_expected": 0,
        "as_a": 0,
        "as_b": 0,
        "corrupt": 0,
        "problems": [],
        "points": collections.Counter(),
        "kills_inside_saves": 0,
        "partial_temp_files": 0,
    }
    for _ in range(kills):
        file = rng.randrange(len(FILES))
        target = next_save if next_save % 2 == file else next_save + 1
        name = rng.choice(sorted(occurrences[file]))
        occurrence = rng.randrange(occurrences[file][name])
        before = {p.name for p in folder.iterdir()}
        complete_size = paths[file].stat().st_size
        seen = _run_saver(models, paths, next_save, target + 1, (target, name, occurrence))
        follow(seen)
        next_save = max([next_save] + [s + 1 for s, n in seen if n == "renamed"])
        counts["kills"] += 1
        counts["points"][f"{FILES[file]}:{name}"] += 1
        new = sorted({p.name for p in folder.iterdir()} - before)
        expected_temp = name in TEMP_POINTS
        counts["kills_inside_saves"] += expected_temp
        if [
            bool(TEMP_FILE.match(n)) and TEMP_FILE.match(n)["target"] == FILES[file] for n in new
        ] != [True] * expected_temp:
            counts["problems"].append(f"killed at {FILES[file]}:{name}, new files {new}")
        elif expected_temp and 0 < (folder / new[0]).stat().st_size < complete_size:
            counts["partial_temp_files"] += 1
        for path in paths:
            counts["loads"] += 1
            try:
                state = model_state(load_model(path))
            except Exception as error:  # any failure to load is a corrupt file
                counts["corrupt"] += 1
                counts["problems"].append(f"{path.name}: {type(error).__name__}: {error}")
                continue
            same = [_same(state, s) for s in states]
            counts["as_a"] += same[0]
            counts["as_b"] += same[1]
            if same[holds[path]]:
                counts["as_expected"] += 1
            else:
                counts["corrupt"] += 1
                counts["problems"].append(
                    f"{path.name} after a kill at {FILES[file]}:{name}: equals "
                    f"{'model A' if same[0] else 'model B' if same[1] else 'neither model'}, "
                    f"not model {'AB'[holds[path]]}"
                )
    names = sorted(p.name for p in folder.iterdir())
    counts["temp_files"] = [n for n in names if TEMP_FILE.match(n)]
    counts["other_files"] = [n for n in names if not TEMP_FILE.match(n) and n not in FILES]
    counts["points_missed"] = sorted(
        f"{FILES[f]}:{n}"
        for f in range(len(FILES))
        for n in occurrences[f]
        if not counts["points"][f"{FILES[f]}:{n}"]
    )
    counts["problems"] = counts["problems"][:10]
    return counts


# --- training, killed and resumed -----------------------------------------------------------


def training_data() -> tuple[np.ndarray, np.ndarray]:
    """A fixed classification problem (400 rows, 8 features, 3 classes)."""
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(400, 8)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.argmax(x[:, :3] + 0.3 * rng.normal(size=(400, 3)), 1)]
    return x, y


def training_model():
    """Dropout twice, Adam, a softmax output: every kind of state a resume must restore."""
    from glassnet.layers import Dense, Dropout, Input
    from glassnet.models import Sequential

    model = Sequential(
        [
            Input(shape=(8,)),
            Dense(32, activation="relu"),
            Dropout(0.3),
            Dense(16, activation="tanh"),
            Dropout(0.2),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _save_state(model, out: Path) -> None:
    np.savez(out, *model_state(model))


def train(
    out: Path, checkpoint: str | None, die_in_epoch: int | None, die_after_batch: int
) -> dict:
    """Seeded training for ``EPOCHS`` epochs; SIGKILLs itself mid-epoch when asked."""
    from glassnet.callbacks import LambdaCallback, ModelCheckpoint
    from glassnet.utils import set_random_seed

    set_random_seed(SEED)
    x, y = training_data()
    model = training_model()
    callbacks = []
    if checkpoint:
        callbacks.append(ModelCheckpoint(checkpoint))
    if die_in_epoch is not None:
        current = {"epoch": -1}

        def die(batch, logs):
            if current["epoch"] == die_in_epoch and batch == die_after_batch:
                os.kill(os.getpid(), signal.SIGKILL)

        callbacks.append(
            LambdaCallback(
                on_epoch_begin=lambda epoch, logs: current.update(epoch=epoch),
                on_train_batch_end=die,
            )
        )
    history = model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0, callbacks=callbacks)
    _save_state(model, out)
    return {"loss": history.history["loss"]}


def resume(checkpoint: Path, out: Path, initial_epoch: int) -> dict:
    """Loads a checkpoint and trains on to ``EPOCHS``, in a fresh process."""
    from glassnet.models import load_model
    from glassnet.utils import set_random_seed

    set_random_seed(999)  # the global seed must not matter: the file carries the state
    x, y = training_data()
    model = load_model(checkpoint)
    history = model.fit(x, y, epochs=EPOCHS, initial_epoch=initial_epoch, batch_size=32, verbose=0)
    _save_state(model, out)
    return {"loss": history.history["loss"]}


def main(argv: list[str] | None = None) -> int:
    """Runs one subcommand and prints its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    kill = commands.add_parser("kill-saves")
    kill.add_argument("folder", type=Path)
    kill.add_argument("--kills", type=int, default=200)
    kill.add_argument("--seed", type=int, default=0)
    run = commands.add_parser("train")
    run.add_argument("out", type=Path)
    run.add_argument("--checkpoint")
    run.add_argument("--die-in-epoch", type=int)
    run.add_argument("--die-after-batch", type=int, default=3)
    again = commands.add_parser("resume")
    again.add_argument("checkpoint", type=Path)
    again.add_argument("out", type=Path)
    again.add_argument("--initial-epoch", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "kill-saves":
        result = kill_saves(args.folder, args.kills, args.seed)
    elif args.command == "train":
        result = train(args.out, args.checkpoint, args.die_in_epoch, args.die_after_batch)
    else:
        result = resume(args.checkpoint, args.out, args.initial_epoch)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
