"""The Keras-written fixtures in tests/fixtures/keras/ (and own/), and helpers to use them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from glassnet import layers as layers_module
from glassnet import regularizers
from glassnet.models import Sequential

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "keras"
FOLDERS = (FIXTURES, FIXTURES / "own")


def metas() -> list[dict]:
    """Every fixture's ``STEM.json``, with ``folder`` added."""
    found = []
    for folder in FOLDERS:
        for path in sorted(folder.glob("*.json")):
            meta = json.loads(path.read_text())
            meta["folder"] = folder
            found.append(meta)
    return found


def file_cases() -> list[tuple[dict, str]]:
    """``(meta, file name)`` for every model or weights file of every fixture."""
    return [(meta, name) for meta in metas() for name in meta["files"]]


def is_weights_only(name: str) -> bool:
    return name.endswith((".weights.h5", "_weights.h5"))


def inputs(meta: dict) -> np.ndarray:
    return np.asarray(meta["input"], dtype=np.float32)


def plain_layer(plain: dict):
    """A glassnet layer from the fixtures' plain form ``{"class": name, **arguments}``."""
    args = dict(plain)
    args.pop("adapt", None)  # statistics come from the weights file
    cls = getattr(layers_module, args.pop("class"))
    if isinstance(args.get("kernel_regularizer"), dict):
        spec = dict(args["kernel_regularizer"])
        args["kernel_regularizer"] = getattr(regularizers, spec.pop("class"))(**spec)
    return cls(**args)


def build_plain(meta: dict) -> Sequential:
    """The fixture's architecture built in code (for weights-only files)."""
    model = Sequential([layers_module.Input(shape=tuple(meta["input_shape"][1:]))])
    for plain in meta["layers"]:
        model.add(plain_layer(plain))
    model.build()
    return model


def expected_summary(meta: dict) -> list[tuple[str, tuple[int, ...], int]]:
    """``(class, output shape, parameter count)`` of each layer, worked out by hand."""
    shape = tuple(meta["input_shape"][1:])
    rows = []
    for plain in meta["layers"]:
        kind, params = plain["class"], 0
        if kind == "Dense":
            bias = plain["units"] if plain.get("use_bias", True) else 0
            params = shape[-1] * plain["units"] + bias
            shape = (*shape[:-1], plain["units"])
        elif kind == "BatchNormalization":
            params = shape[-1] * (2 + plain.get("center", True) + plain.get("scale", True))
        elif kind == "Normalization":  # glassnet counts mean and variance (Keras adds `count`)
            params = 2 * shape[-1]
        elif kind == "Flatten":
            shape = (math.prod(shape),)
        elif kind == "Reshape":
            shape = tuple(plain["target_shape"])
        rows.append((kind, shape, params))
    return rows


def optimizer_class(meta: dict) -> str:
    spec = meta["compile"]["optimizer"]
    name = spec if isinstance(spec, str) else spec["class"]
    return name.split(".")[-1].lower()


def steps_trained(meta: dict) -> int:
    compiled = meta["compile"]
    return compiled.get("steps_trained") or compiled["epochs_trained"] * math.ceil(
        64 / compiled["batch_size"]
    )


def keeps_optimizer_state(meta: dict, name: str) -> bool:
    """tf.keras writes no optimizer state into .keras files for its legacy optimizers."""
    spec = meta["compile"]["optimizer"]
    legacy = isinstance(spec, dict) and (spec.get("legacy") or spec["class"].startswith("legacy."))
    return not (name.endswith(".keras") and meta["framework"] == "tf_keras" and legacy)
