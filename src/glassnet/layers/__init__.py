"""Layers, as in ``keras.layers``: ``Dense``, ``Activation``, ``Dropout``, ``InputLayer``, ..."""

from glassnet.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from glassnet.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.bidirectional import Bidirectional
from glassnet.layers.config_keys import ConfigKey
from glassnet.layers.convolution import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from glassnet.layers.core import Activation, Dropout, Flatten, Input, InputLayer, Reshape
from glassnet.layers.dense import Dense
from glassnet.layers.embedding import Embedding
from glassnet.layers.lambda_layer import Lambda
from glassnet.layers.lookup import CategoryEncoding, IntegerLookup, StringLookup
from glassnet.layers.masking import Masking
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
from glassnet.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
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
from glassnet.layers.recurrent import GRU, LSTM, SimpleRNN
from glassnet.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
)
from glassnet.layers.rescaling import Rescaling
from glassnet.layers.resizing import CenterCrop, Resizing
from glassnet.layers.shaping import Identity, Permute, RepeatVector
from glassnet.layers.spatial import (
    Cropping1D,
    Cropping2D,
    SpatialDropout1D,
    SpatialDropout2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)

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
        Masking,
        LayerNormalization,
        GroupNormalization,
        UnitNormalization,
        GaussianNoise,
        GaussianDropout,
        AlphaDropout,
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
        Conv1D,
        Conv2D,
        Conv2DTranspose,
        Conv1DTranspose,
        DepthwiseConv1D,
        DepthwiseConv2D,
        SeparableConv1D,
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
        SpatialDropout1D,
        UpSampling2D,
        ZeroPadding2D,
        Cropping1D,
        UpSampling1D,
        ZeroPadding1D,
        Resizing,
        CenterCrop,
        RandomBrightness,
        RandomContrast,
        RandomCrop,
        RandomFlip,
        RandomRotation,
        RandomTranslation,
        RandomZoom,
        SimpleRNN,
        LSTM,
        GRU,
        Bidirectional,
    )
}


def serialize(layer: Layer) -> dict:
    """A layer as Keras's serialized dict (``keras.layers.serialize``): ``module``,
    ``class_name``, ``config``, ``registered_name``."""
    if not isinstance(layer, Layer):
        raise TypeError(f"`layer` must be a glassnet Layer. Received: {layer!r}")
    return {
        "module": "keras.layers",
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """A new layer from ``serialize``'s dict (``keras.layers.deserialize``): its class is
    one of ``LAYER_CLASSES`` or a ``Layer`` subclass given in ``custom_objects``; nothing a
    config names is imported."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise TypeError(
            f"`config` must be a dict with 'class_name' and 'config'. Received: config={config!r}"
        )
    name = config["class_name"]
    cls = dict(custom_objects or {}).get(name) or LAYER_CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"Unknown layer: {name!r}. glassnet's layers are {sorted(LAYER_CLASSES)}; pass "
            "your own Layer subclass in `custom_objects`"
        )
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"{name!r} in `custom_objects` is not a Layer subclass")
    return cls.from_config(dict(config.get("config") or {}))


__all__ = [
    "LAYER_CLASSES",
    "deserialize",
    "serialize",
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
    "AlphaDropout",
    "GroupNormalization",
    "Add",
    "Average",
    "CategoryEncoding",
    "Concatenate",
    "Dot",
    "Embedding",
    "Masking",
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
    "Conv1D",
    "Conv2D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
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
    "SpatialDropout1D",
    "SpatialDropout2D",
    "UpSampling2D",
    "ZeroPadding2D",
    "Cropping1D",
    "UpSampling1D",
    "ZeroPadding1D",
    "Resizing",
    "CenterCrop",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "Bidirectional",
]
