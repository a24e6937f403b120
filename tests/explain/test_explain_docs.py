"""Every code block of ``docs/glass-box.md`` runs, and every printed output shown in the guide
is what the code prints; the walkthrough example runs and draws its pictures.

A ```` ```python ```` block followed directly by a ```` ```text ```` block must print that
text, with numbers compared as ``tests/test_docs.py`` compares them (``output_matches``: the
last bits of a ``tanh`` differ between CPUs, e.g. 2·tanh 3 − tanh 9 prints as
0.99010953783342 with NumPy's AVX-512 ``tanh`` and 0.9901095378334199 without AVX2). The
blocks run in order, in one namespace, in a temporary folder (the guide saves its pictures
under ``images/``).

To regenerate the guide's pictures in ``docs/images`` and refresh its printed outputs::

    python tests/explain/test_explain_docs.py --write
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import sys
from pathlib import Path

import pytest
from test_docs import output_matches

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "glass-box.md"
WALKTHROUGH = ROOT / "examples" / "glass_box_walkthrough.py"
_FENCE = re.compile(r"```(python|text)\n(.*?)```\n", re.S)


def blocks(text: str) -> list[tuple[str, str | None, tuple[int, int] | None]]:
    """``(code, expected output or None, span of the output block)`` for each python block."""
    found = list(_FENCE.finditer(text))
    out = []
    for k, match in enumerate(found):
        if match.group(1) != "python":
            continue
        following = found[k + 1] if k + 1 < len(found) else None
        if following is not None and following.group(1) == "text" and \
                text[match.end():following.start()].strip() == "":
            out.append((match.group(2), following.group(2), following.span(2)))
        else:
            out.append((match.group(2), None, None))
    return out


def run_guide(folder: Path) -> list[tuple[str, str | None, tuple[int, int] | None, str]]:
    """Runs every block in ``folder``; returns the blocks with what each printed."""
    namespace: dict = {"__name__": "__guide__"}
    results = []
    here = Path.cwd()
    os.chdir(folder)
    try:
        for number, (code, expected, span) in enumerate(blocks(GUIDE.read_text()), 1):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"{GUIDE.name} block {number}", "exec"), namespace)
            results.append((code, expected, span, printed.getvalue()))
    finally:
        os.chdir(here)
    return results


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def test_every_block_of_the_guide_runs_and_prints_what_it_shows(tmp_path):
    pytest.importorskip("matplotlib")
    results = run_guide(tmp_path)
    assert len(results) >= 10
    compared = 0
    for code, expected, _, printed in results:
        if expected is not None:
            assert output_matches(expected, printed), f"block:\n{code}\nprinted:\n{printed}"
            compared += 1
    assert compared >= 8
    pictures = sorted(p.name for p in (tmp_path / "images").glob("*.png"))
    shown = sorted(set(re.findall(r"\(images/([\w-]+\.png)\)", GUIDE.read_text())))
    assert pictures == shown  # every picture shown is made by the guide's code, and kept
    assert all((ROOT / "docs" / "images" / name).is_file() for name in shown)


def test_walkthrough_runs_chapters_1_and_2(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "pictures"
    argv = sys.argv
    sys.argv = [str(WALKTHROUGH), str(out)]
    try:
        runpy.run_path(str(WALKTHROUGH), run_name="__main__")
    finally:
        sys.argv = argv
    printed = capsys.readouterr().out
    for expected in ("prediction: 9", "prediction: -39", "prediction: 52",
                     "predictions: [52.0, 63.0, 0.0, 148.0]", "prediction: 182",
                     "slope of the loss at the prediction: -8", "2.24",
                     "error: 5 -> 2.5", "node_1_1 -> output      2           3"):
        assert expected in printed, expected
    # 2·tanh 5 − tanh 1 and 2·tanh 3 − tanh 9, to the last bit or two of the CPU's tanh
    digits = [float(v) for v in re.findall(r"to the last digit: ([\d.]+)", printed)]
    assert digits == pytest.approx([1.2382242525694254, 0.99010953783342], rel=1e-15, abs=0)
    assert len(list(out.glob("*.png"))) == 8


def _write() -> None:
    """Regenerates ``docs/images`` and rewrites the guide's output blocks."""
    text = GUIDE.read_text()
    results = run_guide(GUIDE.parent)
    for _, _, span, printed in reversed(results):
        if span is not None:
            text = text[:span[0]] + printed + text[span[1]:]
    GUIDE.write_text(text)
    print(f"rewrote {GUIDE} and the pictures in {GUIDE.parent / 'images'}")


if __name__ == "__main__":
    if "--write" in sys.argv:
        _write()
    else:
        print(__doc__)
