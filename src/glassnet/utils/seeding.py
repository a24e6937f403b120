"""The random state glassnet draws from, and ``set_random_seed``.

All randomness in glassnet (weight initialisation, shuffling, dropout masks) comes from
one ``numpy.random.Generator`` per purpose, created from the seed given to
``set_random_seed``. Without a seed they start from fresh OS entropy, so two unseeded runs
differ, as in Keras; with the same seed, data and machine, training is bit-identical.
"""

from __future__ import annotations

import random

import numpy as np

_seed_sequence = np.random.SeedSequence()


def set_random_seed(seed: int) -> None:
    """Seeds glassnet, NumPy's global generator and Python's ``random`` module.

    Like ``keras.utils.set_random_seed``: after it, building and training the same model on
    the same data gives the same weights, bit for bit, on the same machine.

    Args:
        seed: a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    global _seed_sequence
    _seed_sequence = np.random.SeedSequence(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def new_generator(seed: int | None = None) -> np.random.Generator:
    """A generator from ``seed`` if given, else the next one spawned from the global seed."""
    if seed is not None:
        return np.random.default_rng(seed)
    (child,) = _seed_sequence.spawn(1)
    return np.random.default_rng(child)
