"""The course's digits model on scikit-learn's 8x8 digits: it must actually learn.

Dense(50, relu) → Dense(50, relu) → Dense(10, softmax), Adam, 30 epochs, categorical
cross-entropy on one-hot targets, inputs scaled to mean 0 and deviation 1, 70/30 split with
a fixed seed. With seeds 0 to 5 the engine reaches 0.967 to 0.972 held-out accuracy, so
0.95 leaves room for other seeds and machines; a plain linear softmax model trained the
same way gets 0.94, and chance is 0.10.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.utils import set_random_seed, to_categorical

sklearn_datasets = pytest.importorskip("sklearn.datasets")
model_selection = pytest.importorskip("sklearn.model_selection")
preprocessing = pytest.importorskip("sklearn.preprocessing")


@pytest.fixture(scope="module")
def digits():
    images, labels = sklearn_datasets.load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        images, labels, test_size=0.3, random_state=0, stratify=labels
    )
    scaler = preprocessing.StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


def test_digits_model_reaches_95_percent_held_out_accuracy(digits):
    x_train, x_test, y_train, y_test = digits
    assert x_train.shape == (1257, 64) and x_test.shape == (540, 64)
    set_random_seed(0)
    model = Sequential()
    model.add(Dense(50, activation="relu", input_shape=(64,)))
    model.add(Dense(50, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    history = model.fit(x_train, to_categorical(y_train), epochs=30, verbose=False)

    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    loss, accuracy = model.evaluate(x_test, to_categorical(y_test, 10), verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    assert accuracy == pytest.approx(np.mean(predicted == y_test))
    assert accuracy >= 0.95
