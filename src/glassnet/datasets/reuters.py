"""``reuters.load_data()``: 11,228 Reuters newswires in 46 topics, as sequences of word
indices, as ``keras.datasets.reuters`` (``keras/src/datasets/reuters.py``), with
``get_word_index()`` and ``get_label_names()``.
"""

from __future__ import annotations

import json

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

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
):
    """Loads the Reuters newswires (8,982 for training and 2,246 for testing by default).

    Args:
        path: the file's name in the cache.
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from: as in
            ``imdb.load_data``.
        test_split: the fraction kept for testing.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: object arrays of lists of ints and integer
        topic labels 0-45 (``get_label_names()`` names them).
    """
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}reuters.npz", file_hash=SHA256)
    f = load_npz(path)
    xs, labels = f["x"], f["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = index_sequences(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    xs = cut_vocabulary(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return (
        (object_array(xs[:idx]), np.array(labels[:idx])),
        (object_array(xs[idx:]), np.array(labels[idx:])),
    )


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """The word index: ``{word: index}``, 1 the most frequent (before ``index_from``)."""
    path = get_file(
        path, origin=f"{ORIGIN_FOLDER}reuters_word_index.json", file_hash=WORD_INDEX_MD5
    )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, in label order."""
    return _LABELS
