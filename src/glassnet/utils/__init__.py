"""Helpers from ``keras.utils``: ``to_categorical``, ``normalize``, ``pad_sequences``,
``set_random_seed``, ``get_file``, ``PyDataset``, ``clear_session`` and ``plot_model``."""

from glassnet.backend import clear_session
from glassnet.utils.file_utils import get_file
from glassnet.utils.model_plot import plot_model
from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.py_dataset import PyDataset, Sequence
from glassnet.utils.seeding import set_random_seed
from glassnet.utils.sequence_utils import pad_sequences

__all__ = [
    "PyDataset",
    "Sequence",
    "clear_session",
    "get_file",
    "normalize",
    "pad_sequences",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]
