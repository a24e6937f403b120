"""The command as users start it: ``python -m glassnet`` and the ``glassnet`` console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import glassnet


def test_python_dash_m_glassnet_help():
    done = subprocess.run([sys.executable, "-m", "glassnet", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("train", "evaluate", "predict", "summary", "explain", "plot", "demo"):
        assert command in done.stdout


def test_the_console_script_runs_and_reports_errors_in_one_line(tmp_path):
    script = shutil.which("glassnet", path=str(Path(sys.executable).parent)) or shutil.which(
        "glassnet")
    if script is None:
        pytest.skip("the glassnet console script is not installed (pip install -e .)")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.strip() == f"glassnet {glassnet.__version__}"
    failed = subprocess.run([script, "train", "missing.csv", "--target", "y"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert failed.stderr == "glassnet: error: no such file: missing.csv\n"
