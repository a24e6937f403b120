"""Initializers: Keras 3's ranges and spreads, seeding, and name lookup."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import config, initializers
from glassnet.utils import set_random_seed

SHAPE = (200, 300)  # fan_in 200, fan_out 300: 60,000 draws make the moments tight


def test_glorot_uniform_fills_its_whole_range():
    limit = math.sqrt(6 / (200 + 300))
    w = initializers.GlorotUniform(seed=1)(SHAPE)
    assert w.dtype == np.float32
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    # A uniform on [-limit, limit] has variance limit**2 / 3 = 2 / (fan_in + fan_out).
    assert w.var() == pytest.approx(2 / 500, rel=0.03)


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("glorot_normal", 2 / 500),
        ("he_normal", 2 / 200),
        ("lecun_normal", 1 / 200),
        ("he_uniform", 2 / 200),
        ("lecun_uniform", 1 / 200),
    ],
)
def test_variance_scaling_presets_have_keras_variance(name, variance):
    w = initializers.get(name)(SHAPE)
    assert w.var() == pytest.approx(variance, rel=0.04)
    assert abs(w.mean()) < 0.05 * math.sqrt(variance)


@pytest.mark.parametrize("name", ["glorot_normal", "he_normal", "lecun_normal"])
def test_normal_presets_are_truncated_at_two_deviations(name):
    w = initializers.get(name)(SHAPE)
    # The untruncated deviation is sqrt(variance) / 0.8796...; nothing lies beyond 2 of them.
    untruncated_std = w.std() / 0.87962566103423978
    assert np.abs(w).max() <= 2 * untruncated_std * 1.02


def test_random_normal_and_uniform_defaults_are_keras_3():
    normal = initializers.RandomNormal(seed=3)(SHAPE)
    assert normal.std() == pytest.approx(0.05, rel=0.03)
    uniform = initializers.RandomUniform(seed=3)(SHAPE)
    assert uniform.min() >= -0.05 and uniform.max() < 0.05


def test_constant_zeros_ones_and_identity():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((2,)), [1.0, 1.0])
    np.testing.assert_array_equal(initializers.Constant(0.5)((2,)), [0.5, 0.5])
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((2, 2)), [[2, 0], [0, 2]])


def test_orthogonal_gives_orthonormal_columns():
    w = initializers.Orthogonal(seed=0)((6, 4)).astype(np.float64)
    np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-6)


def test_a_seeded_initializer_repeats_itself_and_seeds_differ():
    a = initializers.GlorotUniform(seed=7)((3, 4))
    np.testing.assert_array_equal(a, initializers.GlorotUniform(seed=7)((3, 4)))
    assert not np.array_equal(a, initializers.GlorotUniform(seed=8)((3, 4)))


def test_global_seed_makes_unseeded_initializers_repeat():
    set_random_seed(11)
    first = initializers.GlorotUniform()((3, 4))
    set_random_seed(11)
    np.testing.assert_array_equal(first, initializers.GlorotUniform()((3, 4)))


def test_dtype_follows_floatx(float64):
    assert initializers.get("glorot_uniform")((2, 2)).dtype == np.float64
    assert initializers.get("zeros")((2,)).dtype == np.float64
    assert config.floatx() == "float64"


def test_names_resolve_case_insensitively_and_unknown_names_are_listed():
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    with pytest.raises(
        ValueError, match=r"Unknown initializer: 'glorot_unifrom'.*'glorot_uniform'"
    ):
        initializers.get("glorot_unifrom")


def test_bad_variance_scaling_arguments_are_named():
    with pytest.raises(ValueError, match="`mode` must be.*Received: mode='fan_sum'"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="`distribution` must be one of"):
        initializers.VarianceScaling(distribution="cauchy")


def test_config_round_trip():
    original = initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="uniform", seed=5
    )
    config_dict = initializers.serialize(original)
    again = initializers.get(config_dict)
    np.testing.assert_array_equal(original((3, 3)), again((3, 3)))
