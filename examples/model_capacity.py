"""The course's capacity experiment: a small model against a wider one, then a deeper one,
comparing validation loss per epoch on one plot.
Run: ``python examples/model_capacity.py [--epochs 15] [--out capacity.png]``.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from glassnet.callbacks import EarlyStopping  # noqa: E402
from glassnet.datasets import titanic  # noqa: E402
from glassnet.layers import Dense  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.utils import set_random_seed, to_categorical  # noqa: E402


def main(epochs: int = 15, out: str = "capacity.png") -> dict:
    df = titanic()
    predictors = df.drop(["survived"], axis=1).values.astype("float32")
    predictors = (predictors - predictors.mean(axis=0)) / predictors.std(axis=0)
    target = to_categorical(df.survived)
    input_shape = (predictors.shape[1],)
    set_random_seed(1)

    model_1 = Sequential()
    model_1.add(Dense(10, activation="relu", input_shape=input_shape))
    model_1.add(Dense(10, activation="relu"))
    model_1.add(Dense(2, activation="softmax"))
    model_1.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    model_2 = Sequential()  # wider
    model_2.add(Dense(100, activation="relu", input_shape=input_shape))
    model_2.add(Dense(100, activation="relu"))
    model_2.add(Dense(2, activation="softmax"))
    model_2.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    model_3 = Sequential()  # deeper
    model_3.add(Dense(50, activation="relu", input_shape=input_shape))
    model_3.add(Dense(50, activation="relu"))
    model_3.add(Dense(50, activation="relu"))
    model_3.add(Dense(2, activation="softmax"))
    model_3.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

    early_stopping_monitor = EarlyStopping(patience=2)
    histories = {}
    for name, model in [("small", model_1), ("wider", model_2), ("deeper", model_3)]:
        training = model.fit(
            predictors,
            target,
            epochs=epochs,
            validation_split=0.2,
            callbacks=[early_stopping_monitor],
            verbose=False,
        )
        histories[name] = training.history["val_loss"]
        print(
            f"{name:7s} {model.count_params():6d} params  best val_loss {min(histories[name]):.4f}"
        )

    plt.plot(histories["small"], "r", histories["wider"], "b", histories["deeper"], "g")
    plt.xlabel("Epochs")
    plt.ylabel("Validation score")
    plt.legend(["small (10, 10)", "wider (100, 100)", "deeper (50, 50, 50)"])
    plt.savefig(out, dpi=100)
    plt.close()
    print(f"saved {out}")
    return histories


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", default="capacity.png")
    args = parser.parse_args()
    main(args.epochs, args.out)
