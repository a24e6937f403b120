"""Helpers from ``keras.utils``: ``to_categorical``, ``normalize``, ``set_random_seed``,
``get_file``."""

from glassnet.utils.file_utils import get_file
from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.seeding import set_random_seed

__all__ = ["get_file", "normalize", "set_random_seed", "to_categorical"]
