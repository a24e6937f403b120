"""Every code block in README.md and docs/*.md runs and prints what the docs show.

What runs:

* A ```` ```python ```` block is executed. All python blocks of one file run in order in one
  namespace (a later block may use what an earlier one defined), in a fresh temporary
  working folder, with matplotlib's non-interactive Agg backend.
* A ```` ```console ```` block holds shell sessions: each line ``$ glassnet ...`` (or
  ``$ python -m glassnet ...``) runs in-process through ``glassnet.cli.main`` in the same
  folder, in order with the file's python blocks. It must exit with status 0, unless the
  lines shown after it hold a line starting with ``glassnet: error:``: then it must exit
  with status 1. Any other command in a console block (``pip``, ``pytest``, ...) cannot run
  in a test, so such a block needs an opt-out marker.
* Other blocks (``bash``, ``text``, no language) are not run.

What the docs show as output, and how it is compared:

* A ```` ```text ```` block directly after a python block (nothing but blank lines between
  the two) shows everything that python block prints to standard output, in full.
* A comment ``# prints X`` at the end of a line of a python block shows what that line's
  ``print`` call writes: one call, one line of output.
* In a console block, the lines after a ``$`` line, up to the next ``$`` line, show what the
  command writes: its standard output, then its standard error. A command with no lines
  after it shows nothing, and nothing is compared for it.
* A shown line ``...`` stands for any number of printed lines (none included); a shown line
  that ends in `` ...`` stands for a printed line that starts with what comes before the
  ``...``.

Trailing spaces and leading and trailing blank lines are ignored, and runs of spaces count
as one space (a table's columns move when a number in them gets wider). Then, in both the
shown and the printed text:

* **Timings are masked.** A number followed by a unit of time (``0.2 s``, ``12ms/step``,
  ``1.3 s/epoch``, ``250 µs``, ``3 min``) becomes ``<time>``: a run takes as long as the
  machine makes it take.
* **Numbers are compared with a relative tolerance of 1e-3** (``RTOL``; no absolute
  tolerance, so a shown 0 must print as 0), **or one unit in the last decimal shown** (a
  shown ``3.29`` accepts ``3.28`` to ``3.30``: the printed number was rounded the other way).
  A number without decimals (a count, or NumPy's ``52.``) gets only the relative tolerance,
  so below 1000 it must be exact: rows, epochs, parameters, the course's integer cases. A
  number is a run of digits with an optional sign, decimal point and exponent that is not
  part of a word (the ``3`` of ``relu_3`` or ``W3`` is text). Everything else is text and
  must be equal.

Why a tolerance: numbers that a training run prints depend on the last bits of every matrix
product and every ``tanh`` or ``exp``, which differ between CPUs, BLAS builds and NumPy's
SIMD paths (see docs/reliability.md). Switching OpenBLAS's kernels (``OPENBLAS_CORETYPE`` =
Haswell, Sandybridge, Nehalem), NumPy's SIMD paths (``NPY_DISABLE_CPU_FEATURES`` down to the
x86-64-v2 baseline) and the thread count changed no early-stopping epoch and no shown number
but one: without AVX2 the course's ``2·tanh 3 − tanh 9`` prints as ``0.9901095378334199``
(the correctly rounded value) instead of ``0.99010953783342``. Unrounded, the validation
loss of ``glassnet train wages`` moved by 3e-8 relative. A tenth of a percent leaves room
for other machines and still catches any shown number that is not what the code prints.

A block is left out only by a visible marker on the line before its fence (blank lines in
between are allowed)::

    <!-- not-tested: installs packages, which a test must not do -->

and a ```` ```text ```` block that is not directly after a python block that runs (say, the
output of an example script) must say why it is not compared::

    <!-- not-compared: the output of examples/x.py, which takes a minute -->

Each left-out block and each output block not compared shows up as a skipped test with its
place and reason (``pytest -ra`` lists them); a text block that is neither compared nor
marked fails ``test_every_output_block_is_compared_or_listed``.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import math
import re
import shlex
import sys
import textwrap
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!--\s*(?P<kind>not-tested|not-compared):\s*(?P<reason>.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
RUN_LANGUAGES = ("python", "py", "console")
PYTHON = ("python", "py")
OUTPUT_LANGUAGE = "text"
GLASSNET_COMMAND = re.compile(r"^(?:glassnet|python -m glassnet)(?:\s|$)")

RTOL = 1e-3
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")
DURATION = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ms|µs|us|ns|s|min)(?:/(?:step|epoch|sample))?(?!\w)"
)
PRINTS = re.compile(r"^#\s*prints\s(?P<shown>.*?)\s*$")
ELLIPSIS = "..."


@dataclass
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # line of the opening fence, counting from 1
    language: str
    code: str
    skip_reason: str | None
    # True when only blank lines separate this block's fence from the previous block's end
    follows_previous: bool = False
    not_compared: str | None = None  # the reason of a <!-- not-compared: ... --> marker

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
    previous_end = None  # index of the previous block's closing fence
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
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        else:
            raise ValueError(f"{path}:{start + 1}: the code block opened here is never closed")
        follows = previous_end is not None and all(
            not line.strip() for line in lines[previous_end + 1 : start]
        )
        kind, reason = _marker_before(lines, start)
        blocks.append(
            Block(
                path,
                start + 1,
                info,
                textwrap.dedent("\n".join(body)) + "\n",
                reason if kind == "not-tested" else None,
                follows_previous=follows,
                not_compared=reason if kind == "not-compared" else None,
            )
        )
        previous_end = i
        i += 1
    return blocks


def _marker_before(lines: list[str], fence_index: int) -> tuple[str | None, str | None]:
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j >= 0:
        match = MARKER.search(lines[j])
        if match:
            return match["kind"], match["reason"] or "no reason given"
    return None, None


def doc_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    return [path for path in files if path.is_file()]


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.language in RUN_LANGUAGES]


def shown_outputs(blocks: list[Block]) -> dict[int, Block]:
    """``{index of a python block: the text block that shows its output}``."""
    return {
        k: blocks[k + 1]
        for k, block in enumerate(blocks[:-1])
        if block.language in PYTHON
        and blocks[k + 1].language == OUTPUT_LANGUAGE
        and blocks[k + 1].follows_previous
    }


def uncompared_outputs(blocks: list[Block]) -> list[tuple[Block, str | None]]:
    """The text blocks no test compares, with the reason given for each (None: no reason)."""
    compared = {
        id(text) for k, text in shown_outputs(blocks).items() if blocks[k].skip_reason is None
    }
    out = []
    for k, block in enumerate(blocks):
        if block.language != OUTPUT_LANGUAGE or id(block) in compared:
            continue
        reason = block.not_compared
        if reason is None and k > 0 and block.follows_previous and blocks[k - 1].skip_reason:
            reason = f"the output of {blocks[k - 1].where}, not tested: {blocks[k - 1].skip_reason}"
        out.append((block, reason))
    return out


def _blocks_of(path: Path) -> list[Block]:
    return parse_blocks(path.read_text(encoding="utf-8"), path)


def _all_blocks() -> list[Block]:
    return [block for path in doc_files() for block in _blocks_of(path)]


# --- comparing shown and printed output ------------------------------------------------------


def _tokens(line: str) -> list[tuple[str, str]]:
    """``("text", words)`` and ``("number", digits)`` pieces of a line, timings masked."""
    line = " ".join(DURATION.sub("<time>", line).split())
    tokens, at = [], 0
    for match in NUMBER.finditer(line):
        if match.start() > at:
            tokens.append(("text", line[at : match.start()]))
        tokens.append(("number", match.group()))
        at = match.end()
    if at < len(line):
        tokens.append(("text", line[at:]))
    return tokens


def _same_token(shown: tuple[str, str], printed: tuple[str, str], prefix: bool = False) -> bool:
    if shown[0] != printed[0]:
        return False
    if shown[0] == "text":
        return printed[1].startswith(shown[1]) if prefix else printed[1] == shown[1]
    a, b = float(shown[1]), float(printed[1])
    if a == b or math.isclose(a, b, rel_tol=RTOL, abs_tol=0.0):
        return True
    # One unit in the shown number's last decimal: the printed number was rounded the other
    # way. Numbers without decimals (counts, "52.") get no such leeway.
    mantissa, _, exponent = shown[1].lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return decimals > 0 and abs(a - b) <= 10.0 ** (int(exponent or 0) - decimals) * (1 + 1e-9)


def line_matches(shown: str, printed: str) -> bool:
    """Whether a printed line is what a shown line shows (see the module's docstring)."""
    prefix = shown.endswith(" " + ELLIPSIS)
    want = _tokens(shown[: -len(ELLIPSIS)].rstrip() if prefix else shown)
    got = _tokens(printed)
    if prefix:
        if len(got) < len(want):
            return False
        last = len(want) - 1
        return all(
            _same_token(w, g, prefix=(k == last and w[0] == "text"))
            for k, (w, g) in enumerate(zip(want, got, strict=False))
        )
    return len(got) == len(want) and all(map(_same_token, want, got))


def _tidy(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()] if text.strip() else []


def output_matches(shown: str | list[str], printed: str | list[str]) -> bool:
    """Whether printed output is what shown output shows, ``...`` lines standing for any."""
    want = _tidy(shown) if isinstance(shown, str) else [line.rstrip() for line in shown]
    got = _tidy(printed) if isinstance(printed, str) else [line.rstrip() for line in printed]
    while want and not want[-1]:
        want.pop()

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i].strip() == ELLIPSIS:
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and line_matches(want[i], got[j]) and match(i + 1, j + 1)

    return match(0, 0)


def _mismatch(where: str, what: str, shown: str, printed: str) -> str:
    return (
        f"{where}: {what} prints\n{textwrap.indent(printed.rstrip(), '    | ')}\n"
        f"but the doc shows\n{textwrap.indent(shown.rstrip(), '    | ')}"
    )


# --- running ---------------------------------------------------------------------------------


def inline_outputs(block: Block) -> dict[int, str]:
    """``{line of the block (from 1): shown output}`` for each ``# prints ...`` comment."""
    found = {}
    readline = io.StringIO(block.code).readline
    for token in tokenize.generate_tokens(readline):
        if token.type == tokenize.COMMENT:
            match = PRINTS.match(token.string)
            if match:
                found[token.start[0]] = match["shown"]
    return found


def _run_python(block: Block, namespace: dict) -> tuple[str, dict[int, list[str]]]:
    """Runs a python block; returns what it printed, and what each ``# prints`` line printed."""
    code = compile(block.code, block.where, "exec")
    watched = inline_outputs(block)
    by_line: dict[int, list[str]] = {}

    def recording_print(*args, **kwargs):
        frame = sys._getframe(1)
        if (
            kwargs.get("file") in (None, sys.stdout)
            and frame.f_code.co_filename == block.where
            and frame.f_lineno in watched
        ):
            text = io.StringIO()
            builtins.print(*args, **{**kwargs, "file": text})
            by_line.setdefault(frame.f_lineno, []).append(text.getvalue())
        builtins.print(*args, **kwargs)

    if watched:
        namespace["print"] = recording_print
    else:
        namespace.pop("print", None)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)  # noqa: S102 - running the docs is the point of this test
    finally:
        namespace.pop("print", None)
    return printed.getvalue(), by_line


def check_python(block: Block, namespace: dict, shown: Block | None) -> list[str]:
    """Runs a python block and compares what it prints; returns the mismatches."""
    printed, by_line = _run_python(block, namespace)
    problems = []
    if shown is not None and not output_matches(shown.code, printed):
        problems.append(_mismatch(shown.where, f"the block at {block.where}", shown.code, printed))
    for line, expected in inline_outputs(block).items():
        where = f"{block.where.rpartition(':')[0]}:{block.line + line}"
        calls = by_line.get(line, [])
        if len(calls) != 1:
            problems.append(
                f"{where}: a `# prints` line must print exactly once; it printed {len(calls)} times"
            )
        elif not output_matches([expected], calls[0].splitlines()):
            problems.append(_mismatch(where, "this line", expected, calls[0]))
    return problems


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


def _run_console(block: Block) -> list[str]:
    """Runs a console block's commands; returns the mismatches between shown and printed."""
    from glassnet.cli import main

    problems = []
    for command, shown in console_commands(block):
        if not GLASSNET_COMMAND.match(command):
            raise AssertionError(
                f"{block.where}: `{command}` is not a glassnet command and cannot run in a "
                "test; put <!-- not-tested: reason --> before this block"
            )
        words = shlex.split(command, comments=True)
        argv = words[3:] if words[0] == "python" else words[1:]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        printed = out.getvalue() + err.getvalue()
        if any(line.startswith("glassnet: error:") for line in shown):
            assert code == 1, f"{block.where}: `{command}` should fail, exited {code}"
        else:
            assert code == 0, f"{block.where}: `{command}` exited {code}:\n{printed[-2000:]}"
        if shown and not output_matches(shown, printed):
            problems.append(_mismatch(block.where, f"`{command}`", "\n".join(shown), printed))
    return problems


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


def run_doc(path: Path) -> list[str]:
    """Runs every block of one doc file in order; returns every shown output that is wrong."""
    namespace: dict = {"__name__": "__doc_test__"}
    blocks = _blocks_of(path)
    outputs = shown_outputs(blocks)
    problems = []
    for k, block in enumerate(blocks):
        if block.language not in RUN_LANGUAGES or block.skip_reason is not None:
            continue
        if block.language == "console":
            problems += _run_console(block)
        else:
            problems += check_python(block, namespace, outputs.get(k))
    return problems


@pytest.mark.parametrize(
    "path",
    [p for p in doc_files() if runnable(_blocks_of(p))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_doc_code_blocks_run_and_print_what_the_doc_shows(path, doc_sandbox):
    problems = run_doc(path)
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize(
    "block", [b for b in _all_blocks() if b.skip_reason is not None], ids=lambda b: b.where
)
def test_blocks_left_out_of_the_doc_tests(block):
    pytest.skip(f"{block.where} not tested: {block.skip_reason}")


@pytest.mark.parametrize(
    ("block", "reason"),
    [(b, r) for p in doc_files() for b, r in uncompared_outputs(_blocks_of(p)) if r],
    ids=lambda value: value.where if isinstance(value, Block) else "",
)
def test_output_blocks_not_compared(block, reason):
    pytest.skip(f"{block.where} not compared: {reason}")


def test_every_output_block_is_compared_or_listed():
    unlisted = [
        b.where
        for p in doc_files()
        for b, reason in uncompared_outputs(_blocks_of(p))
        if not reason
    ]
    assert not unlisted, (
        f"these text blocks show output that no test compares: {unlisted}; put them directly "
        "after the python block that prints them, or <!-- not-compared: reason --> before them"
    )


def test_the_docs_show_outputs_that_get_compared():
    # The comparison must have something to compare: text blocks, console output, `# prints`.
    blocks = _all_blocks()
    texts = sum(len(shown_outputs(_blocks_of(p))) for p in doc_files())
    consoles = sum(
        1
        for b in blocks
        if b.language == "console" and b.skip_reason is None
        for _, shown in console_commands(b)
        if shown
    )
    inline = sum(len(inline_outputs(b)) for b in blocks if b.language in PYTHON)
    assert texts >= 15 and consoles >= 10 and inline >= 10, (texts, consoles, inline)


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


# --- the parser and the comparison themselves ------------------------------------------------


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
        (3, "python", None),
        (9, "python", "needs a network"),
        (15, "console", None),
        (19, "text", None),
    ]
    assert blocks[0].code == "x = 1\n"
    assert blocks[2].code == "$ glassnet demo\n"
    assert "not a block of its own" in blocks[3].code


def test_parser_refuses_an_unclosed_fence():
    with pytest.raises(ValueError, match="never closed"):
        parse_blocks("```python\nx = 1\n")


def test_a_text_block_right_after_a_python_block_is_its_output():
    text = textwrap.dedent("""\
        ```python
        print(1)
        ```

        ```text
        1
        ```

        Words.

        ```text
        2
        ```

        <!-- not-compared: the output of a script -->

        ```text
        3
        ```
        """)
    blocks = parse_blocks(text)
    assert {k: b.code for k, b in shown_outputs(blocks).items()} == {0: "1\n"}
    assert [(b.code, reason) for b, reason in uncompared_outputs(blocks)] == [
        ("2\n", None),
        ("3\n", "the output of a script"),
    ]


def test_numbers_within_the_tolerance_match_and_others_do_not():
    assert output_matches("loss 17.22 · mae 2.922", "loss 17.2214 · mae 2.92188")
    assert not output_matches("loss 17.22 · mae 2.922", "loss 17.42 · mae 2.922")
    assert not output_matches("stopped after 70 of 100 epochs", "stopped after 71 of 100 epochs")
    assert output_matches("[[26. 0.]] [[182.]]", "[[26.  0.]] [[182.]]")  # spaces
    assert output_matches("-39 52", "-39.0 52.0")
    assert not output_matches("-39 52", "39.0 52.0")
    assert not output_matches("0", "1e-12")
    assert not output_matches("loss 17.22", "loss 17.22 · mae 2.922")  # a whole line
    assert not output_matches("relu_3", "relu_4")  # a digit in a word is text
    assert not output_matches("a\nb", "a\nb\nc")  # every line


def test_a_number_rounded_the_other_way_matches_but_no_further():
    assert output_matches("mae 3.29", "mae 3.30")  # one unit in the last decimal shown
    assert not output_matches("mae 3.29", "mae 3.31")
    assert output_matches("0.12", "0.13") and not output_matches("0.12", "0.14")
    assert output_matches("1.5e-06", "1.6e-06") and not output_matches("1.5e-06", "1.7e-06")
    assert not output_matches("[ 52. 63.]", "[ 53. 63.]")  # no decimal shown: no leeway
    assert not output_matches("epoch 65", "epoch 66")


def test_timings_are_masked_and_ellipses_elide():
    assert output_matches("ran all 100 epochs in 0.2 s; kept", "ran all 100 epochs in 1.57 s; kept")
    assert output_matches("12ms/step - loss: 0.5", "340ms/step - loss: 0.5")
    assert not output_matches("ran all 100 epochs in 0.2 s", "ran all 99 epochs in 0.2 s")
    assert output_matches("first\n...", "first\nsecond\nthird")
    assert output_matches("first\n...\nlast", "first\nlast")
    assert not output_matches("first\n...\nlast", "first\nsecond")
    assert output_matches("error: no such ...", "error: no such file: x.csv")
    assert not output_matches("error: no file ...", "error: no such file: x.csv")


def test_console_commands_with_continuations_and_shown_output():
    block = Block(
        Path("x.md"),
        1,
        "console",
        "$ glassnet train wages \\\n    --epochs 2\nsome output\n$ glassnet demo\n",
        None,
    )
    assert console_commands(block) == [
        ("glassnet train wages --epochs 2", ["some output"]),
        ("glassnet demo", []),
    ]


def test_a_shown_error_must_be_the_real_error(doc_sandbox):
    def console(text):
        return Block(Path("x.md"), 1, "console", text, None)

    command = "$ glassnet train nothing.csv --target y\n"
    assert _run_console(console(command + "glassnet: error: no such file: nothing.csv\n")) == []
    assert _run_console(console(command + "glassnet: error: no such ...\n")) == []
    wrong = _run_console(console(command + "glassnet: error: something else\n"))
    assert len(wrong) == 1 and "no such file: nothing.csv" in wrong[0]
    with pytest.raises(AssertionError, match="should fail"):
        _run_console(console("$ glassnet summary\nglassnet: error: something\n"))
    with pytest.raises(AssertionError, match="not a glassnet command"):
        _run_console(console("$ pip install glassnet\n"))


def test_a_python_block_must_print_what_its_text_block_and_comments_show(doc_sandbox):
    code = Block(Path("x.md"), 1, "python", "x = 6\nprint(x * 7)  # prints 42\nprint('a')\n", None)
    right = Block(Path("x.md"), 6, "text", "42\na\n", None)
    assert check_python(code, {}, right) == []
    wrong = Block(Path("x.md"), 6, "text", "42\nb\n", None)
    assert len(check_python(code, {}, wrong)) == 1
    bad_comment = Block(Path("x.md"), 1, "python", "print(6 * 7)  # prints 43\n", None)
    assert "x.md:2" in check_python(bad_comment, {}, None)[0]
    in_a_loop = Block(
        Path("x.md"), 1, "python", "for i in (1, 1):\n    print(i)  # prints 1\n", None
    )
    assert "exactly once" in check_python(in_a_loop, {}, None)[0]
