"""Every file real Keras wrote (tests/fixtures/keras/) loads in glassnet and predicts Keras's
numbers, with the same architecture, compile settings and optimizer state. No TensorFlow."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from keras_fixture_cases import (
    build_plain,
    expected_summary,
    file_cases,
    inputs,
    is_weights_only,
    keeps_optimizer_state,
    optimizer_class,
    steps_trained,
)

from glassnet import losses
from glassnet.models import load_model

CASES = file_cases()
IDS = [name for _, name in CASES]


def _load(meta: dict, name: str):
    path = meta["folder"] / name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras's own files load without a single warning
        if is_weights_only(name):
            model = build_plain(meta)
            model.load_weights(path)
            return model
        return load_model(path)


def test_every_fixture_is_covered():
    stems = {meta["name"] for meta, _ in CASES}
    assert len(CASES) >= 40
    assert {"k3_relu_softmax", "k2_legacy_optimizer", "own_batchnorm", "own_k2_batchnorm"} <= stems


@pytest.mark.parametrize(("meta", "name"), CASES, ids=IDS)
def test_fixture_predicts_keras_numbers(meta, name):
    model = _load(meta, name)
    np.testing.assert_allclose(model.predict(inputs(meta), verbose=0), meta["predictions"],
                               atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(("meta", "name"), CASES, ids=IDS)
def test_fixture_summary_matches_architecture(meta, name):
    model = _load(meta, name)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = [line for line in text.splitlines() if line.rstrip().endswith(tuple("0123456789"))
            and "(None" in line]
    expected = expected_summary(meta)
    assert len(rows) == len(expected)
    for row, (kind, shape, params) in zip(rows, expected, strict=True):
        assert f"({kind})" in row
        assert "(None, " + ", ".join(map(str, shape)) + ")" in row
        assert row.split()[-1] == f"{params:,}"
    total = sum(params for _, _, params in expected)
    assert f"Total params: {total:,}" in text


@pytest.mark.parametrize(("meta", "name"), [c for c in CASES if not is_weights_only(c[1])],
                         ids=[n for _, n in CASES if not is_weights_only(n)])
def test_fixture_compile_state(meta, name):
    model = _load(meta, name)
    if meta["compile"] is None:
        assert not model.compiled
        return
    assert model.compiled
    assert type(model.optimizer).__name__.lower() == optimizer_class(meta)
    assert type(model.loss) is type(losses.get(meta["compile"]["loss"]))
    assert len(model._metric_specs) == len(meta["compile"]["metrics"])
    if keeps_optimizer_state(meta, name):
        assert model.optimizer.iterations == steps_trained(meta)
        assert not model.optimizer_needs_build
    else:
        assert model.optimizer.iterations == 0


CONTINUED = [c for c in CASES if "continued" in c[0] and not is_weights_only(c[1])
             and keeps_optimizer_state(*c)]


@pytest.mark.parametrize(("meta", "name"), CONTINUED, ids=[n for _, n in CONTINUED])
def test_restored_optimizer_continues_like_keras(meta, name):
    """One more epoch from the file's optimizer state gives Keras's own next weights."""
    model = _load(meta, name)
    more = meta["continued"]
    model.fit(np.asarray(more["x"], np.float32), np.asarray(more["y"], np.float32),
              batch_size=more["batch_size"], epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.predict(inputs(meta), verbose=0), more["predictions"],
                               atol=5e-6, rtol=1e-5)


def test_keras_weights_load_into_a_model_from_a_keras_file():
    meta = next(m for m, n in CASES if n == "k3_relu_softmax.keras")
    model = build_plain(meta)
    model.load_weights(meta["folder"] / "k3_relu_softmax.keras")
    np.testing.assert_allclose(model.predict(inputs(meta), verbose=0), meta["predictions"],
                               atol=1e-6, rtol=1e-5)


def test_load_without_compile_leaves_the_model_uncompiled():
    meta = next(m for m, n in CASES if n == "k3_dropout_linear.h5")
    model = load_model(meta["folder"] / "k3_dropout_linear.h5", compile=False)
    assert not model.compiled
    np.testing.assert_allclose(model.predict(inputs(meta), verbose=0), meta["predictions"],
                               atol=1e-6, rtol=1e-5)


def test_mse_h5_that_keras_refuses_loads_compiled():
    # Keras 3.15.1 fails on loss "mse" in an .h5 training_config; glassnet reads it.
    meta = next(m for m, n in CASES if n == "k2_dropout_activation.h5")
    model = load_model(meta["folder"] / "k2_dropout_activation.h5")
    assert isinstance(model.loss, losses.MeanSquaredError)
    assert model.optimizer.iterations == 8
