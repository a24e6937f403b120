"""The pictures: each returns a Figure, saves a PNG, and draws what it says it draws."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from glassnet.callbacks import Diagnostics  # noqa: E402
from glassnet.explain import (  # noqa: E402
    diagnose,
    from_node_weights,
    plot_diagnostics,
    plot_history,
    plot_loss_surface,
    plot_network,
    plot_slope,
)
from glassnet.explain.plots import NEGATIVE, POSITIVE, SLOPE  # noqa: E402
from glassnet.layers import Dense  # noqa: E402
from glassnet.models import Sequential  # noqa: E402

F1 = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
F6 = {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2], "node_1_1": [1, 2],
      "output": [2, 7]}


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def weight_lines(fig: Figure):
    ax = fig.axes[0]
    return [line for line in ax.lines if line.get_color() in (POSITIVE, NEGATIVE)]


def is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_f1_network_drawn_like_the_course(tmp_path):
    path = tmp_path / "pictures" / "f1.png"
    fig = plot_network(from_node_weights(F1), x=[2, 3], path=path)
    assert isinstance(fig, Figure) and is_png(path)
    words = texts(fig)
    for value in ("2", "3", "5", "1", "9"):  # node values
        assert value in words
    on_lines = [t.get_text() for t in fig.axes[0].texts if t.get_color() in (POSITIVE, NEGATIVE)]
    assert sorted(on_lines) == ["-1", "-1", "1", "1", "1", "2"]  # every weight, on its line
    lines = weight_lines(fig)
    assert len(lines) == 6  # 2 x 2 + 2 x 1 weights
    negative = [line for line in lines if line.get_color() == NEGATIVE]
    assert len(negative) == 2 and all(line.get_linestyle() == "--" for line in negative)
    assert {"node_0", "node_1", "output", "input_0", "input_1"} <= set(words)


def test_f6_network_shows_node_inputs_changed_by_relu():
    fig = plot_network(from_node_weights(F6, hidden_activation="relu"), x=[3, 5])
    words = texts(fig)
    assert "182" in words and "26" in words
    assert "in -13" in words and "in -26" in words  # the ReLU set these nodes to 0
    assert "node_1_1" in words and any("(relu)" in w for w in words)


def test_node_values_are_never_rounded_to_whole_numbers():
    fig = plot_network(from_node_weights(F1, hidden_activation="tanh"), x=[2, 3])
    values = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    assert values == ["2", "3", "0.9999", "0.762", "1.24"]  # tanh(5) is not 1
    assert "in 5" in texts(fig)


def test_large_layers_are_summarised_not_a_hairball(tmp_path):
    model = Sequential([Dense(100, activation="relu", input_shape=(9,)),
                        Dense(100, activation="relu"), Dense(1)])
    x = np.random.default_rng(1).normal(size=(3, 9))
    path = tmp_path / "big.png"
    fig = plot_network(model, x=x, path=path)
    assert is_png(path)
    words = texts(fig)
    assert words.count("⋮\n91 more") == 2
    assert any(w.startswith("9 x 100 weights") for w in words)
    assert len(weight_lines(fig)) <= 2 * (10 + 10 + 1)  # two lines into each drawn node
    # without data, only the structure
    assert "91 more" in " ".join(texts(plot_network(model)))


def test_node_slopes_in_red_like_the_backpropagation_pictures():
    network = from_node_weights({"node_0_0": [1, -1], "node_0_1": [-1, 1], "node_1_0": [1, 1],
                                 "node_1_1": [2, 3], "output": [1, 2]},
                                hidden_activation="relu", output_activation="relu")
    fig = plot_network(network, x=[1, 2], y=[4], loss="mse")
    red = [t.get_text() for t in fig.axes[0].texts if t.get_color() == SLOPE]
    assert red == ["30", "42", "6", "12", "6"]  # hidden_0, hidden_1, output (G4/G5)
    with pytest.raises(ValueError, match="`y` needs `x`"):
        plot_network(network, y=[4])


def test_network_argument_checks():
    with pytest.raises(ValueError, match="max_nodes"):
        plot_network(from_node_weights(F1), max_nodes=1)
    with pytest.raises(TypeError, match="glassnet model"):
        plot_network("model")


def histories():
    return {"loss": [4.0, 3.0, 2.5], "val_loss": [4.5, 3.6, 3.3], "accuracy": [0.5, 0.6, 0.7],
            "val_accuracy": [0.4, 0.5, 0.55]}


def test_learning_curves_of_one_run(tmp_path, rng):
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(rng.normal(size=(40, 3)), rng.normal(size=40), epochs=3, verbose=0,
                        validation_split=0.25)
    path = tmp_path / "curves.png"
    fig = plot_history(history, path=path)
    assert is_png(path) and len(fig.axes) == 1
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["loss", "val_loss"]
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), history.history["val_loss"])


def test_metrics_get_their_own_panel():
    fig = plot_history(histories())
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]


def test_several_models_on_one_axis():
    a, b = histories(), {k: [v * 0.5 for v in vs] for k, vs in histories().items()}
    fig = plot_history({"100 units": a, "2 layers": b})
    assert len(fig.axes) == 1
    assert [line.get_label() for line in fig.axes[0].lines] == ["100 units val_loss",
                                                                "2 layers val_loss"]
    fig = plot_history([a, b], keys=["loss", "val_loss"], labels=["small", "big"])
    assert len(fig.axes[0].lines) == 4


def test_history_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match=r"No history logged \['val_acc'\].*'val_accuracy'"):
        plot_history(histories(), keys=["val_acc"])
    with pytest.raises(TypeError, match="History"):
        plot_history(42)
    with pytest.raises(ValueError, match="empty"):
        plot_history([])
    with pytest.raises(ValueError, match="2 names for 1"):
        plot_history([histories()], labels=["a", "b"])


def test_loss_surface_over_two_weights(tmp_path):
    model = from_node_weights({"output": [1, 2]})
    path = tmp_path / "surface.png"
    fig = plot_loss_surface(model, [3, 4], [6], loss="mse", resolution=15, steps=3, path=path)
    assert is_png(path) and model.get_weights()[0].ravel().tolist() == [1, 2]
    contour = fig.axes[1]
    trail = contour.lines[1]
    assert trail.get_xdata()[1] == pytest.approx(0.7) and trail.get_ydata()[1] == pytest.approx(1.6)
    fig = plot_loss_surface(model, [3, 4], [6], loss="mse", resolution=9,
                            weights=["output/kernel[1, 0]", ("output", 0, 0)])
    assert "input_1 -> output" in fig.axes[1].get_xlabel()
    with pytest.raises(ValueError, match="two different weights"):
        plot_loss_surface(model, [3, 4], [6], loss="mse", weights=[("output", 0, 0)] * 2)
    with pytest.raises(ValueError, match=r"shape \(2, 1\); index \[5, 0\]"):
        plot_loss_surface(model, [3, 4], [6], loss="mse", weights=[("output", 5, 0),
                                                                   ("output", 0, 0)])


def test_slope_picture_follows_gradient_descent(tmp_path):
    model = from_node_weights({"output": [2]})
    path = tmp_path / "slope.png"
    fig = plot_slope(model, [3], [10], loss="mse", steps=2, path=path)
    assert is_png(path) and model.get_weights()[0][0, 0] == 2
    words = texts(fig)
    assert any(w.startswith("w1 = 2 - 0.01 x (-24) = 2.24") for w in words)
    assert fig.axes[0].get_legend().get_texts()[1].get_text() == "slope -24 at w = 2"


def test_diagnostics_pictures(tmp_path, rng):
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    model = Sequential([Dense(8, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    watch = Diagnostics(verbose=0)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[watch])
    fig = plot_diagnostics(watch, path=tmp_path / "epochs.png")
    assert is_png(tmp_path / "epochs.png")
    assert len(fig.axes[0].lines) == 2 and fig.axes[0].get_yscale() == "log"
    fig = plot_diagnostics(diagnose(model, x, y), path=tmp_path / "one.png")
    assert is_png(tmp_path / "one.png") and fig._suptitle.get_text() == "No problem found"
    with pytest.raises(ValueError, match="not checked any epoch"):
        plot_diagnostics(Diagnostics())


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib"):
        plot_network(from_node_weights(F1))
