"""Shared fixtures: float64 for slope checks, a seeded generator, a modest hypothesis profile."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from glassnet import config

# Real Keras (tests/test_keras_parity.py) must run on TensorFlow, whatever the machine's default.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

settings.register_profile(
    "glassnet",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("glassnet")


@pytest.fixture
def float64():
    """Switches glassnet to float64 for one test, so that finite differences are exact enough."""
    previous = config.floatx()
    config.set_floatx("float64")
    yield
    config.set_floatx(previous)


@pytest.fixture(autouse=True)
def _restore_floatx():
    """Any test that forgets to restore the float type must not change the tests after it."""
    previous = config.floatx()
    yield
    config.set_floatx(previous)


@pytest.fixture
def rng():
    """A fixed generator, so that every test sees the same data on every run."""
    return np.random.default_rng(20240611)
