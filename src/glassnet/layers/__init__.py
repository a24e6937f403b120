"""Layers, as in ``keras.layers``: ``Dense``, ``Activation``, ``Dropout``, ``InputLayer``, ..."""

from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.core import Activation, Dropout, Flatten, Input, InputLayer, Reshape
from glassnet.layers.dense import Dense
from glassnet.layers.normalization import BatchNormalization
from glassnet.layers.preprocessing import Normalization

#: Layer classes by the ``class_name`` Keras writes into model configs.
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
    )
}

__all__ = [
    "LAYER_CLASSES",
    "Activation",
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
]
