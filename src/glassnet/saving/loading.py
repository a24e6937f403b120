"""The last steps every model load shares: build, fill, compile, restore state."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet.models.sequential import Sequential
from glassnet.saving.compile_config import compile_model
from glassnet.saving.config_values import ReadContext
from glassnet.saving.errors import ModelFileError
from glassnet.saving.optimizer_state import restore_glassnet_state, restore_optimizer
from glassnet.saving.weights_h5 import assign


def legacy_optimizer_layout(optimizer_value, keras_major: int) -> bool:
    """Whether a Keras 2 optimizer stored its slots in blocks (tf.keras legacy optimizers).

    tf.keras 2.11+ optimizers say ``"is_legacy_optimizer": false`` and are registered as
    ``Custom>Adam``...; the legacy ones (the default up to TF 2.10) are plain ``Adam``.
    """
    if keras_major >= 3 or not isinstance(optimizer_value, dict):
        return False
    config = optimizer_value.get("config")
    config = config if isinstance(config, dict) else {}
    if "is_legacy_optimizer" in config:
        return config["is_legacy_optimizer"] is True
    return not str(optimizer_value.get("class_name", "")).startswith("Custom>")


def _config_learning_rate(optimizer_value) -> float | None:
    config = optimizer_value.get("config") if isinstance(optimizer_value, dict) else None
    value = config.get("learning_rate") if isinstance(config, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
        return float(value)
    return None


def build(model: Sequential, ctx: ReadContext) -> None:
    """Builds a model planned from a file's description.

    Building draws fresh weights with the initializers the file names; a file can give
    them settings no initializer accepts (``stddev=-1``, a text seed), which surface only
    here.

    Raises:
        ModelFileError: when the model cannot be built, naming why.
    """
    try:
        model.build()
    except (TypeError, ValueError, OverflowError) as error:
        raise ModelFileError(
            f"{ctx.where}: the model it describes cannot be built: {error}"
        ) from None


def build_and_compile(
    model: Sequential, arrays: list[list[np.ndarray]], ctx: ReadContext, compile_info: tuple | None
) -> bool:
    """Builds ``model``, writes its weights and compiles it; returns whether it compiled.

    Args:
        model: the planned model from ``model_from_description``.
        arrays: each layer's weights, already read and checked.
        ctx: the file; collects warnings.
        compile_info: ``(optimizer, loss, metrics)`` as the file writes them, or ``None``
            to leave the model uncompiled.
    """
    build(model, ctx)
    assign(model, arrays)
    if compile_info is None:
        return False
    return compile_model(model, *compile_info, ctx)


def restore_training(
    model: Sequential, ctx: ReadContext, optimizer_value, optimizer_entries: Callable[[int], list]
) -> None:
    """Restores a compiled model's optimizer state from the file's saved variables.

    Args:
        model: the built, compiled model.
        ctx: the file; collects warnings.
        optimizer_value: the optimizer as the file's compile information writes it.
        optimizer_entries: given a limit on their number, the saved optimizer variables
            (see ``restore_optimizer``).
    """
    limit = 4 * len(model.storage.slices) + 64
    restore_optimizer(
        model, optimizer_entries(limit), ctx,
        blocks=legacy_optimizer_layout(optimizer_value, ctx.keras_major),
        keras2=ctx.keras_major < 3,
        config_lr=_config_learning_rate(optimizer_value),
    )


def load_into(model, ctx: ReadContext, read_weights, compile_info, optimizer_entries, state,
              guard) -> Sequential:
    """The shared end of every load: weights, compile, optimizer and random state.

    ``read_weights()`` and ``optimizer_entries(limit)`` run inside ``guard`` (which turns
    h5py's errors into ``ModelFileError``); building and compiling run outside it.
    """
    with guard():
        arrays = read_weights()
    if build_and_compile(model, arrays, ctx, compile_info):
        with guard():
            restore_training(model, ctx, compile_info[0], optimizer_entries)
    restore_glassnet_state(model, state, ctx)
    return model
