"""Keras's simple MNIST convnet on glassnet's bundled MNIST sample (5,000 digits, 28x28).

Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu) -> MaxPooling2D(2) -> Flatten
-> Dropout(0.5) -> Dense(10, softmax), as in Keras's example "Simple MNIST convnet"; 4,000
digits train it and the last 1,000 are held out.
Run: ``python examples/mnist_convnet.py [--epochs 12]`` (about 96% of the held-out digits
right after 12 epochs; 5,000 digits are few for this network).
"""

import argparse

import glassnet as keras
from glassnet import layers
from glassnet.datasets import mnist_sample


def main(epochs: int = 12) -> float:
    keras.utils.set_random_seed(1)
    x, y = mnist_sample(as_frame=False)
    x = x.reshape(-1, 28, 28, 1) / 255.0  # images: (rows, height, width, channels)
    x_train, y_train, x_test, y_test = x[:4000], y[:4000], x[4000:], y[4000:]

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=12)
    print("held-out accuracy:", main(parser.parse_args().epochs))
