"""Layers that turn categories into numbers: ``CategoryEncoding``, ``IntegerLookup`` and
``StringLookup`` (``keras/src/layers/preprocessing/category_encoding.py``,
``index_lookup.py``, ``integer_lookup.py``, ``string_lookup.py``).

They take integer or string inputs as they come (``keeps_input_dtype``), have no slope (their
inputs are categories), and accept inputs of any rank, a single row included.

A lookup layer's indices are laid out as Keras lays them out: the mask token first (when
there is one), then ``num_oov_indices`` indices for tokens outside the vocabulary, then the
vocabulary. ``adapt`` orders a learned vocabulary by decreasing count, ties by decreasing
token, as Keras does (``index_lookup.py``, ``finalize_state``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from glassnet import config as config_module
from glassnet.layers.base import Layer
from glassnet.layers.config_keys import key

_ENCODINGS = ("one_hot", "multi_hot", "count")


def encode_categories(
    ids: np.ndarray, output_mode: str, depth: int, dtype, dropped: np.ndarray | None = None
) -> np.ndarray:
    """Keras's ``encode_categorical_inputs`` (``keras/src/utils/numerical_utils.py``):
    ``one_hot`` adds an axis of ``depth`` (replacing a last axis of size 1), ``multi_hot`` and
    ``count`` replace the last axis by ``depth`` (a single index becomes one row).
    ``dropped`` marks places that count for nothing (a lookup's mask tokens).

    Raises:
        ValueError: for an index outside ``[0, depth)``, naming it.
    """
    ids = np.asarray(ids)
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if dropped is not None:  # an extra category, cut off below
        ids = np.where(dropped.reshape(ids.shape), depth, ids)
    elif ids.size and (ids.min() < 0 or ids.max() >= depth):
        bad = ids[(ids < 0) | (ids >= depth)].flat[0]
        raise ValueError(
            f"Input values must be in the range 0 <= values < num_tokens with "
            f"num_tokens={depth}. Received: a value of {bad}"
        )
    eye = np.eye(depth + 1, depth, dtype=dtype)
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return eye[ids]
    hot = eye[ids].sum(axis=-2)
    if output_mode == "multi_hot":
        return np.minimum(hot, 1, out=hot)
    return hot


def _integers(x: np.ndarray, layer: str) -> np.ndarray:
    """``x`` as int64, refusing values that are not whole numbers."""
    if x.dtype.kind in "iu":
        return x.astype(np.int64, copy=False)
    if x.dtype.kind == "b":
        return x.astype(np.int64)
    if x.dtype.kind == "f" and np.all(np.isfinite(x)) and np.all(x == np.round(x)):
        return x.astype(np.int64)
    raise ValueError(f"{layer} expects integer inputs; received an array of dtype {x.dtype}")


class _Preprocessing(Layer):
    """A layer without weights or slope whose input may be a single row or a scalar."""

    keeps_input_dtype = True

    def build(self, input_shape=None) -> None:
        self.input_shape = None  # any shape: these layers map every element alike
        self.specs = []
        self.values, self.grads = {}, {}
        self.built = True

    def plan(self, input_shape):
        self.build()
        self.output_shape = tuple(self.compute_output_shape(tuple(input_shape)))
        return self.output_shape

    def backward(self, records, grad_out, need_grad_input=True):
        raise ValueError(
            f"{type(self).__name__} {self.name!r} maps categories to numbers and has no slope; "
            "keep it before the part of the model that trains, or apply it to the data first"
        )


class CategoryEncoding(_Preprocessing):
    """Encodes integer categories in ``[0, num_tokens)`` as one-hot, multi-hot or count
    vectors.

    Args:
        num_tokens: the number of categories.
        output_mode: ``"multi_hot"`` (default; ``"binary"`` is its old name), ``"one_hot"``
            or ``"count"``.
        sparse: only ``False`` (glassnet has no sparse arrays).

    Example:
        >>> from glassnet.layers import CategoryEncoding
        >>> CategoryEncoding(num_tokens=4, output_mode="multi_hot")([[0, 1], [3, 3]])
        array([[1., 1., 0., 0.],
               [0., 0., 0., 1.]], dtype=float32)
    """

    config_keys = (
        key("num_tokens", "int"),
        key("output_mode", "choice", "multi_hot", allowed=(*_ENCODINGS, "binary")),
        key("sparse", "fixed", allowed=(False,), why="sparse outputs"),
    )

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs) -> None:
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in _ENCODINGS:
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not "
                "known beforehand, use the IntegerLookup layer instead."
            )
        if (
            isinstance(num_tokens, bool)
            or not isinstance(num_tokens, (int, np.integer))
            or (num_tokens < 1)
        ):
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens!r}.")
        if sparse:
            raise NotImplementedError("CategoryEncoding(sparse=True) is not supported")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and input_shape[-1] != 1:
            return (*input_shape, self.num_tokens)
        return (*input_shape[:-1], self.num_tokens)

    def forward(self, x, training=False, count_weights=None):
        ids = _integers(np.asarray(x), "CategoryEncoding")
        out = encode_categories(ids, self.output_mode, self.num_tokens, config_module.floatx())
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is not used when `output_mode` is not `'count'`. "
                    f"Received `count_weights={count_weights!r}`."
                )
            w = np.asarray(count_weights, dtype=config_module.floatx())
            eye = np.eye(self.num_tokens, dtype=w.dtype)
            out = (eye[ids.reshape(w.shape)] * w[..., None]).sum(axis=-2)
        return out, None

    def get_config(self):
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
            "sparse": False,
        }


class _IndexLookup(_Preprocessing):
    """What ``IntegerLookup`` and ``StringLookup`` share (``index_lookup.py``)."""

    _kind = "token"

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        name = type(self).__name__
        if output_mode not in ("int", *_ENCODINGS):
            raise ValueError(
                f"Unknown value for `output_mode`. Expected one of 'int', 'one_hot', "
                f"'multi_hot', 'count'. Received: output_mode={output_mode!r}"
                + (" ('tf_idf' is not supported)" if output_mode == "tf_idf" else "")
            )
        if max_tokens is not None and (
            isinstance(max_tokens, bool)
            or not isinstance(max_tokens, (int, np.integer))
            or max_tokens <= 1
        ):
            raise ValueError(
                f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens!r}"
            )
        if (
            isinstance(num_oov_indices, bool)
            or not isinstance(num_oov_indices, (int, np.integer))
            or num_oov_indices < 0
        ):
            raise ValueError(
                "`num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={num_oov_indices!r}"
            )
        if invert and output_mode != "int":
            raise ValueError(
                "`output_mode` must be `'int'` when `invert` is true. "
                f"Received: output_mode={output_mode!r}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                "If pad_to_max_tokens is True, must set `max_tokens`. "
                f"Received: max_tokens={max_tokens!r}"
            )
        if sparse:
            raise NotImplementedError(f"{name}(sparse=True) is not supported")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = self._token(mask_token) if mask_token is not None else None
        self.oov_token = self._token(oov_token) if oov_token is not None else None
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.input_vocabulary = None
        self._tokens: list = []
        self._index: dict = {}
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)
            self.input_vocabulary = list(self._tokens)

    # --- the vocabulary -------------------------------------------------------------------

    def _token(self, value):
        raise NotImplementedError

    @property
    def _mask_index(self) -> bool:
        """Whether index 0 is the mask's: in ``"int"`` mode only; the encodings drop
        mask tokens instead (``index_lookup.py``, ``_oov_start_index``)."""
        return self.mask_token is not None and self.output_mode == "int"

    def _special_tokens(self) -> list:
        special = [self.mask_token] if self._mask_index else []
        return special + [self.oov_token] * self.num_oov_indices

    def _token_start(self) -> int:
        return self._mask_index + self.num_oov_indices

    def set_vocabulary(self, vocabulary) -> None:
        """Sets the vocabulary (without or with the special tokens at its start, as
        ``get_vocabulary`` returns it).

        Raises:
            ValueError: for repeated tokens or a special token inside the vocabulary.
        """
        if isinstance(vocabulary, str):
            raise ValueError(
                f"{type(self).__name__} reads no vocabulary files; pass a list of tokens"
            )
        tokens = [self._token(t) for t in np.asarray(vocabulary, dtype=object).reshape(-1)]
        special = self._special_tokens()
        if tokens[: len(special)] == special and special:
            tokens = tokens[len(special) :]
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                f"Found reserved mask token at unexpected location in `vocabulary`. Note that "
                "passed `vocabulary` does not need to include the OOV and mask tokens. Either "
                f"remove all mask and OOV tokens, or include them only at the start of the "
                f"vocabulary in precisely this order: {special}. Received: "
                f"mask_token={self.mask_token!r} at vocabulary index "
                f"{tokens.index(self.mask_token)}"
            )
        if self.num_oov_indices and self.oov_token in tokens:
            raise ValueError(
                "Found reserved OOV token at unexpected location in `vocabulary`. Note that "
                "passed `vocabulary` does not need to include the OOV and mask tokens. Either "
                "remove all mask and OOV tokens, or include them only at the start of the "
                f"vocabulary in precisely this order: {special}. Received: "
                f"oov_token={self.oov_token!r} at vocabulary index {tokens.index(self.oov_token)}"
            )
        if len(set(tokens)) != len(tokens):
            repeated = [t for t, n in Counter(tokens).items() if n > 1]
            raise ValueError(
                f"The passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {repeated}"
            )
        if self.max_tokens is not None and len(tokens) + self._token_start() > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {len(tokens) + self._token_start()}; "
                f"`max_tokens` is {self.max_tokens}."
            )
        self._set_tokens(tokens)

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        start = self._token_start()
        self._index = {t: i + start for i, t in enumerate(self._tokens)}

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learns the vocabulary from ``data``: its tokens by decreasing count (ties by
        decreasing token), at most ``max_tokens`` indices in all."""
        if self.input_vocabulary is not None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} was given a vocabulary; adapt would "
                "replace it"
            )
        values = np.asarray(data, dtype=object).reshape(-1)
        counts = Counter(self._token(v) for v in values)
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ordered = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[: max(self.max_tokens - self._token_start(), 0)]
        self._set_tokens([t for t, _ in ordered])
        self.built = True

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens by index: the special tokens first unless left out."""
        tokens = list(self._tokens)
        return self._special_tokens() + tokens if include_special_tokens else tokens

    def vocabulary_size(self) -> int:
        """The number of indices: the special ones and the vocabulary."""
        return self._token_start() + len(self._tokens)

    # --- the lookup -----------------------------------------------------------------------

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        return CategoryEncoding(self._depth(), self.output_mode).compute_output_shape(input_shape)

    def _oov_index(self, token) -> int:
        start = int(self._mask_index)
        if self.num_oov_indices == 1:
            return start
        return start + self._hash_oov(token)

    def _hash_oov(self, token) -> int:
        raise NotImplementedError

    def _lookup(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The index of every token, and where the mask tokens are."""
        name = type(self).__name__
        flat = np.asarray(x, dtype=object).reshape(-1)
        ids = np.empty(flat.shape, dtype=np.int64)
        masked = np.zeros(flat.shape, dtype=bool)
        for i, value in enumerate(flat):
            token = self._token(value)
            if self.mask_token is not None and token == self.mask_token:
                ids[i], masked[i] = 0, True
                continue
            index = self._index.get(token)
            if index is None:
                if self.num_oov_indices == 0:
                    raise ValueError(
                        f"{name} {self.name!r}: when `num_oov_indices=0` all inputs should be "
                        f"in vocabulary, found OOV value {token!r}; consider setting "
                        "`num_oov_indices=1`."
                    )
                index = self._oov_index(token)
            ids[i] = index
        return ids.reshape(np.shape(x)), masked.reshape(np.shape(x))

    def _invert(self, x: np.ndarray) -> np.ndarray:
        ids = _integers(np.asarray(x), type(self).__name__)
        vocabulary = self.get_vocabulary()
        out = np.empty(ids.shape, dtype=object)
        for position, index in np.ndenumerate(ids):
            if self.mask_token is not None and index == 0:
                out[position] = self.mask_token
            elif 0 <= index < len(vocabulary) and index >= self._token_start():
                out[position] = vocabulary[index]
            else:
                out[position] = self.oov_token
        return self._as_tokens(out)

    def _as_tokens(self, out: np.ndarray) -> np.ndarray:
        return out

    def forward(self, x, training=False):
        """The indices of ``x``'s tokens (or their encoding); with ``invert``, the tokens
        of indices."""
        if self.invert:
            return self._invert(x), None
        ids, masked = self._lookup(x)
        if self.output_mode == "int":
            return ids, None
        floatx = config_module.floatx()
        return encode_categories(ids, self.output_mode, self._depth(), floatx, masked), None

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": False,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": None if self.input_vocabulary is None else list(self.input_vocabulary),
            "idf_weights": None,
            "invert": self.invert,
        }


class IntegerLookup(_IndexLookup):
    """Maps integer tokens to contiguous indices (``integer_lookup.py``).

    Args:
        max_tokens: the most indices (special ones included); ``None``: no limit.
        num_oov_indices: indices for tokens outside the vocabulary (0 refuses them; above
            1, a token goes to ``token % num_oov_indices``, Keras's default ``floormod``).
        mask_token: an integer that maps to index 0 (``None``: no mask).
        oov_token: what ``invert`` gives for an index outside the vocabulary (default -1).
        vocabulary: a list of integers, instead of ``adapt``.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"`` or ``"count"``.

    Example:
        >>> from glassnet.layers import IntegerLookup
        >>> IntegerLookup(vocabulary=[12, 36, 1138, 42])([[12, 1138, 42], [42, 1000, 36]])
        array([[1, 3, 4],
               [4, 0, 2]])
    """

    config_keys = ()

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        **kwargs,
    ) -> None:
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(
                "IntegerLookup's `vocabulary_dtype` must be 'int64' (or 'int32'). "
                f"Received: vocabulary_dtype={vocabulary_dtype!r}"
            )
        if idf_weights is not None:
            raise NotImplementedError("IntegerLookup: output_mode='tf_idf' is not supported")
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            **kwargs,
        )
        self.vocabulary_dtype = vocabulary_dtype

    def _token(self, value):
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer, float, np.floating))
            or value != int(value)
        ):
            raise ValueError(f"IntegerLookup expects integer tokens; received {value!r}")
        return int(value)

    def _hash_oov(self, token):
        return token % self.num_oov_indices

    def _as_tokens(self, out):
        return out.astype(np.int64)

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}


class StringLookup(_IndexLookup):
    """Maps string tokens to contiguous indices (``string_lookup.py``).

    Args:
        max_tokens: the most indices (special ones included); ``None``: no limit.
        num_oov_indices: 0 (out-of-vocabulary tokens refused) or 1. Keras hashes tokens
            into several indices with FarmHash, which glassnet does not reproduce.
        mask_token: a string that maps to index 0 (``None``: no mask).
        oov_token: what ``invert`` gives for an unknown index (default ``"[UNK]"``).
        vocabulary: a list of strings, instead of ``adapt``.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"`` or ``"count"``.

    Example:
        >>> from glassnet.layers import StringLookup
        >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> layer([["a", "c", "d"], ["d", "z", "b"]])
        array([[1, 3, 4],
               [4, 0, 2]])
        >>> layer.get_vocabulary()
        ['[UNK]', 'a', 'b', 'c', 'd']
    """

    config_keys = ()

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        **kwargs,
    ) -> None:
        if idf_weights is not None:
            raise NotImplementedError("StringLookup: output_mode='tf_idf' is not supported")
        if isinstance(num_oov_indices, (int, np.integer)) and num_oov_indices > 1:
            raise NotImplementedError(
                "StringLookup(num_oov_indices > 1) hashes tokens with FarmHash in Keras; "
                "glassnet supports 0 or 1"
            )
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            **kwargs,
        )

    def _token(self, value):
        if isinstance(value, bytes):
            return value.decode(self.encoding)
        if isinstance(value, (str, np.str_)):
            return str(value)
        raise ValueError(f"StringLookup expects string tokens; received {value!r}")

    def _as_tokens(self, out):
        return out.astype(str)

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}
