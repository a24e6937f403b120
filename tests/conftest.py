"""Shared fixtures: float64 for slope checks, a seeded generator, a modest hypothesis profile;
and, under ``CI=true``, a missing package is a failure, never a skip (see ``ci_tools``)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from ci_tools import in_ci, require_tool  # noqa: F401  (the helpers, also from here)
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

# What `pytest.importorskip` says when the module is missing.
_IMPORT_SKIP = "could not import "


def _missing_module_in_ci(report) -> str | None:
    """The skip reason when ``report`` is a skip for a missing module under ``CI=true``."""
    if not (in_ci() and report.skipped) or getattr(report, "wasxfail", None) is not None:
        return None
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    return reason if reason.startswith(_IMPORT_SKIP) else None


def _fail_instead(report, reason: str) -> None:
    report.outcome = "failed"
    report.longrepr = (
        f"CI=true and a test needs a package that is not installed ({reason}); "
        "CI installs every package the tests use (see .ci/run)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a test that `importorskip`s a missing module fails instead of skipping:
    CI installs the test extras and Keras, so a missing package means a broken CI."""
    report = (yield).get_result()
    reason = _missing_module_in_ci(report)
    if reason is not None:
        _fail_instead(report, reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a module that `importorskip`s at import time (a collection error in CI)."""
    report = (yield).get_result()
    reason = _missing_module_in_ci(report)
    if reason is not None:
        _fail_instead(report, reason)


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
