"""Names at the top of the package, as Keras has them: the base classes, ``version()``,
and ``name_scope``/``device``, which glassnet accepts and which change nothing."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import initializers, layers, losses, metrics, optimizers, regularizers


def test_base_classes_are_the_namespaces_own():
    assert glassnet.Layer is layers.Layer
    assert glassnet.Loss is losses.Loss
    assert glassnet.Metric is metrics.Metric
    assert glassnet.Optimizer is optimizers.Optimizer
    assert glassnet.Initializer is initializers.Initializer
    assert glassnet.Regularizer is regularizers.Regularizer


def test_keras_tensor_is_what_input_gives():
    assert isinstance(glassnet.Input((3,)), glassnet.KerasTensor)


def test_version_is_the_package_version():
    assert glassnet.version() == glassnet.__version__


def test_scopes_run_their_body_and_change_nothing():
    dense = layers.Dense(2, kernel_initializer="ones")
    with glassnet.name_scope("block") as scope, glassnet.device("gpu:0"):
        out = dense(np.ones((1, 3), "float32"))
    assert scope.name == "block"
    np.testing.assert_array_equal(out, [[3.0, 3.0]])
    assert not dense.weights[0].name.startswith("block")


def test_scopes_check_their_argument():
    with pytest.raises(ValueError, match="cannot contain"):
        glassnet.name_scope("a/b")
    with pytest.raises(ValueError, match="device_name"):
        glassnet.device(0)
