"""Programs that the reliability tests run in separate processes, so that they can be killed.

Each subcommand prints one JSON object on stdout::

    python tests/reliability/reliability_processes.py kill-saves FOLDER --kills 200
    python tests/reliability/reliability_processes.py train OUT.npz [--checkpoint PATTERN]
        [--die-in-epoch K --die-after-batch B]
    python tests/reliability/reliability_processes.py resume CHECKPOINT OUT.npz --initial-epoch K

``kill-saves`` forks a child that saves two different models in turn to ``model.keras`` and
``model.h5`` as fast as it can, kills it with SIGKILL after a random 5-100 ms, checks that
both files load and equal one of the two complete models, and repeats. ``train`` and
``resume`` run the same seeded training (Dropout, Adam, shuffling) as a whole, with a
checkpoint per epoch and an optional SIGKILL in the middle of an epoch, or from a
checkpoint onwards; they write the final weights and optimizer state to an ``.npz``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

import numpy as np

#: How a temporary file of ``glassnet.saving.atomic`` is named: ``.<name>.<12 hex>.tmp``.
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
        model = Sequential([Input(shape=(64,)), Dense(256, activation="relu"), Dropout(0.2),
                            Dense(256, activation="relu"), Dense(10, activation="softmax")])
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


def kill_saves(folder: Path, kills: int, seed: int, min_ms: float, max_ms: float) -> dict:
    """Kills a saving process ``kills`` times and checks the files after each kill.

    Returns:
        Counts: ``kills``; ``loads`` (file loads checked); ``as_a``/``as_b`` (loads equal
        to each model); ``corrupt`` (loads that failed or matched neither model, with
        the first messages in ``problems``); ``temp_files`` (temporary files left by
        kills during a save) and ``other_files`` (anything else in the folder).
    """
    from glassnet.models import load_model
    from glassnet.saving import isolation

    isolation.ENABLED = False  # these files are checked for content; rehearsals add nothing
    models = _saving_models()
    states = [model_state(m) for m in models]
    paths = [folder / "model.keras", folder / "model.h5"]
    for path in paths:
        models[0].save(path)
    rng = random.Random(seed)
    counts = {"kills": 0, "loads": 0, "as_a": 0, "as_b": 0, "corrupt": 0, "problems": []}
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:  # the saver: A and B in turn, to both files, until killed
            i = 0
            while True:
                models[i % 2].save(paths[(i // 2) % 2])
                i += 1
        time.sleep(rng.uniform(min_ms, max_ms) / 1000)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        counts["kills"] += 1
        for path in paths:
            counts["loads"] += 1
            try:
                state = model_state(load_model(path))
            except Exception as error:  # any failure to load is a corrupt file
                counts["corrupt"] += 1
                counts["problems"].append(f"{path.name}: {type(error).__name__}: {error}")
                continue
            if _same(state, states[0]):
                counts["as_a"] += 1
            elif _same(state, states[1]):
                counts["as_b"] += 1
            else:
                counts["corrupt"] += 1
                counts["problems"].append(f"{path.name}: loads, but equals neither model")
    names = sorted(p.name for p in folder.iterdir())
    counts["temp_files"] = [n for n in names if TEMP_FILE.match(n)]
    counts["other_files"] = [n for n in names if not TEMP_FILE.match(n)
                             and n not in ("model.keras", "model.h5")]
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

    model = Sequential([Input(shape=(8,)), Dense(32, activation="relu"), Dropout(0.3),
                        Dense(16, activation="tanh"), Dropout(0.2),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _save_state(model, out: Path) -> None:
    np.savez(out, *model_state(model))


def train(out: Path, checkpoint: str | None, die_in_epoch: int | None,
          die_after_batch: int) -> dict:
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

        callbacks.append(LambdaCallback(
            on_epoch_begin=lambda epoch, logs: current.update(epoch=epoch),
            on_train_batch_end=die))
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
    history = model.fit(x, y, epochs=EPOCHS, initial_epoch=initial_epoch, batch_size=32,
                        verbose=0)
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
    kill.add_argument("--min-ms", type=float, default=5.0)
    kill.add_argument("--max-ms", type=float, default=100.0)
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
        result = kill_saves(args.folder, args.kills, args.seed, args.min_ms, args.max_ms)
    elif args.command == "train":
        result = train(args.out, args.checkpoint, args.die_in_epoch, args.die_after_batch)
    else:
        result = resume(args.checkpoint, args.out, args.initial_epoch)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
