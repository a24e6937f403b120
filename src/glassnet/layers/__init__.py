"""Layers, as in ``keras.layers``: ``Dense``, ``Activation``, ``Dropout``, ``InputLayer``, ..."""

from glassnet.layers.augmentation import (
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import ConfigKey
from glassnet.layers.convolution import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
)
from glassnet.layers.core import Activation, Dropout, Flatten, Input, InputLayer, Reshape
from glassnet.layers.dense import Dense
from glassnet.layers.normalization import BatchNormalization
from glassnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from glassnet.layers.preprocessing import Normalization
from glassnet.layers.rescaling import Rescaling
from glassnet.layers.spatial import Cropping2D, SpatialDropout2D, UpSampling2D, ZeroPadding2D

#: The layer catalog: every class ``Sequential.from_config`` and ``glassnet.saving`` may
#: build, by the ``class_name`` Keras writes into model configs. This explicit list is the
#: allowlist for files; a new layer class is added here (with its ``config_keys``), and
#: nothing named in a file is ever imported.
LAYER_CLASSES = {
    cls.__name__: cls
    for cls in (
        Dense,
        Activation,
        Dropout,
        Flatten,
        InputLayer,
        Reshape,
        BatchNormalization,
        Normalization,
        Conv1D,
        Conv2D,
        Conv2DTranspose,
        DepthwiseConv2D,
        SeparableConv2D,
        AveragePooling1D,
        AveragePooling2D,
        GlobalAveragePooling1D,
        GlobalAveragePooling2D,
        GlobalMaxPooling1D,
        GlobalMaxPooling2D,
        MaxPooling1D,
        MaxPooling2D,
        Rescaling,
        Cropping2D,
        SpatialDropout2D,
        UpSampling2D,
        ZeroPadding2D,
        RandomContrast,
        RandomFlip,
        RandomRotation,
        RandomTranslation,
        RandomZoom,
    )
}

__all__ = [
    "LAYER_CLASSES",
    "Activation",
    "ConfigKey",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "Normalization",
    "Reshape",
    "WeightSpec",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Rescaling",
    "Cropping2D",
    "SpatialDropout2D",
    "UpSampling2D",
    "ZeroPadding2D",
    "RandomContrast",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]
