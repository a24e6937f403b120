"""Tools that a test needs: a skip on a developer's machine, a failure in CI.

CI (``.ci/run``, with ``CI=true`` in the environment) installs every tool that a documented
feature needs, so a missing one there is a broken CI, never a reason to skip. Imported by
test modules as ``from ci_tools import require_tool`` (``tests/`` is on ``sys.path``, as for
``gradcheck``); a plain module rather than ``conftest.py``, whose module name pytest reuses
for every folder's conftest.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest


def in_ci() -> bool:
    """Whether the tests run in CI: ``CI`` set to ``true`` (or ``1``), as CI services do."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_tool(reason: str) -> None:
    """Skips the test on a developer's machine; fails it in CI, where the tool must be."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}: CI must install it (see .ci/run)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, reason: str, *, program: bool = False) -> ModuleType | str:
    """The module ``name`` (imported), or with ``program=True`` the path of the program
    ``name`` on ``PATH``; when it is missing, skips locally and fails under ``CI=true``.

    Args:
        name: a module name (``"ray"``, ``"mpi4py"``) or a program name (``"mpirun"``).
        reason: what needs it and how to install it, shown in the skip or the failure.
        program: look for a program on ``PATH`` instead of importing a module.
    """
    if program:
        path = shutil.which(name)
        if path is None:
            missing_tool(f"the program {name!r} is not on PATH ({reason})")
        return path
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing_tool(f"could not import {name!r}: {error} ({reason})")
        raise  # not reached: missing_tool skips or fails


def run_slow_tool_tests(variable: str) -> bool:
    """Whether tests that need a slow tool (Ray starts in ~20 s) run: always in CI, and
    locally when the environment variable ``variable`` is set to a non-empty value."""
    return in_ci() or bool(os.environ.get(variable))
