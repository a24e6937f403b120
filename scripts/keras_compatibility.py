"""Generate docs/compatibility.md: every public name of Keras 3 and whether glassnet has it.

This is a development tool. It has two halves:

1. **Keras's names** (needs Keras 3): walk Keras's public namespaces (``keras.layers``,
   ``keras.losses``, ... ``keras.config``, and the top level ``keras``), list each public
   name with ``dir()`` (private names and submodules left out; ``keras.datasets`` is the
   exception, whose public names *are* submodules, so their functions are listed as
   ``mnist.load_data`` and so on), note its kind (class, function or constant) and, for
   classes and functions, the names of its arguments. They are stored in
   ``tests/fixtures/keras_public_names.json``, so that the table can be rebuilt and checked
   on a machine without Keras.
2. **The table** (needs only glassnet): for each stored name, look up glassnet's
   counterpart (``glassnet.<namespace>.<name>``; the top-level names at ``glassnet.<name>``)
   and classify it:

   * ``✔``: it exists and is the same kind (a class where Keras has a class, a function
     where Keras has a function), and a class's constructor accepts every argument name
     that Keras's constructor names. Catch-alls are ignored on both sides: Keras's
     ``**kwargs`` asks for nothing, and glassnet's is no proof that a name is understood,
     except that a glassnet constructor with ``**kwargs`` also accepts the names of the
     next constructor up its bases (the usual ``super().__init__(**kwargs)``);
   * ``partial``: it exists, but is another kind, or its constructor lacks some of Keras's
     argument names (listed in the note);
   * ``✗``: it does not exist; the note says why, from the hand-kept ``FAMILIES`` and
     ``NOTES`` below (``not yet implemented`` when neither names it).

   Names in the families that issue 18 leaves out of its goal (convolution and pooling,
   recurrence, attention, image and audio preprocessing, and the wrappers of other
   backends' code) are counted apart: the summary's percentage is the share of ``✔``
   among the other names.

Usage::

    python scripts/keras_compatibility.py              # with Keras: refresh the JSON and the page
    python scripts/keras_compatibility.py --from-json  # no Keras needed: the page from the JSON
    python scripts/keras_compatibility.py --check      # exit 1 when a file would change

The page carries the date it was generated; it is kept from the existing page unless
``--date`` gives another, so that regenerating unchanged code gives the same bytes.
``tests/test_compatibility_table.py`` fails when the page and the code disagree.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import json
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "compatibility.md"
NAMES_JSON = ROOT / "tests" / "fixtures" / "keras_public_names.json"

TOP = "keras"  # the namespace key of Keras's top-level names
NAMESPACES = (
    TOP,
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "optimizers.schedules",
    "callbacks",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
    "models",
    "utils",
    "ops",
    "datasets",
    "backend",
    "config",
)

OK, PARTIAL, MISSING = "✔", "partial", "✗"

# --- The families left out of the goal, and why (hand-kept) -------------------------------
# Each family: (its note, {namespace: regular expressions matched against the whole name}).
# A name that matches no family counts towards the percentage.
CONVOLUTION = "convolution and pooling: out of scope here, see issue 19"
RECURRENCE = "recurrence beyond SimpleRNN, LSTM, GRU and Bidirectional: not planned"
ATTENTION = "attention: out of scope here, not planned"
IMAGE = "image preprocessing: out of scope here, see issue 19"
AUDIO = "audio preprocessing: out of scope here, not planned"
WRAPPER = "wraps another backend's code: not planned"

FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    WRAPPER: {
        "layers": ("JaxLayer", "FlaxLayer", "TorchModuleWrapper", "TFSMLayer"),
        "config": ("is_nnx_enabled",),
    },
    RECURRENCE: {
        "layers": (
            "RNN",
            "SimpleRNN(Cell)?",
            "LSTM(Cell)?",
            "GRU(Cell)?",
            "StackedRNNCells",
            "Bidirectional",
            "ConvLSTM[123]D",
        ),
        "losses": ("CTC", "ctc"),
        "ops": ("ctc_loss", "ctc_decode"),
    },
    ATTENTION: {
        "layers": ("Attention", "AdditiveAttention", "MultiHeadAttention", "GroupQueryAttention"),
        "ops": ("dot_product_attention",),
        "config": (
            "enable_flash_attention",
            "disable_flash_attention",
            "is_flash_attention_enabled",
        ),
    },
    CONVOLUTION: {
        "layers": (
            r"Conv[123]D(Transpose)?",
            r"Convolution[123]D(Transpose)?",
            r"SeparableConv(olution)?[12]D",
            r"DepthwiseConv[12]D",
            r"(Adaptive|Global)?(Average|Avg|Max)Pool(ing)?[123]D",
            r"Cropping[123]D",
            r"ZeroPadding[123]D",
            r"UpSampling[123]D",
            r"SpatialDropout[123]D",
        ),
        "ops": (
            "conv",
            "conv_transpose",
            "depthwise_conv",
            "separable_conv",
            "max_pool",
            "average_pool",
            "adaptive_average_pool",
            "adaptive_max_pool",
            "depth_to_space",
            "space_to_depth",
            "fold",
            "unfold",
        ),
    },
    IMAGE: {
        "layers": (
            r"Random\w+",
            "RandAugment",
            "AugMix",
            "AutoContrast",
            "CenterCrop",
            "CutMix",
            "MixUp",
            "Equalization",
            "Resizing",
            "Solarization",
            "ContrastLimitedAdaptiveHistogramEqualization",
            "MaxNumBoundingBoxes",
        ),
        "utils": (
            "image_dataset_from_directory",
            "load_img",
            "save_img",
            "img_to_array",
            "array_to_img",
        ),
        "ops": ("psnr",),
    },
    AUDIO: {
        "layers": ("MelSpectrogram", "STFTSpectrogram"),
        "initializers": ("STFT", "STFTInitializer", "stft"),
        "utils": ("audio_dataset_from_directory",),
        "ops": ("stft", "istft", "extract_sequences"),
    },
}

# --- Notes for missing names outside those families (hand-kept) ---------------------------
# They explain a ✗ but do not take the name out of the percentage.
NOTES: dict[str, dict[str, str]] = {
    "config": {
        "set_backend": "not planned: glassnet has one backend, NumPy",
        "max_steps_per_epoch": "not yet: fit's batches take no global cap",
        "set_max_steps_per_epoch": "not yet: fit's batches take no global cap",
    },
    TOP: {
        "SymbolicScope": "not planned: glassnet traces no graph",
        "StatelessScope": "not planned: glassnet's layers hold no per-call state to redirect",
        "Function": "not planned: glassnet traces no graph",
        "Operation": "not planned: glassnet traces no graph",
        "Quantizer": "not planned: glassnet has no quantization",
        "remat": "not yet: glassnet keeps every activation for backward",
        "RematScope": "not yet: glassnet keeps every activation for backward",
    },
    "layers": {
        "TimeDistributed": "not yet (Dense already applies to the last axis of any rank)",
    },
    "callbacks": {
        "OrbaxCheckpoint": "not planned: Orbax checkpoints are a JAX library's format",
    },
}
DEFAULT_NOTE = "not yet implemented"


def family_of(namespace: str, name: str) -> str | None:
    """The excluded family's note for a Keras name, or None when it counts towards the goal."""
    for note, by_namespace in FAMILIES.items():
        for pattern in by_namespace.get(namespace, ()):
            if re.fullmatch(pattern, name):
                return note
    return None


# --- Keras's side (needs Keras) -------------------------------------------------------------


def _argument_names(obj: object) -> list[str] | None:
    """The named arguments of a function, or of a class's constructor (``self`` left out).

    ``*args`` and ``**kwargs`` are left out. None when the signature cannot be read.
    """
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    catch_alls = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    names = [p.name for p in signature.parameters.values() if p.kind not in catch_alls]
    if inspect.isclass(obj) and names and names[0] == "self":
        names = names[1:]
    return names


def _accepted_names(cls: type) -> set[str]:
    """The argument names a glassnet class's constructor understands.

    Its own ``__init__``'s named arguments and, while an ``__init__`` passes on a
    ``**kwargs`` catch-all, those of the next constructor up the class's bases (the usual
    ``super().__init__(**kwargs)``). A catch-all alone accepts no name.
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        try:
            parameters = inspect.signature(vars(klass)["__init__"]).parameters.values()
        except (TypeError, ValueError):
            break
        names.update(
            p.name
            for p in parameters
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        )
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    names.discard("self")
    return names


def _describe(obj: object) -> dict:
    if inspect.isclass(obj):
        return {"kind": "class", "args": _argument_names(obj)}
    if callable(obj):
        return {"kind": "function", "args": _argument_names(obj)}
    return {"kind": "constant"}


def _public(module: types.ModuleType) -> list[str]:
    return sorted(name for name in dir(module) if not name.startswith("_"))


def keras_public_names() -> dict:
    """Every public name of Keras's namespaces, with its kind and argument names.

    Read with the TensorFlow backend unless ``KERAS_BACKEND`` says otherwise: a few classes
    (``keras.Variable``) are the backend's own.
    """
    import os

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    namespaces: dict[str, dict] = {}
    for namespace in NAMESPACES:
        module = keras
        if namespace != TOP:
            for part in namespace.split("."):
                module = getattr(module, part)
        entries = {}
        for name in _public(module):
            value = getattr(module, name)
            if isinstance(value, types.ModuleType):
                if namespace != "datasets":
                    continue
                for inner in _public(value):
                    inner_value = getattr(value, inner)
                    if not isinstance(inner_value, types.ModuleType):
                        entries[f"{name}.{inner}"] = _describe(inner_value)
                continue
            entries[name] = _describe(value)
        namespaces[namespace] = entries
    return {"keras_version": keras.__version__, "namespaces": namespaces}


def dump_names(names: dict) -> str:
    """The JSON text of the names, sorted, one stable layout."""
    return json.dumps(names, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --- glassnet's side ------------------------------------------------------------------------

_ABSENT = object()


def _glassnet_object(namespace: str, name: str) -> object:
    """glassnet's counterpart of a Keras name, or ``_ABSENT``."""
    dotted = name if namespace == TOP else f"{namespace}.{name}"
    value: object = importlib.import_module("glassnet")
    path = "glassnet"
    for part in dotted.split("."):
        path = f"{path}.{part}"
        try:
            value = getattr(value, part)
        except AttributeError:
            if not isinstance(value, types.ModuleType):
                return _ABSENT
            try:  # a submodule not yet imported
                value = importlib.import_module(path)
            except ModuleNotFoundError as error:
                if error.name != path:
                    raise  # a module glassnet needs is missing: not an answer about glassnet
                return _ABSENT
    return value


@dataclass(frozen=True)
class Row:
    """One Keras name in the table."""

    name: str
    kind: str
    status: str
    note: str
    excluded: bool


def classify(namespace: str, name: str, entry: dict) -> Row:
    """Compare one Keras name (its stored ``entry``) with glassnet as it is now."""
    kind = entry["kind"]
    family = family_of(namespace, name)
    excluded = family is not None
    value = _glassnet_object(namespace, name)
    if value is _ABSENT:
        note = family or NOTES.get(namespace, {}).get(name, DEFAULT_NOTE)
        return Row(name, kind, MISSING, note, excluded)
    if kind == "class" and not inspect.isclass(value):
        note = "a function or object in glassnet, a class in Keras"
        return Row(name, kind, PARTIAL, note, excluded)
    if kind == "function" and (inspect.isclass(value) or not callable(value)):
        what = "a class" if inspect.isclass(value) else "not callable"
        return Row(name, kind, PARTIAL, f"{what} in glassnet, a function in Keras", excluded)
    if kind == "class" and entry.get("args"):
        ours = _accepted_names(value)
        missing = [arg for arg in entry["args"] if arg not in ours]
        if missing:
            note = "missing arguments: " + ", ".join(f"`{arg}`" for arg in missing)
            return Row(name, kind, PARTIAL, note, excluded)
    return Row(name, kind, OK, "", excluded)


def classify_all(names: dict) -> dict[str, list[Row]]:
    """Every stored name, namespace by namespace, sorted."""
    return {
        namespace: [classify(namespace, n, e) for n, e in sorted(entries.items())]
        for namespace, entries in names["namespaces"].items()
    }


# --- The page -------------------------------------------------------------------------------


def _title(namespace: str) -> str:
    return "keras" if namespace == TOP else f"keras.{namespace}"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _ordered(namespaces: dict) -> list[str]:
    known = [n for n in NAMESPACES if n in namespaces]
    return known + sorted(n for n in namespaces if n not in NAMESPACES)


def render(names: dict, date: str) -> str:
    """The Markdown text of docs/compatibility.md."""
    rows = classify_all(names)
    version = names["keras_version"]
    lines = [
        "# Compatibility with Keras, name by name",
        "",
        f"Every public name of Keras {version}'s namespaces, and whether glassnet has it.",
        f"Generated on {date} by `scripts/keras_compatibility.py` from Keras's own names",
        "(stored in `tests/fixtures/keras_public_names.json`) and glassnet's code; do not edit",
        "it by hand: run `python scripts/keras_compatibility.py --from-json` (or without the",
        "option where Keras is installed, to refresh Keras's names too).",
        "`tests/test_compatibility_table.py` fails when this page and the code disagree.",
        "What glassnet does differently from Keras on purpose is on the page",
        "[Keras compatibility](keras-compatibility.md).",
        "",
        f"* **{OK}**: glassnet has the name, as the same kind (class or function), and a class",
        "  accepts every argument that Keras's constructor names (`**kwargs` aside).",
        f"* **{PARTIAL}**: glassnet has the name, but as another kind or without some of",
        "  Keras's arguments (listed).",
        f"* **{MISSING}**: glassnet does not have it; the note says why.",
        "",
        "Names in convolution and pooling, recurrence, attention, image and audio",
        "preprocessing, and the layers that wrap another backend's code (`JaxLayer`,",
        "`FlaxLayer`, `TorchModuleWrapper`, `TFSMLayer`) are counted apart: the last column",
        f"is the share of {OK} among the other names.",
        "",
        "## Summary",
        "",
        f"| namespace | names | {OK} | {PARTIAL} | {MISSING} | left apart | {OK} of the rest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    totals = [0] * 6
    for namespace in _ordered(rows):
        table = rows[namespace]
        counted = [r for r in table if not r.excluded]
        counts = [
            len(table),
            sum(r.status == OK for r in table),
            sum(r.status == PARTIAL for r in table),
            sum(r.status == MISSING for r in table),
            len(table) - len(counted),
            sum(r.status == OK for r in counted),
        ]
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        share = _percent(counts[5], len(counted))
        anchor = _title(namespace).replace(".", "")
        lines.append(
            f"| [`{_title(namespace)}`](#{anchor}) | "
            + " | ".join(str(c) for c in counts[:5])
            + f" | {share} |"
        )
    rest = totals[0] - totals[4]
    lines.append(
        "| **all** | "
        + " | ".join(f"**{c}**" for c in totals[:5])
        + f" | **{_percent(totals[5], rest)}** |"
    )
    for namespace in _ordered(rows):
        lines += [
            "",
            f"## {_title(namespace)}",
            "",
            "| name | kind | status | note |",
            "|---|---|---|---|",
        ]
        for row in rows[namespace]:
            lines.append(f"| `{row.name}` | {row.kind} | {row.status} | {row.note} |")
    return "\n".join(lines) + "\n"


DATE_LINE = re.compile(r"^Generated on (\d{4}-\d{2}-\d{2}) ", re.MULTILINE)


def page_date(text: str) -> str | None:
    """The generation date written in a page's text, or None."""
    match = DATE_LINE.search(text)
    return match[1] if match else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from-json",
        action="store_true",
        help=f"use the stored names ({NAMES_JSON.relative_to(ROOT)}) instead of asking Keras",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a file would change"
    )
    parser.add_argument("--date", help="the date the page says it was generated (YYYY-MM-DD)")
    args = parser.parse_args(argv)

    if args.from_json:
        names = json.loads(NAMES_JSON.read_text(encoding="utf-8"))
    else:
        names = keras_public_names()
    old_page = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
    date = args.date or page_date(old_page)
    page = render(names, date) if date else None
    if page != old_page and not args.date:  # something changed: today's date
        page = render(names, datetime.date.today().isoformat())
    outputs = {PAGE: page}
    if not args.from_json:
        outputs[NAMES_JSON] = dump_names(names)

    stale = []
    for path, text in outputs.items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "differs from what the script writes" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
