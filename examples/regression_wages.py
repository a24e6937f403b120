"""The course's first Keras model: predict hourly wages (regression).

Specify, compile, fit, predict, exactly as the course writes it with ``keras`` replaced by
``glassnet``. Run: ``python examples/regression_wages.py [--epochs 30]``.
"""

import argparse

from glassnet.datasets import hourly_wages
from glassnet.layers import Dense
from glassnet.models import Sequential


def main(epochs: int = 30) -> float:
    df = hourly_wages()
    predictors = df.drop(["wage_per_hour"], axis=1).values
    target = df.wage_per_hour.values
    n_cols = predictors.shape[1]

    # Specify the model
    model = Sequential()
    model.add(Dense(50, activation="relu", input_shape=(n_cols,)))
    model.add(Dense(32, activation="relu"))
    model.add(Dense(1))

    # Compile the model
    model.compile(optimizer="adam", loss="mean_squared_error")
    print("Loss function: " + model.loss.name)
    model.summary()

    # Fit the model
    history = model.fit(predictors, target, epochs=epochs, verbose=2)

    predictions = model.predict(predictors[:5], verbose=0)
    for predicted, actual in zip(predictions[:, 0], target[:5], strict=True):
        print(f"predicted wage {predicted:6.2f}   actual {actual:6.2f}")
    return history.history["loss"][-1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    main(parser.parse_args().epochs)
