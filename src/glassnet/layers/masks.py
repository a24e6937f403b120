"""Where Keras's masks go: which layers make one, pass it on, use it or end it.

Keras 3 attaches a mask (``(batch, timesteps)``, true for the steps that count) to the output
of ``Embedding(mask_zero=True)`` and ``Masking``, and hands it on from layer to layer
(``keras/src/layers/layer.py``, ``Layer.__call__`` and ``_set_mask_metadata``): a layer whose
``supports_masking`` is set and whose ``compute_mask`` is Keras's default passes it on
unchanged; a layer whose ``call`` takes ``mask`` uses it (the recurrent layers skip masked
steps, ``GlobalAveragePooling1D`` averages only the steps that count, ``Softmax`` and
attention ignore masked places); any other layer drops it with a warning; and a mask that
reaches the model's output weights the loss (``keras/src/losses/loss.py``).

glassnet handles masks with one rule per layer, read by the models when they are built
(``glassnet.engine.plan``, ``glassnet.layers.symbolic``):

* ``makes``: ``Embedding(mask_zero=True)`` and ``Masking``; the mask is computed from the
  layer's input once per batch, by the model's plan, and handed to the layers that use it.
* ``passes``: Keras passes the mask on unchanged (``Dropout``, ``Activation``, ``Dense``...).
* ``steps``: the recurrent layers, which skip masked steps as Keras does; with
  ``return_sequences=True`` the mask goes on to the next layer, otherwise it ends there.
* ``reads``: ``GlobalAveragePooling1D``, which averages only the steps that count, as Keras
  does; the mask ends there.
* ``ends``: Keras drops the mask (``Flatten``, ``Conv1D``, ``GlobalMaxPooling1D``...); the
  numbers do not depend on it.
* ``uses``: Keras would use the mask and glassnet does not implement that; a mask reaching
  such a layer, or the model's output, is refused with a ``ValueError`` naming the layers,
  rather than giving other numbers than Keras without a word.

The tables below are checked against Keras's own layers (``supports_masking``, whether
``call`` takes ``mask``, whether ``compute_mask`` is overridden) by ``tests/test_masks.py``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

MAKES, PASSES, STEPS, READS, ENDS, USES = "makes", "passes", "steps", "reads", "ends", "uses"

#: The rules of the layers that read the mask: models hand it to their ``forward``.
READS_MASK = frozenset({STEPS, READS})

#: glassnet's layers that Keras marks ``supports_masking`` with its default ``compute_mask``
#: and a ``call`` without ``mask``: the mask goes through them unchanged.
PASSES_MASK = frozenset({
    "Activation", "ActivityRegularization", "AlphaDropout", "Dense", "Dropout", "ELU",
    "GaussianDropout", "GaussianNoise", "GroupNormalization", "Identity",
    "LayerNormalization", "LeakyReLU", "Normalization", "PReLU", "ReLU", "Rescaling",
    "SpatialDropout1D", "SpatialDropout2D", "UnitNormalization",
})

#: glassnet's layers whose Keras counterpart uses a mask (its ``call`` takes one, or its
#: ``compute_mask`` combines several) in a way glassnet does not implement.
USES_MASK = frozenset({
    "Add", "Average", "BatchNormalization", "Concatenate", "Dot", "Maximum", "Minimum",
    "Multiply", "Softmax", "Subtract",
})


@dataclass(frozen=True)
class MaskSource:
    """A mask on its way: the layer that made it and where that layer runs (a step's index
    in a ``Sequential`` plan, a ``GraphNode`` in a functional graph)."""

    layer: Any
    where: Any


def makes_mask(layer: Any) -> bool:
    """Whether ``layer`` makes a mask: ``Embedding(mask_zero=True)`` or ``Masking``."""
    return bool(getattr(layer, "makes_mask", False)) or bool(getattr(layer, "mask_zero", False))


def mask_rule(layer: Any) -> str:
    """What ``layer`` does with a mask coming in (see the module docstring)."""
    if makes_mask(layer):
        return MAKES
    if getattr(layer, "skips_masked_steps", False):
        return STEPS
    if getattr(layer, "reads_mask", False):
        return READS
    if hasattr(layer, "plan_as_layer"):  # a model used as a layer (glassnet.engine.model)
        return USES  # Keras hands the mask to the nested model's layers
    for cls in type(layer).__mro__:
        if not cls.__module__.startswith("glassnet."):
            continue
        if cls.__name__ in PASSES_MASK:
            return PASSES
        if cls.__name__ in USES_MASK:
            return USES
        break
    call = getattr(type(layer), "call", None)
    if call is not None and "mask" in inspect.signature(call).parameters:
        return USES  # a program's layer whose call takes Keras's mask
    if "compute_mask" in vars(type(layer)) and not type(layer).__module__.startswith("glassnet."):
        return USES  # a program's layer that computes a mask of its own
    return ENDS  # Keras's default: supports_masking is False and the mask is dropped


def mask_after(layer: Any, incoming: MaskSource | None, where: Any) -> MaskSource | None:
    """The mask that leaves ``layer`` when ``incoming`` comes in (``where`` is the layer's
    place, for a mask it makes).

    Raises:
        ValueError: when a mask reaches a layer that would use it and glassnet does not.
    """
    rule = mask_rule(layer)
    if rule == MAKES:
        return MaskSource(layer, where)
    if incoming is None or rule == ENDS:
        return None
    if rule == PASSES:
        return incoming
    if rule == STEPS:
        return incoming if getattr(layer, "return_sequences", False) else None
    if rule == READS:
        return None
    raise unsupported_mask_error(layer, incoming.layer)


def _source_text(source: Any) -> str:
    if getattr(source, "mask_zero", False):
        return f"{source.name!r} (Embedding with mask_zero=True)"
    return f"{source.name!r} ({type(source).__name__})"


def unsupported_mask_error(layer: Any, source: Any) -> ValueError:
    """The error for a mask reaching a layer that Keras would use it in and glassnet cannot."""
    return ValueError(
        f"Layer {layer.name!r} ({type(layer).__name__}) would receive the mask of "
        f"{_source_text(source)}: Keras would use it there, and glassnet supports masks only "
        "in SimpleRNN, LSTM, GRU, Bidirectional and GlobalAveragePooling1D (through layers "
        "that pass them on unchanged, such as Dropout and Activation), so its numbers would "
        "differ. Put a recurrent layer between them, or use mask_zero=False / no Masking"
    )


def masked_output_error(layer: Any, source: Any) -> ValueError:
    """The error for a model whose output would carry a mask (Keras would weight the loss)."""
    return ValueError(
        f"The output of layer {layer.name!r} ({type(layer).__name__}) would carry the mask of "
        f"{_source_text(source)}: Keras would leave the masked steps out of the loss and "
        "metrics, which glassnet does not support. End the masked part with a recurrent "
        "layer with return_sequences=False or a GlobalAveragePooling1D, or use "
        "mask_zero=False / no Masking"
    )


def sequence_mask_routes(layers: list) -> dict[int, MaskSource]:
    """For layers run one after another (a ``Sequential``): which layers read a mask
    (recurrent layers, ``GlobalAveragePooling1D``) and whose mask they read, as
    ``{layer index: MaskSource}`` (``where`` the source's index).

    Raises:
        ValueError: when a mask reaches a layer that would use it and glassnet does not, or
            the model's output.
    """
    routes: dict[int, MaskSource] = {}
    mask = None
    for index, layer in enumerate(layers):
        if mask is not None and mask_rule(layer) in READS_MASK:
            routes[index] = mask
        mask = mask_after(layer, mask, index)
    if mask is not None:
        raise masked_output_error(layers[-1], mask.layer)
    return routes
