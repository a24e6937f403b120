"""``imdb.load_data()``: 50,000 movie reviews as sequences of word indices, labelled
positive or negative, as ``keras.datasets.imdb`` (``keras/src/datasets/imdb.py``), with
``get_word_index()``. The ``.npz`` holds object arrays, read with a restricted unpickler.
"""

from __future__ import annotations

import json
import warnings

import numpy as np

from glassnet.datasets._keras_files import (
    ORIGIN_FOLDER,
    cut_vocabulary,
    index_sequences,
    load_npz,
    object_array,
    remove_long_seq,
)
from glassnet.utils.file_utils import get_file

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs,
):
    """Loads the IMDB reviews, 25,000 for training and 25,000 for testing.

    Words are indexed by frequency (1 the most frequent), then shifted by ``index_from``;
    each review starts with ``start_char``; words outside ``[skip_top, num_words)`` become
    ``oov_char`` (or are dropped when it is ``None``).

    Args:
        path: the file's name in the cache.
        num_words: keep only the most frequent words (``None``: all).
        skip_top: drop the most frequent words.
        maxlen: keep only reviews shorter than this.
        seed: the shuffle's seed.
        start_char, oov_char, index_from: see above.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of lists of ints and 0/1
        labels.
    """
    if "nb_words" in kwargs:  # Keras 1's name
        warnings.warn("`nb_words` is deprecated; use `num_words`", DeprecationWarning, stacklevel=2)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb.npz", file_hash=SHA256)
    f = load_npz(path)
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]
    x_train = index_sequences(x_train, start_char, index_from)
    x_test = index_sequences(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )
    xs = cut_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return (object_array(xs[:idx]), labels[:idx]), (object_array(xs[idx:]), labels[idx:])


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """The word index: ``{word: index}``, 1 the most frequent (before ``index_from``)."""
    path = get_file(
        fname=path, origin=f"{ORIGIN_FOLDER}imdb_word_index.json", file_hash=WORD_INDEX_MD5
    )
    with open(path, encoding="utf-8") as f:
        return json.load(f)
