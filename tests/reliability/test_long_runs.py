"""Long runs (issue 9): training that overflows stops at the step where it happens, naming
the epoch, batch and layer, with the weights from before that step; and a run killed in
the middle of an epoch resumes from its last ``ModelCheckpoint`` to exactly the weights
of an uninterrupted run, in new processes, Dropout and Adam included.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.callbacks import LambdaCallback, TerminateOnNaN
from glassnet.layers import Dense, Input
from glassnet.models import NonFiniteLossError, Sequential
from glassnet.utils import set_random_seed

HELPER = Path(__file__).resolve().parent / "reliability_processes.py"
STEP = re.compile(r"The loss became (?P<loss>\S+) at epoch (?P<epoch>\d+), batch (?P<batch>\d+); "
                  r"the first non-finite values are in (?P<where>.*?)\. The weights are those "
                  r"before this step")


def _regression(rows=64):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(rows, 4)).astype(np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32)


def _mlp(learning_rate=0.01):
    set_random_seed(5)
    model = Sequential([Input(shape=(4,)), Dense(8, activation="relu", name="hidden"),
                        Dense(8, activation="relu", name="hidden_2"), Dense(1, name="out")])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


class _WeightsAtEachStep(LambdaCallback):
    """Keeps the weights at the start of every step, with its (epoch, batch), 1-based."""

    def __init__(self, blow_up_at=None):
        self.epoch = 0
        self.steps: list[tuple[int, int, list[np.ndarray]]] = []
        self.blow_up_at = blow_up_at
        super().__init__(on_epoch_begin=self._epoch, on_train_batch_begin=self._batch)

    def _epoch(self, epoch, logs):
        self.epoch = epoch + 1

    def _batch(self, batch, logs):
        self.steps.append((self.epoch, batch + 1, [w.copy() for w in self.model.get_weights()]))
        if (self.epoch, batch + 1) == self.blow_up_at:
            self.model.optimizer.learning_rate = 1e25  # the planted overflow


def test_a_learning_rate_that_explodes_mid_run_stops_at_the_step_it_breaks():
    """The learning rate jumps to 1e25 for the step at epoch 3, batch 5; that step's loss
    is still finite, its update sends the weights to about 1e25, and the next step
    overflows. fit stops there, naming epoch 3, batch 6 and the layer whose output went
    non-finite, and leaves the weights as they were before that step."""
    x, y = _regression()
    model = _mlp()
    steps = _WeightsAtEachStep(blow_up_at=(3, 5))
    with pytest.raises(NonFiniteLossError) as info:
        model.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0, callbacks=[steps])
    found = STEP.search(str(info.value))
    assert found, str(info.value)
    assert (int(found["epoch"]), int(found["batch"])) == (3, 6)
    assert re.fullmatch(r"the output of layer '(hidden|hidden_2|out)'", found["where"])
    epoch, batch, before = steps.steps[-1]
    assert (epoch, batch) == (3, 6)
    assert all(np.array_equal(w, b) for w, b in zip(model.get_weights(), before, strict=True))
    assert any(np.abs(w).max() > 1e20 for w in before)  # the planted update did happen


def test_inputs_that_overflow_name_the_first_layer_they_break():
    """Finite float32 inputs of 3e38 overflow in the first layer (3 × 3e38 > float32's
    largest value), so the first step stops and names that layer."""
    x, y = _regression(16)
    model = _mlp()
    model.build()
    model.set_weights([np.ones_like(w) for w in model.get_weights()])
    huge = np.full_like(x, 3e38)
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, batch 1; the first non-finite "
                                                 r"values are in the output of layer 'hidden'"):
        model.fit(huge, y, epochs=1, batch_size=8, verbose=0)
    assert all(np.array_equal(w, np.ones_like(w)) for w in model.get_weights())


def test_a_loss_that_overflows_with_finite_outputs_says_so():
    """Outputs near 1e30 are finite, but their squared error overflows float32."""
    x, y = _regression(16)
    model = _mlp()
    model.build()
    model.set_weights([np.full_like(w, 1e9) for w in model.get_weights()])
    with pytest.raises(NonFiniteLossError, match=r"the loss itself \(the outputs are finite\)"):
        model.fit(np.abs(x) + 1, y, epochs=1, batch_size=8, verbose=0)


def test_terminate_on_nan_stops_at_the_same_step_without_raising():
    x, y = _regression()
    model = _mlp()
    steps = _WeightsAtEachStep(blow_up_at=(3, 5))
    history = model.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[steps, TerminateOnNaN()])
    assert len(history.epoch) == 3 and np.isnan(history.history["loss"][-1])
    epoch, batch, before = steps.steps[-1]
    assert (epoch, batch) == (3, 6)
    assert all(np.array_equal(w, b) for w, b in zip(model.get_weights(), before, strict=True))


# --- killed and resumed -----------------------------------------------------------------------


def _run(*args: str, expect_kill: bool = False) -> dict | None:
    result = subprocess.run([sys.executable, str(HELPER), *args], capture_output=True,
                            text=True, timeout=300)
    if expect_kill:
        assert result.returncode == -signal.SIGKILL, result.stderr
        return None
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, np.ndarray]:
    """The final state of the whole seeded run, in its own process."""
    out = tmp_path_factory.mktemp("straight") / "state.npz"
    _run("train", str(out))
    with np.load(out) as saved:
        return {name: saved[name] for name in saved.files}


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_resume_after_a_kill_reproduces_the_uninterrupted_run_bit_for_bit(
        tmp_path, fmt, uninterrupted):
    """Process 1 trains with a checkpoint per epoch and is SIGKILLed after batch 4 of epoch
    4; process 2 loads the epoch-3 checkpoint and trains on with initial_epoch=3. Its
    weights, Adam step and moments equal those of one uninterrupted run exactly."""
    pattern = str(tmp_path / f"ckpt_{{epoch}}.{fmt}")
    _run("train", str(tmp_path / "never.npz"), "--checkpoint", pattern, "--die-in-epoch", "3",
         "--die-after-batch", "4", expect_kill=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"ckpt_{e}.{fmt}" for e in (1, 2, 3)]
    _run("resume", str(tmp_path / f"ckpt_3.{fmt}"), str(tmp_path / "resumed.npz"),
         "--initial-epoch", "3")
    with np.load(tmp_path / "resumed.npz") as resumed:
        assert resumed.files == list(uninterrupted)
        for name in resumed.files:
            assert np.array_equal(resumed[name], uninterrupted[name]), name


def test_resuming_from_the_wrong_epoch_is_detectably_different(tmp_path, uninterrupted):
    """The comparison above can fail: resuming from epoch 2's checkpoint while claiming
    epoch 3 trains one epoch fewer and ends elsewhere."""
    pattern = str(tmp_path / "ckpt_{epoch}.keras")
    _run("train", str(tmp_path / "never.npz"), "--checkpoint", pattern, "--die-in-epoch", "3",
         expect_kill=True)
    _run("resume", str(tmp_path / "ckpt_2.keras"), str(tmp_path / "resumed.npz"),
         "--initial-epoch", "3")
    with np.load(tmp_path / "resumed.npz") as resumed:
        assert not all(np.array_equal(resumed[n], uninterrupted[n]) for n in resumed.files)
