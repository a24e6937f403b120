"""Layers, as in ``keras.layers``: ``Dense``, ``Activation``, ``Dropout``, ``InputLayer``, ..."""

from glassnet.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import ConfigKey
from glassnet.layers.core import Activation, Dropout, Flatten, Input, InputLayer, Reshape
from glassnet.layers.dense import Dense
from glassnet.layers.embedding import Embedding
from glassnet.layers.lambda_layer import Lambda
from glassnet.layers.lookup import CategoryEncoding, IntegerLookup, StringLookup
from glassnet.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from glassnet.layers.normalization import BatchNormalization, LayerNormalization, UnitNormalization
from glassnet.layers.preprocessing import Normalization
from glassnet.layers.regularization import ActivityRegularization, GaussianDropout, GaussianNoise
from glassnet.layers.shaping import Identity, Permute, RepeatVector

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
        Softmax,
        ReLU,
        LeakyReLU,
        PReLU,
        ELU,
        Embedding,
        LayerNormalization,
        UnitNormalization,
        GaussianNoise,
        GaussianDropout,
        ActivityRegularization,
        CategoryEncoding,
        IntegerLookup,
        StringLookup,
        Identity,
        RepeatVector,
        Permute,
        Lambda,
        Concatenate,
        Add,
        Subtract,
        Multiply,
        Average,
        Maximum,
        Minimum,
        Dot,
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
    "ELU",
    "ActivityRegularization",
    "Add",
    "Average",
    "CategoryEncoding",
    "Concatenate",
    "Dot",
    "Embedding",
    "GaussianDropout",
    "GaussianNoise",
    "Identity",
    "IntegerLookup",
    "Lambda",
    "LayerNormalization",
    "LeakyReLU",
    "Maximum",
    "Minimum",
    "Multiply",
    "PReLU",
    "Permute",
    "ReLU",
    "RepeatVector",
    "Softmax",
    "StringLookup",
    "Subtract",
    "UnitNormalization",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
