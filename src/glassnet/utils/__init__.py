"""Helpers the course uses from ``keras.utils``: ``to_categorical`` and ``set_random_seed``;
and images from files (``image_dataset_from_directory``, ``load_img``, ``img_to_array``,
``array_to_img``; these need Pillow)."""

from glassnet.utils.images import (
    array_to_img,
    image_dataset_from_directory,
    img_to_array,
    load_img,
)
from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.seeding import set_random_seed

__all__ = [
    "array_to_img",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "normalize",
    "set_random_seed",
    "to_categorical",
]
