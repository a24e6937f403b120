"""Every code block in README.md and docs/*.md runs, so the docs cannot drift from the code.

What runs:

* A ```` ```python ```` block is executed. All python blocks of one file run in order in one
  namespace (a later block may use what an earlier one defined), in a fresh temporary
  working folder, with matplotlib's non-interactive Agg backend.
* A ```` ```console ```` block holds shell sessions: each line ``$ glassnet ...`` (or
  ``$ python -m glassnet ...``) runs in-process through ``glassnet.cli.main`` in the same
  folder, in order with the file's python blocks. It must exit with status 0, unless the
  lines shown after it start with ``glassnet: error:``: then it must fail with exactly that
  message (a shown message may end in ``...`` to elide the rest). Any other command in a
  console block (``pip``, ``pytest``, ...) cannot run in a test, so such a block needs an
  opt-out marker.
* Other blocks (``bash``, ``text``, no language) are not run.

A block is left out only by a visible marker on the line before its fence (blank lines in
between are allowed)::

    <!-- not-tested: installs packages, which a test must not do -->

Each left-out block shows up as a skipped test with its place and reason (``pytest -ra``
lists them).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!--\s*not-tested:\s*(?P<reason>.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
RUN_LANGUAGES = ("python", "py", "console")
GLASSNET_COMMAND = re.compile(r"^(?:glassnet|python -m glassnet)(?:\s|$)")


@dataclass
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # line of the opening fence, counting from 1
    language: str
    code: str
    skip_reason: str | None

    @property
    def where(self) -> str:
        shown = self.path.relative_to(ROOT) if self.path.is_absolute() else self.path
        return f"{shown}:{self.line}"


def parse_blocks(text: str, path: Path = Path("<doc>")) -> list[Block]:
    """The fenced code blocks of a Markdown text, with their opt-out markers.

    Raises:
        ValueError: for a fence that is never closed.
    """
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].lower()
        start = i
        body = []
        i += 1
        while i < len(lines):
            closing = lines[i].strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                break
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        else:
            raise ValueError(f"{path}:{start + 1}: the code block opened here is never closed")
        blocks.append(Block(path, start + 1, info, textwrap.dedent("\n".join(body)) + "\n",
                            _marker_before(lines, start)))
        i += 1
    return blocks


def _marker_before(lines: list[str], fence_index: int) -> str | None:
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j >= 0:
        match = MARKER.search(lines[j])
        if match:
            return match["reason"] or "no reason given"
    return None


def doc_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    return [path for path in files if path.is_file()]


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.language in RUN_LANGUAGES]


def _all_blocks() -> list[Block]:
    blocks = []
    for path in doc_files():
        blocks += runnable(parse_blocks(path.read_text(encoding="utf-8"), path))
    return blocks


# --- running ---------------------------------------------------------------------------------


def _run_python(block: Block, namespace: dict) -> None:
    code = compile(block.code, block.where, "exec")
    exec(code, namespace)  # noqa: S102 - running the docs is the point of this test


def console_commands(block: Block) -> list[tuple[str, list[str]]]:
    """``(command, shown output lines)`` for each ``$`` line of a console block."""
    commands: list[tuple[str, list[str]]] = []
    pending = ""
    for line in block.code.splitlines():
        if pending or line.startswith("$ "):
            text = (pending + " " + line.strip()) if pending else line[2:].strip()
            if text.endswith("\\"):
                pending = text[:-1].strip()
                continue
            pending = ""
            commands.append((text, []))
        elif commands:
            commands[-1][1].append(line)
    return commands


def _run_console(block: Block) -> None:
    from glassnet.cli import main

    for command, shown in console_commands(block):
        if not GLASSNET_COMMAND.match(command):
            raise AssertionError(
                f"{block.where}: `{command}` is not a glassnet command and cannot run in a "
                "test; put <!-- not-tested: reason --> before this block")
        words = shlex.split(command, comments=True)
        argv = words[3:] if words[0] == "python" else words[1:]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        errors = [line for line in shown if line.startswith("glassnet: error:")]
        if errors:
            expected = errors[0]
            got = err.getvalue().strip()
            assert code == 1, f"{block.where}: `{command}` should fail, exited {code}"
            if expected.endswith("..."):
                assert got.startswith(expected[:-3].rstrip()), (block.where, got)
            else:
                assert got == expected, (block.where, got)
        else:
            assert code == 0, (f"{block.where}: `{command}` exited {code}:\n"
                               f"{err.getvalue()}{out.getvalue()[-2000:]}")


@pytest.fixture
def doc_sandbox(tmp_path, monkeypatch):
    """A temporary working folder and the Agg backend; figures are closed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    try:
        import matplotlib
    except ImportError:
        yield tmp_path
        return
    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive.*")
        yield tmp_path
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("path", [p for p in doc_files() if runnable(parse_blocks(
    p.read_text(encoding="utf-8"), p))], ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_code_blocks_run(path, doc_sandbox, capsys):
    namespace: dict = {"__name__": "__doc_test__"}
    for block in runnable(parse_blocks(path.read_text(encoding="utf-8"), path)):
        if block.skip_reason is not None:
            continue
        if block.language == "console":
            _run_console(block)
        else:
            _run_python(block, namespace)


@pytest.mark.parametrize("block", [b for b in _all_blocks() if b.skip_reason is not None],
                         ids=lambda b: b.where)
def test_blocks_left_out_of_the_doc_tests(block):
    pytest.skip(f"{block.where} not tested: {block.skip_reason}")


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(path):
    text = path.read_text(encoding="utf-8")
    broken = []
    for match in LINK.finditer(text):
        target = match["target"].split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue  # an anchor on the same page, or a web address
        if not (path.parent / target).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"


# --- the parser itself ---------------------------------------------------------------------


def test_parser_finds_blocks_languages_markers_and_indented_fences():
    text = textwrap.dedent("""\
        Intro.

        ```python
        x = 1
        ```

        <!-- not-tested: needs a network -->

        ```python
        download()
        ```

        1. In a list:

           ```console
           $ glassnet demo
           ```

        ````text
        ```python
        not a block of its own
        ```
        ````
        """)
    blocks = parse_blocks(text)
    assert [(b.line, b.language, b.skip_reason) for b in blocks] == [
        (3, "python", None), (9, "python", "needs a network"), (15, "console", None),
        (19, "text", None)]
    assert blocks[0].code == "x = 1\n"
    assert blocks[2].code == "$ glassnet demo\n"
    assert "not a block of its own" in blocks[3].code


def test_parser_refuses_an_unclosed_fence():
    with pytest.raises(ValueError, match="never closed"):
        parse_blocks("```python\nx = 1\n")


def test_console_commands_with_continuations_and_shown_output():
    block = Block(Path("x.md"), 1, "console",
                  "$ glassnet train wages \\\n    --epochs 2\nsome output\n$ glassnet demo\n", None)
    assert console_commands(block) == [("glassnet train wages --epochs 2", ["some output"]),
                                       ("glassnet demo", [])]


def test_a_shown_error_must_be_the_real_error(doc_sandbox):
    good = Block(Path("x.md"), 1, "console",
                 "$ glassnet train nothing.csv --target y\n"
                 "glassnet: error: no such file: nothing.csv\n", None)
    _run_console(good)
    elided = Block(Path("x.md"), 1, "console",
                   "$ glassnet train nothing.csv --target y\nglassnet: error: no such ...\n", None)
    _run_console(elided)
    wrong = Block(Path("x.md"), 1, "console",
                  "$ glassnet train nothing.csv --target y\nglassnet: error: something else\n",
                  None)
    with pytest.raises(AssertionError):
        _run_console(wrong)
    not_glassnet = Block(Path("x.md"), 1, "console", "$ pip install glassnet\n", None)
    with pytest.raises(AssertionError, match="not a glassnet command"):
        _run_console(not_glassnet)
