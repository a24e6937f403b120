"""Fixtures for the command line's tests: running ``main`` in-process, and a small CSV file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import Run, write_csv

from glassnet.cli import main


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    """Runs ``glassnet ARGS...`` in-process in a fresh temporary folder; returns a ``Run``."""
    monkeypatch.chdir(tmp_path)

    def run(*args: object) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def people_csv(tmp_path) -> Path:
    """200 people: age, city (text, 3 values), income, bought (yes/no; depends on age and
    city, so a network can learn it)."""
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(200):
        age = int(rng.integers(18, 70))
        city = str(rng.choice(["Paris", "Lyon", "Nice"]))
        income = round(float(rng.normal(30, 8)), 1)
        bought = "yes" if (age > 40) != (city == "Nice") else "no"
        rows.append([age, city, income, bought])
    return write_csv(tmp_path / "people.csv", ["age", "city", "income", "bought"], rows)
