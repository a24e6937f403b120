"""The course's validation and early stopping: hold out 30%, stop after 2 epochs without
improvement. Run: ``python examples/validation_early_stopping.py [--epochs 30]``.
"""

import argparse

from glassnet.callbacks import EarlyStopping
from glassnet.datasets import titanic
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.utils import to_categorical


def main(epochs: int = 30):
    df = titanic()
    predictors = df.drop(["survived"], axis=1).values.astype("float32")
    predictors = (predictors - predictors.mean(axis=0)) / predictors.std(axis=0)
    target = to_categorical(df.survived)
    n_cols = predictors.shape[1]

    model = Sequential()
    model.add(Dense(100, activation="relu", input_shape=(n_cols,)))
    model.add(Dense(100, activation="relu"))
    model.add(Dense(2, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    early_stopping_monitor = EarlyStopping(patience=2)
    history = model.fit(
        predictors,
        target,
        epochs=epochs,
        validation_split=0.3,
        callbacks=[early_stopping_monitor],
        verbose=2,
    )
    print(f"stopped after {len(history.epoch)} of {epochs} epochs")
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    main(parser.parse_args().epochs)
