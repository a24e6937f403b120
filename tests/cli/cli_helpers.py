"""Helpers for the command line's tests (imported by the test modules of this folder)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """What one ``glassnet`` run produced: exit status, standard output, standard error."""

    code: int
    out: str
    err: str


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Writes a CSV file with a header line."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def assert_one_line_error(run: Run, *fragments: str) -> None:
    """The run failed with status 1 and one ``glassnet: error:`` line holding ``fragments``."""
    assert run.code == 1, run
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("glassnet: error: "), run.err
    assert "Traceback" not in run.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
