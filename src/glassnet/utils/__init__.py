"""Helpers from ``keras.utils``: ``to_categorical``, ``set_random_seed``, ``plot_model``..."""

from glassnet.utils.model_plot import plot_model
from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.seeding import set_random_seed

__all__ = ["normalize", "plot_model", "set_random_seed", "to_categorical"]
