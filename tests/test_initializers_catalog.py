"""Keras's other spellings of the initializers, ``deserialize``, and ``input_axes`` /
``output_axes`` (``keras/src/initializers/random_initializers.py``, ``compute_fans``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import initializers

ALIASES = {
    "zeros": "Zeros",
    "ones": "Ones",
    "constant": "Constant",
    "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform",
    "truncated_normal": "TruncatedNormal",
    "variance_scaling": "VarianceScaling",
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
    "orthogonal": "Orthogonal",
    "OrthogonalInitializer": "Orthogonal",
    "identity": "Identity",
    "IdentityInitializer": "Identity",
}


@pytest.mark.parametrize(("alias", "name"), sorted(ALIASES.items()))
def test_lowercase_names_are_the_classes(alias, name):
    # as in Keras: keras.initializers.zeros is keras.initializers.Zeros
    assert getattr(initializers, alias) is getattr(initializers, name)


def test_deserialize_names_configs_and_custom_classes():
    assert type(initializers.deserialize("he_normal")) is initializers.HeNormal
    constant = initializers.deserialize({"class_name": "Constant", "config": {"value": 2.5}})
    np.testing.assert_array_equal(constant((2,)), [2.5, 2.5])
    again = initializers.deserialize(initializers.serialize(initializers.Orthogonal(gain=2.0)))
    assert again.get_config() == {"gain": 2.0, "seed": None}

    class Twos(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 2.0, dtype or "float32")

    made = initializers.deserialize({"class_name": "Twos", "config": {}}, {"Twos": Twos})
    assert isinstance(made, Twos)
    with pytest.raises(ValueError, match="Unknown initializer"):
        initializers.deserialize("glorot_unifrom")
    with pytest.raises(TypeError, match="not an Initializer"):
        initializers.deserialize("Twos", {"Twos": len})


def test_input_and_output_axes_set_the_fans():
    # (20, 30, 40) with the inputs on axis 2: fan_in 40, so He uniform's limit is
    # sqrt(6 / 40); the default rule would take fan_in = 30 * 20.
    w = initializers.HeUniform(seed=0, input_axes=[2], output_axes=[0, 1])((20, 30, 40))
    limit = math.sqrt(6 / 40)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    w = initializers.GlorotUniform(seed=0, input_axes=[0], output_axes=[1, 2])((50, 4, 5))
    limit = math.sqrt(6 / (50 + 20))
    assert limit * 0.99 < np.abs(w).max() <= limit
    # only one of the two: the default rule, as Keras
    a = initializers.GlorotUniform(seed=3, input_axes=[2])((5, 6))
    np.testing.assert_array_equal(a, initializers.GlorotUniform(seed=3)((5, 6)))
    config = initializers.HeNormal(input_axes=[0], output_axes=[1]).get_config()
    assert config == {"seed": None, "input_axes": [0], "output_axes": [1]}
    assert initializers.HeNormal.from_config(config).input_axes == [0]
    with pytest.raises(ValueError, match="input_axes"):
        initializers.VarianceScaling(input_axes="rows")
