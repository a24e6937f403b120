"""Helpers from ``keras.utils``: ``to_categorical``, ``normalize``, ``pad_sequences``,
``set_random_seed``, ``get_file``, ``PyDataset``, ``clear_session``, ``plot_model``,
``Progbar``, ``split_dataset``, ``timeseries_dataset_from_array``, the packing of data
tuples, the interactive-logging switches, the registry of the user's own objects, and
images from files (``image_dataset_from_directory``, ``load_img``, ``img_to_array``,
``array_to_img``; these need Pillow)."""

from glassnet.backend import clear_session
from glassnet.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from glassnet.utils.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
    standardize_dtype,
)
from glassnet.utils.dataset_utils import (
    pack_x_y_sample_weight,
    split_dataset,
    timeseries_dataset_from_array,
    unpack_x_y_sample_weight,
)
from glassnet.utils.file_utils import get_file
from glassnet.utils.images import (
    array_to_img,
    image_dataset_from_directory,
    img_to_array,
    load_img,
)
from glassnet.utils.model_plot import plot_model
from glassnet.utils.numerical_utils import normalize, to_categorical
from glassnet.utils.progbar import Progbar
from glassnet.utils.py_dataset import PyDataset, Sequence
from glassnet.utils.seeding import set_random_seed
from glassnet.utils.sequence_utils import pad_sequences

__all__ = [
    "CustomObjectScope",
    "Progbar",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "is_interactive_logging_enabled",
    "pack_x_y_sample_weight",
    "register_keras_serializable",
    "serialize_keras_object",
    "split_dataset",
    "standardize_dtype",
    "timeseries_dataset_from_array",
    "unpack_x_y_sample_weight",
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
