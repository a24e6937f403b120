"""Hostile tables (issue 22): messages that point at the file's line, and bounded memory.

Each table is made here. Before issue 22, ``1e308`` gave NumPy's ``RuntimeWarning`` and an
error naming a shuffled row ("before training", even in ``predict``); a FIFO was "a
directory"; UTF-16 without a byte-order mark gave "line 202: 1 values"; a NUL byte in a
text cell was a category; ``1_000`` was the number 1000; the whole file was held as Python
strings (about 13 times its size), and a ``MemoryError`` was a traceback.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, write_csv

import glassnet
from glassnet.cli import tabular


def numbers_csv(path: Path, rows: int = 40, special: dict | None = None) -> Path:
    """Columns a, b (numbers) and y (0/1); ``special`` maps a row index to a's cell."""
    rng = np.random.default_rng(0)
    special = special or {}
    table = [
        [special.get(i, round(float(rng.normal()), 4)), round(float(rng.normal()), 4), i % 2]
        for i in range(rows)
    ]
    return write_csv(path, ["a", "b", "y"], table)


def test_a_value_beyond_float32_names_the_file_line_without_a_warning(cli, tmp_path):
    path = numbers_csv(tmp_path / "huge.csv", special={17: "1e308"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = cli("train", path, "--target", "y", "--epochs", "1")
    assert_one_line_error(run, "column 'a' of", "1e+308 at line 19", "too large for float32")
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], caught


def test_predict_names_the_line_of_a_value_beyond_float32_and_not_training(cli, tmp_path):
    good = numbers_csv(tmp_path / "good.csv")
    assert cli("train", good, "--target", "y", "--epochs", "1", "--output", "m.keras").code == 0
    bad = numbers_csv(tmp_path / "bad.csv", special={4: "-3e39"})
    run = cli("predict", "m.keras", bad)
    assert_one_line_error(run, "-3e+39 at line 6", "float32")
    assert "training" not in run.err


def test_a_named_pipe_is_not_called_a_directory(cli, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "x.csv")
    run = cli("train", tmp_path / "x.csv", "--target", "y")
    assert_one_line_error(run, "x.csv is not a regular file", "named pipe")
    assert "directory" not in run.err
    (tmp_path / "folder.csv").mkdir()
    assert_one_line_error(cli("train", tmp_path / "folder.csv", "--target", "y"), "is a directory")


@pytest.mark.parametrize(
    ("codec", "how"),
    [
        ("utf-16-le", "without a byte-order mark"),
        ("utf-16-be", "without a byte-order mark"),
        ("utf-16", "with a byte-order mark"),
    ],
)
def test_utf16_text_is_named_as_such(cli, tmp_path, codec, how):
    text = "a,b,y\n" + "".join(f"{i},{2 * i},{i % 3}\n" for i in range(300))
    path = tmp_path / "wide.csv"
    path.write_bytes(text.encode(codec))
    run = cli("train", path, "--target", "y")
    assert_one_line_error(run, f"looks like UTF-16 text {how}", "save it as UTF-8")
    assert "values, but" not in run.err


def test_binary_bytes_are_not_called_utf16(cli, tmp_path):
    path = tmp_path / "floats.csv"
    path.write_bytes(np.arange(2000, dtype=np.float32).tobytes())
    run = cli("train", path, "--target", "y")
    assert_one_line_error(run, "not UTF-8 text")
    assert "UTF-16" not in run.err


def test_a_nul_byte_in_a_text_cell_is_refused_with_its_line(cli, tmp_path):
    rows = [[i, "x\0" if i == 5 else ("x" if i % 2 else "z"), i % 2] for i in range(30)]
    path = write_csv(tmp_path / "nul.csv", ["a", "c", "y"], rows)
    run = cli("train", path, "--target", "y", "--epochs", "1")
    assert_one_line_error(run, "nul.csv, line 7", "NUL byte")


def test_python_literal_underscores_are_not_csv_numbers(cli, tmp_path):
    path = numbers_csv(tmp_path / "under.csv", special={3: "1_000"})
    run = cli("train", path, "--target", "y", "--epochs", "1")
    assert_one_line_error(run, "column 'a'", "line 5 has the text '1_000'")
    table = tabular.read_csv(
        write_csv(tmp_path / "t.csv", ["code"], [["1_000"], ["٣"], ["7"], ["x"]])
    )
    col = tabular.column(table, "code")
    assert not col.is_numeric and list(col.texts) == ["1_000", "٣", "7", "x"]


def test_out_of_memory_is_one_line_naming_the_file(cli, tmp_path, monkeypatch):
    path = numbers_csv(tmp_path / "people.csv")
    assert cli("train", path, "--target", "y", "--epochs", "1", "--output", "m.keras").code == 0

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.4 GiB for an array")

    monkeypatch.setattr(tabular, "read_csv", exhausted)
    run = cli("train", path, "--target", "y")
    assert_one_line_error(run, "out of memory in train on", "people.csv", "--drop", "fewer rows")
    run = cli("predict", "m.keras", path)
    assert_one_line_error(run, "out of memory in predict on")


# --- reading in chunks ------------------------------------------------------------------------


def test_chunks_give_the_same_table_as_one_read(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    rows = [
        [
            round(float(rng.normal()), 3),
            str(rng.choice(["p", "q"])),
            "" if i % 7 == 0 else int(rng.integers(0, 9)),
        ]
        for i in range(50)
    ]
    rows.insert(20, ["", "", ""])  # a blank row is skipped, and lines still count it
    path = write_csv(tmp_path / "t.csv", ["n", "t", "m"], rows)
    whole = tabular.read_csv(path)
    monkeypatch.setattr(tabular, "CHUNK_CELLS", 9)  # 3 rows a chunk
    chunked = tabular.read_csv(path)
    assert np.array_equal(whole.lines, chunked.lines)
    assert whole.lines[20] == 23
    for name in ("n", "t", "m"):
        a, b = tabular.column(whole, name), tabular.column(chunked, name)
        assert a.is_numeric == b.is_numeric
        assert np.array_equal(a.missing, b.missing)
        if a.is_numeric:
            assert np.array_equal(a.numbers[~a.missing], b.numbers[~b.missing])
    assert chunked.values["n"].dtype == np.float64
    assert chunked.values["t"].dtype == object


def test_a_column_with_text_after_chunks_of_numbers_keeps_its_cells(tmp_path, monkeypatch):
    cells = ["01", "2", "03", "4", "5", "06", "x", "y"]
    path = write_csv(tmp_path / "t.csv", ["code"], [[c] for c in cells])
    monkeypatch.setattr(tabular, "CHUNK_CELLS", 2)
    table = tabular.read_csv(path)
    assert list(table.values["code"]) == cells  # not 1.0, 2.0, ...: read again as text
    assert list(table.lines) == list(range(2, 10))


def test_columns_that_turn_to_text_in_different_chunks_are_read_in_two_passes(
    tmp_path, monkeypatch
):
    first = ["1", "2", "x", "4", "5", "6", "7", "8"]
    second = ["1", "2", "3", "4", "5", "y", "7", "08"]
    path = write_csv(
        tmp_path / "t.csv", ["p", "q"], [list(r) for r in zip(first, second, strict=True)]
    )
    monkeypatch.setattr(tabular, "CHUNK_CELLS", 4)  # 2 rows a chunk
    table = tabular.read_csv(path)
    assert list(table.values["p"]) == first
    assert list(table.values["q"]) == second


def test_a_bad_row_in_a_late_chunk_names_its_line(cli, tmp_path, monkeypatch):
    path = numbers_csv(tmp_path / "t.csv", rows=30)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("1,2\n")
    monkeypatch.setattr(tabular, "CHUNK_CELLS", 6)
    assert_one_line_error(
        cli("train", path, "--target", "y"),
        "t.csv, line 32: 2 values, but the header has 3 columns",
    )


# --- memory ---------------------------------------------------------------------------------

PROBE = """
import csv, sys, tracemalloc
from pathlib import Path
import glassnet.cli.tabular as tabular
from glassnet.cli import main
tabular.CHUNK_CELLS = 2**14
path, mode, out = sys.argv[1:4]
tracemalloc.start()
if mode == "rows":  # what a whole-file read holds at least: every row as strings
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
elif mode == "read":
    table = tabular.read_csv(Path(path))
else:
    code = main(["train", path, "--target", "y", "--epochs", "1", "--output", out,
                 "--verbose", "0"])
    assert code == 0, code
print(tracemalloc.get_traced_memory()[1])
"""


def _peak(path: Path, mode: str, tmp_path: Path) -> int:
    """Peak traced memory (bytes) of reading or training on ``path`` in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(Path(glassnet.__file__).parents[1]))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), mode, str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_reading_and_training_on_a_csv_file_use_a_few_times_its_size(tmp_path):
    """tracemalloc sees Python's strings and NumPy's arrays. A whole-file read holds every
    cell as a string: more than 8 times the file here (glassnet's old reader: 13 times).
    Read in chunks, the table is 8 bytes a number plus one chunk: under 2 times the file;
    training on it adds the float32 inputs and their split, under 5 times."""
    rng = np.random.default_rng(0)
    rows = 30_000
    x = rng.normal(size=(rows, 8)).round(6)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"x{i}" for i in range(8)] + ["y"])
        writer.writerows([*map(repr, r), t] for r, t in zip(x.tolist(), y.tolist(), strict=True))
    size = path.stat().st_size
    read_bound, train_bound = 2 * size, 5 * size
    whole = _peak(path, "rows", tmp_path)
    assert whole > train_bound, (whole, size)  # the bounds exclude a whole-file read
    read = _peak(path, "read", tmp_path)
    assert read < read_bound, (read, size)
    train = _peak(path, "train", tmp_path)
    assert train < train_bound, (train, size)
