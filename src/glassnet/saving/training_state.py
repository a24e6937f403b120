"""Training state: compile settings, optimizer state and random state, restored on load.

Keras stores an optimizer's variables by position (``keras/src/optimizers/
base_optimizer.py``): ``iteration``, ``learning_rate``, then the slots of every trainable
weight in model order, in the order each optimizer's ``build()`` creates them. Each
glassnet optimizer writes and reads that order itself (``Optimizer.save_own_variables``,
``load_own_variables``, ``slot_groups``); what stays here is the older layouts: tf.keras
2.11+ writes the same without ``learning_rate`` (and SGD keeps an ``m`` slot per weight
even without momentum); tf.keras's legacy optimizers write all ``m`` slots, then all ``v``
slots. They are put in Keras 3's order before the optimizer reads them.

Random state (the epoch shuffler and each drawing layer's generator, from
``model.random_generators()``) is glassnet's own addition; it travels in
``metadata.json`` (``.keras``) or the root attribute ``glassnet_state`` (``.h5``), which
Keras never reads.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet import __version__
from glassnet.engine.sequential import Sequential
from glassnet.saving.compile_config import compile_model
from glassnet.saving.config_values import ReadContext
from glassnet.saving.errors import ModelFileError
from glassnet.saving.weights import assign

#: Name of the JSON object glassnet adds to ``metadata.json`` and of the ``.h5`` attribute.
STATE_KEY = "glassnet_state"


# --- optimizer state --------------------------------------------------------------------------


def file_layout(optimizer, n_weights: int, blocks: bool = False,
                keras2_sgd: bool = False) -> list[tuple[str | None, int]]:
    """``(slot, weight index)`` of each slot variable a file holds after ``iteration``
    (and ``learning_rate``), in the file's order.

    Args:
        optimizer: the glassnet optimizer.
        n_weights: number of trainable weights.
        blocks: tf.keras legacy layout: one block per slot name instead of interleaving.
        keras2_sgd: tf.keras 2.11+ keeps an ``m`` slot per weight for an optimizer with
            no slots (SGD without momentum); those become ``None`` (read and dropped).
    """
    groups = optimizer.slot_groups()
    if keras2_sgd and not groups:
        groups = [(None,)]
    layout = []
    for group in groups:
        if blocks:
            layout += [(slot, i) for slot in group for i in range(n_weights)]
        else:
            layout += [(slot, i) for i in range(n_weights) for slot in group]
    return layout


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


def _weight_shapes(model) -> list[tuple[int, ...]]:
    """The shape of each trainable weight, in the order of the model's flat storage (which
    ``trainable_weights`` follows, nested models' layers included)."""
    shapes = [tuple(weight.shape) for weight in model.trainable_weights]
    sizes = [stop - start for _, _, start, stop in model.storage.slices]
    if [int(np.prod(shape)) for shape in shapes] != sizes:
        raise ValueError("the model's trainable weights do not follow its storage")
    return shapes


def _live_optimizer(model):
    """The optimizer whose slots match the model's weights (a fresh copy if not built)."""
    optimizer = model.optimizer
    if optimizer.built and optimizer.slots_size() == model.storage.parameters.size:
        return optimizer
    fresh = optimizer.clone()
    fresh.build(model.storage.parameters, model.storage.slices)
    return fresh


def optimizer_variables(model) -> list[tuple[str, np.ndarray]]:
    """``(name, value)`` of each optimizer variable in Keras 3's order, for saving
    (``optimizer.save_own_variables``, each slot shaped as its weight): ``iteration``,
    ``learning_rate`` (not when the rate is a schedule), the slots, then scalars such as
    Nadam's ``u_product``.

    Names follow Keras 3's ``.h5`` files (``adam/sequential_dense_kernel_momentum``);
    only the order matters to a reader.
    """
    optimizer = _live_optimizer(model)
    store: dict = {}
    optimizer.save_own_variables(store)
    prefix = model.optimizer.name
    shapes = _weight_shapes(model)
    values = [(f"{prefix}/iteration", store["0"])]
    k = 1
    if not optimizer.learning_rate_is_schedule:
        values.append((f"{prefix}/learning_rate", store["1"]))
        k = 2
    for slot, i in optimizer.variable_layout(len(shapes)):
        layer, weight, _, _ = model.storage.slices[i]
        values.append((f"{prefix}/{model.name}_{layer}_{weight}_{slot}",
                       store[str(k)].reshape(shapes[i])))
        k += 1
    for name in optimizer.extra_variables():
        values.append((f"{prefix}/{name}", store[str(k)]))
        k += 1
    return values


def restore_optimizer(model, entries: list, ctx: ReadContext, blocks: bool = False,
                      keras2: bool = False) -> bool:
    """Fills the compiled model's optimizer from saved variables, if they fit exactly.

    Args:
        model: a built, compiled model.
        entries: ``(shape, dtype kind, read)`` of each saved variable in file order, where
            ``read()`` returns the array; nothing is read unless every shape fits.
        ctx: collects warnings.
        blocks: the tf.keras legacy layout (see ``file_layout``).
        keras2: a tf.keras file (no ``learning_rate`` variable, extra SGD slots).

    Returns:
        Whether the state was restored. A mismatch leaves a fresh optimizer and warns;
        it never fails the load (as Keras, ``base_optimizer.load_own_variables``).
    """
    optimizer = model.optimizer
    if not entries:
        return False
    weights = _weight_shapes(model)
    layout = file_layout(optimizer, len(weights), blocks=blocks,
                         keras2_sgd=keras2 and not blocks)
    shape, kind, read = entries[0]
    body = list(entries[1:])
    n_extra = len(optimizer.extra_variables())
    extras = body[len(body) - n_extra:] if n_extra else []
    body = body[:len(body) - n_extra] if n_extra else body
    arrays = [e for e in body if e[0] != ()]
    scalars = [e for e in body if e[0] == ()]
    fits = (shape == () and kind in "iu" and len(arrays) == len(layout)
            and len(scalars) <= 1 and len(extras) == n_extra
            and all(e[0] == () and e[1] == "f" for e in extras)
            and all(a[0] == weights[i] and a[1] == "f"
                    for a, (_, i) in zip(arrays, layout, strict=True)))
    iteration = int(read()) if shape == () and kind in "iu" else -1
    if not fits:
        if not (arrays == [] and iteration == 0):  # compiled, never trained: nothing lost
            ctx.warn(f"{ctx.where}: the saved optimizer state ({len(entries)} variables) does "
                     f"not fit the model's {type(optimizer).__name__}; training will start with "
                     "a fresh optimizer")
        return False
    # Keras 3's order for the optimizer: iteration, learning_rate, its own slot layout.
    own = optimizer.variable_layout(len(weights))
    read_values = {key: read_array() for key, (_, _, read_array) in zip(layout, arrays,
                                                                          strict=True)}
    store = {"0": np.asarray(iteration, dtype=np.int64)}
    k = 1
    if not optimizer.learning_rate_is_schedule:
        learning_rate = optimizer.learning_rate
        if not keras2 and scalars and scalars[0][1] == "f":
            learning_rate = float(scalars[0][2]())
        store["1"] = np.asarray(learning_rate, dtype=np.float32)
        k = 2
    for key in own:
        store[str(k)] = read_values[key]
        k += 1
    for _, _, read_extra in extras:
        store[str(k)] = np.asarray(read_extra())
        k += 1
    optimizer.build(model.storage.parameters, model.storage.slices)
    if not optimizer.load_own_variables(store):
        return False
    model.optimizer_needs_build = False
    return True


# --- random state -----------------------------------------------------------------------------


def _generator_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def _layer_generators(model) -> dict[str, np.random.Generator]:
    prefix = "layer:"
    return {name[len(prefix):]: rng for name, rng in model.random_generators().items()
            if name.startswith(prefix)}


def glassnet_state(model) -> dict:
    """glassnet's additions to a model file: its version and the random generators' state."""
    shuffle = model.random_generators()["shuffle"]
    layers = {name: _generator_state(rng) for name, rng in _layer_generators(model).items()}
    return {"format": 1, "glassnet_version": __version__,
            "random_state": {"shuffle": _generator_state(shuffle), "dropout": layers}}


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
    targets = [(model.random_generators()["shuffle"], random_state.get("shuffle"),
                "the shuffler")]
    saved = random_state.get("dropout") if isinstance(random_state.get("dropout"), dict) else {}
    for name, rng in _layer_generators(model).items():
        if name in saved:
            targets.append((rng, saved[name], f"layer {name!r}"))
    for rng, saved, what in targets:
        if saved is None:
            continue
        if not _valid_state(rng, saved):
            ctx.warn(f"{ctx.where}: the saved random state of {what} is invalid and is ignored")
            continue
        before = rng.bit_generator.state
        try:
            rng.bit_generator.state = saved
        except (ValueError, TypeError, OverflowError) as error:  # a number out of its C range
            rng.bit_generator.state = before
            ctx.warn(f"{ctx.where}: the saved random state of {what} is invalid ({error}) and "
                     "is ignored")


# --- the end of every load -------------------------------------------------------------------


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
    model: Sequential, stores: list[dict], ctx: ReadContext, compile_info: dict | None
) -> bool:
    """Builds ``model``, writes its weights and compiles it; returns whether it compiled.

    Args:
        model: the planned model from ``model_from_description``.
        stores: each layer's variables, already read and checked.
        ctx: the file; collects warnings.
        compile_info: the file's compile information (``optimizer``, ``loss``,
            ``metrics``, ``weighted_metrics``, ``loss_weights`` as Keras writes them), or
            ``None`` to leave the model uncompiled.
    """
    build(model, ctx)
    assign(model, stores)
    if compile_info is None:
        return False
    return compile_model(model, compile_info, ctx)


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
    )


def load_into(model, ctx: ReadContext, read_weights, compile_info, optimizer_entries, state,
              guard) -> Sequential:
    """The shared end of every load: weights, compile, optimizer and random state.

    ``read_weights()`` and ``optimizer_entries(limit)`` run inside ``guard`` (which turns
    h5py's errors into ``ModelFileError``); building and compiling run outside it.
    """
    with guard():
        stores = read_weights()
    if build_and_compile(model, stores, ctx, compile_info):
        with guard():
            restore_training(model, ctx, compile_info.get("optimizer"), optimizer_entries)
    restore_glassnet_state(model, state, ctx)
    return model
