"""Pictures of convnets: filters, feature maps and the block drawing of ``plot_network``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import glassnet as keras  # noqa: E402
from glassnet import explain, layers  # noqa: E402


def convnet():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(10, 10, 2)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.build()
    return model


def test_plot_filters_draws_each_filter(tmp_path):
    model = convnet()
    fig = explain.plot_filters(model, 0, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 3
    kernel = model.layers[0].kernel
    np.testing.assert_allclose(images[1], kernel[:, :, :, 1].mean(axis=2), rtol=1e-6)


def test_plot_feature_maps_shows_the_layer_outputs_of_the_models_pass(tmp_path):
    model = convnet()
    image = np.random.default_rng(0).random((10, 10, 2)).astype(np.float32)
    fig = explain.plot_feature_maps(model, image, model.layers[1], tmp_path / "m.png")
    maps = [ax.images[0].get_array() for ax in fig.axes if ax.images][1:]
    expected = model.layers[1](model.layers[0](image[None]))[0]
    assert len(maps) == 3
    np.testing.assert_allclose(maps[2], expected[:, :, 2], rtol=1e-6)


def test_plot_network_draws_a_convnet_as_blocks_with_shapes(tmp_path):
    fig = explain.plot_network(convnet(), path=tmp_path / "n.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "(8, 8, 3)   57 weights" in texts
    assert "(4, 4, 3)   no weights" in texts


def test_plot_filters_refuses_a_layer_without_a_kernel():
    with pytest.raises(ValueError, match="max_pooling2d"):
        explain.plot_filters(convnet(), 1)


def test_trace_slopes_and_diagnose_read_a_convnet():
    model = convnet()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(1).random((4, 10, 10, 2)).astype(np.float32)
    y = np.array([0, 1, 0, 1])
    traced = explain.trace(model, x[:1])
    maps = model.layers[0](x[:1])
    np.testing.assert_allclose(traced.layer(model.layers[0].name).outputs,
                               maps.reshape(1, -1), rtol=1e-6)
    assert "relu" in str(traced)
    _, grads = model.compute_gradients(x, y)
    shown = explain.slopes(model, x, y)
    assert "Loss" in str(shown) and len(grads) == 4
    assert model.layers[0].name in str(explain.diagnose(model, x, y))
