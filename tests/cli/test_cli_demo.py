"""``glassnet demo``: quick, informative, and silent on disk unless asked."""

from __future__ import annotations

import time


def test_demo_trains_both_tables_quickly_and_writes_nothing(cli, tmp_path):
    started = time.perf_counter()
    run = cli("demo")
    seconds = time.perf_counter() - started
    assert run.code == 0, run
    assert seconds < 30
    assert "1. Hourly wages" in run.out and "2. Titanic" in run.out
    assert run.out.count("validation scores") == 2
    assert "mae" in run.out and "accuracy" in run.out
    assert "wage_per_hour  predicted_wage_per_hour" in run.out
    assert "probability_1" in run.out
    assert list(tmp_path.iterdir()) == []


def test_demo_saves_the_models_when_given_a_folder(cli, tmp_path):
    run = cli("demo", "--epochs", "2", "--output-dir", "out")
    assert run.code == 0, run
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{d}.{ext}" for d in ("hourly_wages", "titanic")
                           for ext in ("keras", "columns.json", "history.json"))
