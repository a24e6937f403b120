"""``TensorBoard`` writes event files that TensorBoard reads, with Keras's tags and runs.

The events are read back from the files themselves: TFRecord framing (length, CRC of the
length, data, CRC of the data, each CRC the masked CRC-32C TensorBoard checks) and the
``Event`` protobuf. Tags, steps and runs follow keras/src/callbacks/tensorboard.py.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet.callbacks import TensorBoard
from glassnet.layers import Dense, Input
from glassnet.models import Sequential
from glassnet.utils import set_random_seed


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(folder):
    """Every Event in the event files of ``folder``, checking each record's CRCs."""
    from tensorboardX.proto.event_pb2 import Event

    events = []
    files = sorted(folder.glob("events.out.tfevents.*"))
    assert files, f"no event file in {folder}"
    for path in files:
        data = path.read_bytes()
        at = 0
        while at < len(data):
            header = data[at : at + 8]
            (length,) = struct.unpack("<Q", header)
            (length_crc,) = struct.unpack("<I", data[at + 8 : at + 12])
            assert length_crc == _masked(header)
            body = data[at + 12 : at + 12 + length]
            (body_crc,) = struct.unpack("<I", data[at + 12 + length : at + 16 + length])
            assert body_crc == _masked(body)
            events.append(Event.FromString(body))
            at += 16 + length
    return events


def scalars(events) -> dict[str, list[tuple[int, float]]]:
    out: dict = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("simple_value"):
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


@pytest.fixture
def trained(tmp_path):
    require_tool("tensorboardX", "TensorBoard writes its event files with tensorboardX")
    set_random_seed(0)
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(20, 2)
    y = x @ np.array([[1.0], [-1.0]], np.float32)
    model = Sequential([Input(shape=(2,)), Dense(3, activation="relu"), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    board = TensorBoard(tmp_path / "logs", histogram_freq=2, update_freq=2)
    history = model.fit(
        x, y, batch_size=5, epochs=3, validation_split=0.25, verbose=0, callbacks=[board]
    )
    return tmp_path / "logs", model, history.history


def test_epoch_scalars_in_train_and_validation_runs(trained):
    logs, model, history = trained
    train = scalars(read_events(logs / "train"))
    val = scalars(read_events(logs / "validation"))
    for name in ("loss", "mae"):
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{name}"]], history[name], rtol=1e-6)
        np.testing.assert_allclose(
            [v for _, v in val[f"epoch_{name}"]], history[f"val_{name}"], rtol=1e-6
        )
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.01] * 3)
    # 15 training rows in batches of 5: 3 steps an epoch, so the optimizer's steps are 3, 6, 9
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [3, 6, 9]
    assert not any(tag.startswith("epoch_val_") for tag in train | val)


def test_batch_scalars_every_update_freq_batches(trained):
    logs, _, _ = trained
    train = scalars(read_events(logs / "train"))
    # 9 batches in all, counted from 1: every second one is written
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8]
    assert [s for s, _ in train["batch_mae"]] == [2, 4, 6, 8]


def test_weight_histograms_every_histogram_freq_epochs(trained):
    logs, model, _ = trained
    histograms: dict = {}
    for event in read_events(logs / "train"):
        for value in event.summary.value:
            if value.HasField("histo"):
                histograms.setdefault(value.tag, []).append((event.step, value.histo))
    dense = model.layers[0].name
    tag = f"{model.name}/{dense}/kernel/histogram"
    assert tag in histograms and len(histograms) == 4  # two Dense layers, kernel and bias
    assert [step for step, _ in histograms[tag]] == [0, 2]
    last = histograms[tag][-1][1]
    kernel = model.layers[0].get_weights()[0]
    assert last.num == kernel.size
    assert last.min == pytest.approx(kernel.min()) and last.max == pytest.approx(kernel.max())


def test_the_model_graph_is_written_for_the_graphs_tab(trained):
    logs, model, _ = trained
    found = [
        value
        for event in read_events(logs / "train")
        for value in event.summary.value
        if value.tag == "keras"
    ]
    assert len(found) == 1
    value = found[0]
    assert value.metadata.plugin_data.plugin_name == "graph_keras_model"
    config = json.loads(value.tensor.string_val[0].decode())
    assert config["class_name"] == "Sequential"
    assert json.loads(model.to_json()) == config


def test_update_freq_epoch_writes_no_batch_scalars(tmp_path):
    require_tool("tensorboardX", "TensorBoard writes its event files with tensorboardX")
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), np.float32)
    model.fit(
        x, x[:, :1], epochs=2, verbose=0, callbacks=[TensorBoard(tmp_path, write_graph=False)]
    )
    train = scalars(read_events(tmp_path / "train"))
    assert sorted(train) == ["epoch_learning_rate", "epoch_loss"]
    assert not (tmp_path / "validation").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"profile_batch": 2}, "profile_batch"),
        ({"histogram_freq": -1}, "histogram_freq"),
        ({"update_freq": "step"}, "update_freq"),
        ({"update_freq": 0}, "update_freq"),
        ({"write_images": True}, "write_images"),
        ({"embeddings_freq": 1}, "embeddings_freq"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        TensorBoard(tmp_path, **kwargs)


def test_tensorboard_itself_reads_the_runs(trained):
    # TensorBoard's own reader: scalars, histograms and the Keras model graph.
    require_tool("tensorboard", "reads the event files back with TensorBoard's EventAccumulator")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs, model, history = trained
    train = EventAccumulator(str(logs / "train"))
    train.Reload()
    tags = train.Tags()
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate", "batch_loss"} <= set(tags["scalars"])
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    np.testing.assert_allclose(
        [e.value for e in train.Scalars("epoch_loss")], history["loss"], rtol=1e-6
    )
    assert f"{model.name}/{model.layers[1].name}/bias/histogram" in tags["histograms"]
    assert "keras" in tags["tensors"]
    val = EventAccumulator(str(logs / "validation"))
    val.Reload()
    np.testing.assert_allclose(
        [e.value for e in val.Scalars("epoch_loss")], history["val_loss"], rtol=1e-6
    )


@pytest.mark.keras
def test_keras_uses_the_same_tags_and_runs(tmp_path):
    keras = require_tool("keras", "compares with keras.callbacks.TensorBoard")
    require_tool("tensorboard", "Keras's TensorBoard callback writes with tf.summary")
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(20, 2)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    board = keras.callbacks.TensorBoard(str(tmp_path), update_freq=2)
    model.fit(
        x, x[:, :1], batch_size=5, epochs=2, validation_split=0.25, verbose=0, callbacks=[board]
    )
    tags = {"train": set(), "validation": set()}
    for run in tags:
        for event in read_events(tmp_path / run):
            tags[run] |= {value.tag for value in event.summary.value}
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate", "batch_loss", "keras"} <= tags[
        "train"
    ]
    assert {"epoch_loss", "epoch_mae", "evaluation_loss_vs_iterations"} <= tags["validation"]


def test_steps_per_second_are_logged_when_asked(tmp_path):
    require_tool("tensorboardX", "TensorBoard writes its event files with tensorboardX")
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 2), np.float32)
    board = TensorBoard(tmp_path, write_graph=False, write_steps_per_second=True,
                        update_freq="batch")  # fmt: skip
    model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0, callbacks=[board])
    train = scalars(read_events(tmp_path / "train"))
    assert [s for s, _ in train["batch_steps_per_second"]] == [1, 2, 3, 4]
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert all(v > 0 for _, v in train["epoch_steps_per_second"])
