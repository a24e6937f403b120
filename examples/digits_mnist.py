"""The course's last model: handwritten digits (28x28 MNIST sample, 784 inputs).

Dense(50, relu) -> Dense(50, relu) -> Dense(10, softmax), validation_split=0.3.
Run: ``python examples/digits_mnist.py [--epochs 10]``.
"""

import argparse

from glassnet.datasets import mnist_sample
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.utils import to_categorical


def main(epochs: int = 10) -> float:
    df = mnist_sample()
    X = df.drop(["label"], axis=1).values.astype("float32") / 255.0
    y = to_categorical(df.label)

    model = Sequential()
    model.add(Dense(50, activation="relu", input_shape=(784,)))
    model.add(Dense(50, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, validation_split=0.3, epochs=epochs, verbose=2)
    return history.history["val_accuracy"][-1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    print("validation accuracy:", main(parser.parse_args().epochs))
