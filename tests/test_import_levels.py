"""glassnet's imports run one way: from the bottom level up, never down, and no circle.

Every package (or top-level module) of glassnet has a level; a module may import from its
own level or below. The import statements are read from the source with ``ast``, those
inside functions included (an import moved into a function to dodge a circle is still a
dependency), those under ``if TYPE_CHECKING:`` left out (they never run). The levels are
those of the design: the tape at the bottom, then the maths, layers, callbacks, trainers,
models, saving, explain, and the front doors.

Two public namespaces sit at the top because they gather names from several levels, as
Keras's ``keras.models`` and ``keras.callbacks`` do: ``glassnet.models`` (the model from
``glassnet.engine``, ``load_model`` from ``glassnet.saving``) and ``glassnet.callbacks`` (the
loop's own callbacks from ``glassnet.trainers``, the glass box's ``Diagnostics`` from
``glassnet.explain``). The model's file methods reach ``glassnet.saving`` through
``glassnet._file_hooks``, which saving fills when it is imported.

``UPWARD`` would list imports that still go up, each with its reason; the test fails when a
new one appears and when a listed one is gone (so that the list only shrinks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import glassnet

PACKAGE = Path(glassnet.__file__).resolve().parent

LEVELS = {
    0: {"config", "errors", "_registry", "_rowwise", "_arrays", "_checks", "_file_hooks"}
    | {"_scopes", "_scatter", "_compiled"}
    | {"naming", "utils", "backend"},
    1: {"ops"},
    2: {"activations", "initializers", "regularizers", "constraints", "losses", "metrics"}
    | {"optimizers"},
    3: {"layers"},
    4: set(),  # the training loop's callbacks are in trainers; see the module docstring
    5: {"trainers"},
    6: {"engine"},
    7: {"saving"},
    8: {"explain"},
    9: {"models", "callbacks", "data", "datasets", "sklearn", "experiments", "distributed", "cli"}
    | {"__main__", ""},
}
LEVEL_OF = {part: level for level, parts in LEVELS.items() for part in parts}

#: Imports that go up a level, as (importing part, imported part): reason. None are left.
UPWARD: dict[tuple[str, str], str] = {}


def part_of(path: Path) -> str:
    """The package or top-level module a source file belongs to ("" for glassnet itself)."""
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:
        return "" if rel.stem == "__init__" else rel.stem
    return rel.parts[0]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def imported_parts(path: Path, module_level_only: bool = False) -> dict[str, int]:
    """The glassnet parts ``path`` imports, each with the line of one import of it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    nodes = tree.body if module_level_only else ast.walk(tree)
    found: dict[str, int] = {}
    # the package a relative import starts from: glassnet/layers for layers/dense.py and
    # for layers/__init__.py alike
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    for node in nodes:
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [module]
            if module == "glassnet":
                names = [f"glassnet.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "glassnet" and len(parts) > 1 and parts[1] in LEVEL_OF:
                found.setdefault(parts[1], node.lineno)
    return found


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_glassnet_has_a_level():
    parts = {part_of(path) for path in sources()}
    assert parts - set(LEVEL_OF) == set(), "give each new package a level in LEVELS"


def test_imports_never_go_up_a_level_but_the_listed_ones():
    upward: dict[tuple[str, str], str] = {}
    for path in sources():
        src = part_of(path)
        for dst, line in imported_parts(path).items():
            if dst != src and LEVEL_OF[dst] > LEVEL_OF[src]:
                upward.setdefault((src, dst), f"{path.relative_to(PACKAGE)}:{line}")
    new = {edge: where for edge, where in upward.items() if edge not in UPWARD}
    assert new == {}, "imports that go up a level (glassnet's levels are in LEVELS)"
    gone = set(UPWARD) - set(upward)
    assert gone == set(), "these listed upward imports are gone: remove them from UPWARD"


def test_no_circle_between_packages_at_import_time():
    graph: dict[str, set[str]] = {}
    for path in sources():
        src = part_of(path)
        targets = set(imported_parts(path, module_level_only=True)) - {src}
        graph.setdefault(src, set()).update(targets)
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    circles.append(trail + [start])
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
    assert circles == []


def test_the_check_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    """The reader finds imports in functions and skips TYPE_CHECKING blocks, so the tests
    above can fail."""
    module = PACKAGE / "layers" / "dense.py"
    found = imported_parts(module)
    assert "ops" in found and "models" not in found
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from glassnet.explain import trace\n"
        "def f():\n    from glassnet.models import Sequential\n"
    )
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path)
    assert set(imported_parts(probe)) == {"models"}


def test_file_methods_reach_saving_through_the_models_namespace(tmp_path):
    """``model.save`` works for every model a user reaches through ``glassnet.models``, and
    a model built from ``glassnet.engine`` alone says what to import instead of failing
    obscurely (it runs in a fresh process, where nothing has imported saving yet)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from glassnet.engine import Sequential\n"
        "from glassnet.layers import Dense\n"
        "assert 'glassnet.saving' not in sys.modules\n"
        "model = Sequential([Dense(1, input_shape=(2,))])\n"
        "try:\n"
        f"    model.save({str(tmp_path / 'a.keras')!r})\n"
        "except RuntimeError as error:\n"
        "    print('refused:', error)\n"
        "import glassnet.models\n"
        f"model.save({str(tmp_path / 'b.keras')!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "refused: save_model needs glassnet.saving: import glassnet.models" in result.stdout
    assert (tmp_path / "b.keras").is_file() and not (tmp_path / "a.keras").exists()
