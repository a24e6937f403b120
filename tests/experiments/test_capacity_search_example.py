"""examples/capacity_search_wages.py runs (with few epochs) and tells the course's story."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "capacity_search_wages.py"


def test_capacity_search_example_reports_every_model_and_draws_them(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    spec = importlib.util.spec_from_file_location("capacity_search_wages", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "curves.png"
    found = module.main(str(out), epochs=3, repeats=1, max_units=200, n_jobs=1)
    assert found.trials[0].name == "1x100" and found.trials[0].stage == "start"
    assert found.best.score == min(t.score for t in found)
    assert out.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "chosen: " + found.best.name in printed
    assert all(t.name in printed for t in found)
