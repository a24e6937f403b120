"""``Embedding``: integer ids in, learned vectors out (``keras/src/layers/core/embedding.py``).

Row ``i`` of the ``embeddings`` matrix is the vector of id ``i``; looking an id up is the
same as multiplying its one-hot vector by the matrix, so the slope of an embedding row is the
sum of the slopes arriving at every place its id was looked up, and ids have no slope.
"""

from __future__ import annotations

import warnings

import numpy as np

from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet._scatter import add_rows_at
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import initializer_config, key, regularizer_config


def _dimension(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"`{what}` must be a positive integer. Received: {what}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return int(value)


class _Given(initializers_module.Initializer):
    """The weights passed as ``weights=``."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = np.asarray(value)

    def __call__(self, shape, dtype=None):
        return np.array(self.value, dtype=dtype).reshape(shape)


class Embedding(Layer):
    """Turns ids in ``[0, input_dim)`` into vectors of ``output_dim`` numbers.

    Args:
        input_dim: the number of ids (the largest id plus one).
        output_dim: the length of each vector.
        embeddings_initializer: Keras default ``"uniform"`` (in [-0.05, 0.05]).
        embeddings_regularizer: optional penalty on the matrix.
        mask_zero: whether id 0 is padding; ``compute_mask`` then gives where ids are not 0
            (the recurrent layers after it skip those steps, see ``glassnet.layers.masks``).
        weights: an initial ``(input_dim, output_dim)`` matrix.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Embedding
        >>> layer = Embedding(input_dim=10, output_dim=3)
        >>> layer(np.array([[1, 2, 2]])).shape
        (1, 3, 3)
    """

    keeps_input_dtype = True
    config_keys = (
        key("input_dim", "int"),
        key("output_dim", "int"),
        key("embeddings_initializer", "initializer", "uniform"),
        key("embeddings_regularizer", "regularizer"),
        key("activity_regularizer", "inert"),
        key("embeddings_constraint", "inert"),
        key("mask_zero", "bool", False),
        key("quantization_config", "fixed", allowed=(None,), why="quantized layers"),
        key("lora_rank", "fixed", allowed=(None,), why="LoRA-adapted layers"),
        key("lora_alpha", "fixed", allowed=(None,), why="LoRA-adapted layers"),
        key("input_length", "ignored"),
    )

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        activity_regularizer=None,
        **kwargs,
    ) -> None:
        self.input_dim = _dimension(input_dim, "input_dim")
        self.output_dim = _dimension(output_dim, "output_dim")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        for what, value in (
            ("embeddings_constraint", embeddings_constraint),
            ("lora_rank", lora_rank),
            ("quantization_config", quantization_config),
            ("activity_regularizer", activity_regularizer),
        ):
            if value is not None:
                raise NotImplementedError(f"Embedding does not support `{what}` yet")
        if not isinstance(mask_zero, (bool, np.bool_)):
            raise ValueError(f"`mask_zero` must be True or False. Received: {mask_zero!r}")
        self.mask_zero = bool(mask_zero)
        self.embeddings_initializer = initializers_module.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers_module.get(embeddings_regularizer)
        self._initial = None
        if weights is not None:
            if isinstance(weights, list) and len(weights) == 1:
                weights = weights[0]
            weights = np.asarray(weights)
            if weights.shape != (self.input_dim, self.output_dim):
                raise ValueError(
                    f"Embedding `weights` must have shape {(self.input_dim, self.output_dim)}; "
                    f"received {weights.shape}"
                )
            self._initial = _Given(weights)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def weight_specs(self, input_shape):
        return [
            WeightSpec(
                "embeddings",
                (self.input_dim, self.output_dim),
                self._initial or self.embeddings_initializer,
                regularizer=self.embeddings_regularizer,
            )
        ]

    def build(self, input_shape=None) -> None:
        """Builds the layer; the matrix does not depend on the input's shape (a
        ``Embedding`` may be built before any input is known, as in Keras)."""
        if input_shape is None or len(tuple(input_shape)) == 0 or tuple(input_shape) == (None,):
            input_shape = (1,)
        super().build(input_shape)
        self.input_shape = None  # rows of any length

    def _ids(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            if x.dtype.kind not in "fb" or not np.all(np.isfinite(x)):
                raise ValueError(f"Embedding expects integer ids; received dtype {x.dtype}")
            x = x.astype(np.int64)  # Keras casts to int32, dropping any fraction
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            bad = x[(x < 0) | (x >= self.input_dim)].flat[0]
            raise ValueError(
                f"Embedding {self.name!r}: id {bad} is not in [0, {self.input_dim}) "
                f"(input_dim={self.input_dim})"
            )
        return x

    def forward(self, x, training=False):
        ids = self._ids(x)
        return self.embeddings[ids], ids

    def backward(self, records, grad_out, need_grad_input=True):
        ids = records
        if self.trainable:
            self.grad_embeddings[...] = 0
            add_rows_at(self.grad_embeddings, ids, grad_out)
        return np.zeros(ids.shape, dtype=grad_out.dtype) if need_grad_input else None

    def compute_mask(self, inputs, mask=None):
        """Where ids are not 0 (``None`` without ``mask_zero``)."""
        if not self.mask_zero:
            return None
        return np.not_equal(inputs, 0)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializer_config(self.embeddings_initializer),
            "embeddings_regularizer": regularizer_config(self.embeddings_regularizer),
            "activity_regularizer": None,
            "embeddings_constraint": None,
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
