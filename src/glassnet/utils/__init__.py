"""Helpers from ``keras.utils``: ``to_categorical``, ``normalize``, ``pad_sequences``,
``set_random_seed``, ``get_file``, ``PyDataset``, ``clear_session``, ``plot_model``, and images
from files (``image_dataset_from_directory``, ``load_img``, ``img_to_array``,
``array_to_img``; these need Pillow)."""

from glassnet.backend import clear_session
from glassnet.utils.file_utils import get_file
from glassnet.utils.images import (
    array_to_img,
    image_dataset_from_directory,
    img_to_array,
    load_img,
)
from glassnet.utils.model_plot import plot_model
from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.py_dataset import PyDataset, Sequence
from glassnet.utils.seeding import set_random_seed
from glassnet.utils.sequence_utils import pad_sequences

__all__ = [
    "PyDataset",
    "Sequence",
    "array_to_img",
    "clear_session",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "normalize",
    "pad_sequences",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]
