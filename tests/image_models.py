"""Models shared by the image-layer tests."""

from __future__ import annotations

from glassnet import layers as layers_module
from glassnet.models import Sequential


def every_image_layer_model():
    """A model that holds every image layer (as the round trip below saves it)."""
    L = layers_module
    return Sequential(
        [
            L.Input(shape=(12, 12, 3)),
            L.Rescaling(1 / 255),
            L.RandomFlip(seed=1),
            L.RandomRotation(0.1, seed=2),
            L.RandomZoom(0.1),
            L.RandomTranslation(0.1, 0.1),
            L.RandomContrast(0.2),
            L.RandomBrightness(0.1, value_range=(0, 1), seed=4),
            L.RandomCrop(12, 12, seed=5),  # the input's size: Keras 3.15 predicts uncut
            L.ZeroPadding2D(((1, 2), (0, 1))),
            L.Conv2D(4, 3, activation="relu", padding="same"),
            L.BatchNormalization(),
            L.DepthwiseConv2D(3, depth_multiplier=2),
            L.SeparableConv2D(4, 2),
            L.Conv2DTranspose(4, 2, strides=2),
            L.Cropping2D(1),
            L.MaxPooling2D(2),
            L.AveragePooling2D(2, padding="same"),
            L.UpSampling2D(2),
            L.SpatialDropout2D(0.2),
            L.Conv2D(4, 3, groups=2),
            L.GlobalMaxPooling2D(keepdims=True),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )
