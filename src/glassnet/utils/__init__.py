"""Helpers the course uses from ``keras.utils``: ``to_categorical`` and ``set_random_seed``."""

from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.seeding import set_random_seed

__all__ = ["normalize", "set_random_seed", "to_categorical"]
