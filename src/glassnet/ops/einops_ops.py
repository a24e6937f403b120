"""``keras.ops.rearrange``: einops-style reshaping, built of recorded ``reshape`` and
``transpose`` (so it carries slopes), after ``keras/src/ops/einops.py``."""

from __future__ import annotations

import re

import numpy as np

from glassnet.ops import numpy_ops as nops
from glassnet.ops._convert import to_array
from glassnet.ops._errors import named


def _groups(side: str) -> list[list[str]]:
    return [
        token.strip("()").split() if token.startswith("(") else [token]
        for token in re.findall(r"\w+|\(.*?\)", side)
    ]


@named("rearrange")
def rearrange(tensor, pattern: str, **axes_lengths):
    """Rearranges the axes of ``tensor`` by an einops pattern (``"b h w c -> b (h w) c"``)."""
    left, right = re.split(r"\s*->\s*", pattern.strip())
    inputs = _groups(left)
    outputs = _groups(right)
    shape = to_array(tensor).shape
    if len(inputs) != len(shape):
        raise ValueError(
            f"ops.rearrange: the pattern's left side names {len(inputs)} axes, the tensor has "
            f"{len(shape)} (shape {shape})"
        )
    sizes = dict(axes_lengths)
    for group, size in zip(inputs, shape, strict=True):
        unknown = [name for name in group if name not in sizes]
        known = int(np.prod([sizes[name] for name in group if name in sizes], dtype=np.int64))
        if len(unknown) > 1:
            raise ValueError(f"ops.rearrange: cannot infer the sizes of {unknown} in {pattern!r}")
        if unknown:
            sizes[unknown[0]] = size // known
    flat_in = [name for group in inputs for name in group]
    flat_out = [name for group in outputs for name in group]
    if sorted(flat_in) != sorted(flat_out):
        raise ValueError(
            f"ops.rearrange: both sides must name the same axes. Received: {pattern!r}"
        )
    x = nops.reshape(tensor, [sizes[name] for name in flat_in])
    x = nops.transpose(x, [flat_in.index(name) for name in flat_out])
    out_shape = [int(np.prod([sizes[n] for n in group], dtype=np.int64)) for group in outputs]
    return nops.reshape(x, out_shape)


__all__ = ["rearrange"]
