"""Optimizer state and random state: what lets training resume exactly where it stopped.

Keras stores an optimizer's variables by position (``keras/src/optimizers/
base_optimizer.py``): ``iteration``, ``learning_rate``, then the slots of every trainable
weight in model order, in the order each optimizer's ``build()`` creates them. Adam
interleaves ``momentum`` and ``velocity`` per weight (``add_optimizer_variables``);
RMSprop creates all ``velocity`` slots, then all ``momentum``, then all
``average_gradient``. tf.keras 2.11+ writes the same without ``learning_rate``; tf.keras's
legacy optimizers write all ``m`` slots, then all ``v`` slots.

Random state (the epoch shuffler and each Dropout layer's generator) is glassnet's own
addition; it travels in ``metadata.json`` (``.keras``) or the root attribute
``glassnet_state`` (``.h5``), which Keras never reads.
"""

from __future__ import annotations

import numpy as np

from glassnet import __version__
from glassnet import optimizers as optimizers_module
from glassnet.layers import Dropout
from glassnet.saving.config_values import ReadContext

#: Name of the JSON object glassnet adds to ``metadata.json`` and of the ``.h5`` attribute.
STATE_KEY = "glassnet_state"


def slot_groups(optimizer) -> list[tuple[str, ...]] | None:
    """The slots of ``optimizer`` in Keras's build order; each group is interleaved.

    ``None`` for an optimizer class glassnet has no Keras layout for.
    """
    if isinstance(optimizer, optimizers_module.Adam):  # AdamW too
        return [("momentum", "velocity")] + ([("velocity_hat",)] if optimizer.amsgrad else [])
    if isinstance(optimizer, optimizers_module.RMSprop):
        return ([("velocity",)] + ([("momentum",)] if optimizer.momentum else [])
                + ([("average_gradient",)] if optimizer.centered else []))
    if isinstance(optimizer, optimizers_module.SGD):
        return [("momentum",)] if optimizer.momentum else []
    if isinstance(optimizer, optimizers_module.Adagrad):
        return [("accumulator",)]
    return None


def variable_layout(optimizer, n_weights: int, blocks: bool = False,
                    keras2_sgd: bool = False) -> list[tuple[str | None, int]] | None:
    """``(slot, weight index)`` of each slot variable after ``iteration``/``learning_rate``.

    Args:
        optimizer: the glassnet optimizer.
        n_weights: number of trainable weights.
        blocks: tf.keras legacy layout: one block per slot name instead of interleaving.
        keras2_sgd: tf.keras 2.11+ SGD keeps an ``m`` slot per weight even without
            momentum; those become ``None`` (read and dropped).
    """
    groups = slot_groups(optimizer)
    if groups is None:
        return None
    if keras2_sgd and isinstance(optimizer, optimizers_module.SGD) and not groups:
        groups = [(None,)]
    layout = []
    for group in groups:
        if blocks:
            layout += [(slot, i) for slot in group for i in range(n_weights)]
        else:
            layout += [(slot, i) for i in range(n_weights) for slot in group]
    return layout


def _weight_shapes(model) -> list[tuple[int, ...]]:
    return [model.get_layer(layer).values[weight].shape
            for layer, weight, _, _ in model.storage.slices]


def _live_optimizer(model):
    """The optimizer whose slots match the model's weights (a fresh copy if not built)."""
    optimizer = model.optimizer
    if optimizer.built and optimizer.slots_size() == model.storage.parameters.size:
        return optimizer
    fresh = type(optimizer).from_config(optimizer.get_config())
    fresh.build(model.storage.parameters, model.storage.slices)
    fresh.iterations = optimizer.iterations
    return fresh


def optimizer_variables(model) -> list[tuple[str, np.ndarray]]:
    """``(name, value)`` of each optimizer variable in Keras 3's order, for saving.

    Names follow Keras 3's ``.h5`` files (``adam/sequential_dense_kernel_momentum``);
    only the order matters to a reader.
    """
    optimizer = model.optimizer
    prefix = optimizer.name
    values = [(f"{prefix}/iteration", np.asarray(optimizer.iterations, dtype=np.int64)),
              (f"{prefix}/learning_rate", np.asarray(optimizer.learning_rate, dtype=np.float32))]
    layout = variable_layout(optimizer, len(model.storage.slices))
    if not layout:
        return values
    live = _live_optimizer(model)
    shapes = _weight_shapes(model)
    for slot, i in layout:
        layer, weight, _, _ = model.storage.slices[i]
        name = f"{prefix}/{model.name}_{layer}_{weight}_{slot}"
        values.append((name, live.slot_views(slot)[i].reshape(shapes[i]).copy()))
    return values


def restore_optimizer(model, entries: list, ctx: ReadContext, blocks: bool = False,
                      keras2: bool = False, config_lr: float | None = None) -> bool:
    """Fills the compiled model's optimizer from saved variables, if they fit exactly.

    Args:
        model: a built, compiled model.
        entries: ``(shape, dtype kind, read)`` of each saved variable in file order, where
            ``read()`` returns the array; nothing is read unless every shape fits.
        ctx: collects warnings.
        blocks: the tf.keras legacy layout (see ``variable_layout``).
        keras2: a tf.keras file (no ``learning_rate`` variable, extra SGD slots).
        config_lr: the learning rate of the file's optimizer config (default: the
            optimizer's own); the saved float32 variable overrides it only if it differs.

    Returns:
        Whether the state was restored. A mismatch leaves a fresh optimizer and warns;
        it never fails the load (as Keras, ``base_optimizer.load_own_variables``).
    """
    optimizer = model.optimizer
    if not entries:
        return False
    weights = _weight_shapes(model)
    layout = variable_layout(optimizer, len(weights), blocks=blocks,
                             keras2_sgd=keras2 and not blocks)
    shape, kind, read = entries[0]
    arrays = [e for e in entries[1:] if e[0] != ()]
    scalars = [e for e in entries[1:] if e[0] == ()]
    fits = (layout is not None and shape == () and kind in "iu"
            and len(arrays) == len(layout)
            and all(a[0] == weights[i] and a[1] == "f"
                    for a, (_, i) in zip(arrays, layout, strict=True)))
    iteration = int(read()) if shape == () and kind in "iu" else -1
    if not fits:
        if not (arrays == [] and iteration == 0):  # compiled, never trained: nothing lost
            ctx.warn(f"{ctx.where}: the saved optimizer state ({len(entries)} variables) does "
                     f"not fit the model's {type(optimizer).__name__}; training will start with "
                     "a fresh optimizer")
        return False
    optimizer.build(model.storage.parameters, model.storage.slices)
    for (slot, i), (_, _, read_array) in zip(layout, arrays, strict=True):
        value = read_array()
        if slot is not None:
            optimizer.slot_views(slot)[i][...] = value.reshape(-1)
    optimizer.iterations = iteration
    if not keras2 and scalars and scalars[0][1] == "f" and not callable(optimizer._learning_rate):
        saved_lr = float(scalars[0][2]())
        # The config keeps the exact float glassnet had; the variable is float32. A
        # variable that differs was changed after the config was written: it wins.
        reference = optimizer.learning_rate if config_lr is None else config_lr
        if np.float32(reference) != np.float32(saved_lr):
            optimizer.learning_rate = saved_lr
    model.optimizer_needs_build = False
    return True


# --- random state -----------------------------------------------------------------------------


def _generator_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def glassnet_state(model) -> dict:
    """glassnet's additions to a model file: its version and the random generators' state."""
    dropout = {layer.name: _generator_state(layer.rng) for layer in model.layers
               if isinstance(layer, Dropout)}
    return {"format": 1, "glassnet_version": __version__,
            "random_state": {"shuffle": _generator_state(model._shuffle_rng), "dropout": dropout}}


def _valid_state(rng: np.random.Generator, state) -> bool:
    """Whether ``state`` is a plausible state for ``rng``'s bit generator (checked by type)."""
    current = rng.bit_generator.state
    if not isinstance(state, dict) or state.get("bit_generator") != current["bit_generator"]:
        return False
    if set(state) != set(current):
        return False

    def same_shape(a, b) -> bool:
        if isinstance(b, dict):
            return isinstance(a, dict) and set(a) == set(b) and all(
                same_shape(a[k], b[k]) for k in b)
        if isinstance(b, (int, np.integer)):
            return isinstance(a, int) and not isinstance(a, bool) and 0 <= a < 2**128
        return isinstance(a, str) and a == b

    return same_shape(state, current)


def restore_glassnet_state(model, state, ctx: ReadContext) -> None:
    """Restores the random generators saved by ``glassnet_state`` (ignored if invalid)."""
    if not isinstance(state, dict):
        return
    random_state = state.get("random_state")
    if not isinstance(random_state, dict):
        return
    targets = [(model._shuffle_rng, random_state.get("shuffle"), "the shuffler")]
    dropout = random_state.get("dropout") if isinstance(random_state.get("dropout"), dict) else {}
    for layer in model.layers:
        if isinstance(layer, Dropout) and layer.name in dropout:
            targets.append((layer.rng, dropout[layer.name], f"layer {layer.name!r}"))
    for rng, saved, what in targets:
        if saved is None:
            continue
        if not _valid_state(rng, saved):
            ctx.warn(f"{ctx.where}: the saved random state of {what} is invalid and is ignored")
            continue
        rng.bit_generator.state = saved
