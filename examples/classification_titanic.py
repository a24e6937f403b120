"""The course's classification model: who survived the Titanic.

``to_categorical`` turns the 0/1 target into two columns, the output layer is a softmax over
two units, and ``predict(...)[:, 1]`` is the probability of survival. The model is saved to
``model_file.h5`` and loaded back, as the course does.
Run: ``python examples/classification_titanic.py [--epochs 20] [--out DIR]``.
"""

import argparse
import os

from glassnet.datasets import titanic
from glassnet.layers import Dense
from glassnet.models import Sequential, load_model
from glassnet.utils import to_categorical


def main(epochs: int = 20, out: str = ".") -> float:
    df = titanic()
    predictors = df.drop(["survived"], axis=1).values.astype("float32")
    # Scale to mean 0 and standard deviation 1, as the course recommends.
    predictors = (predictors - predictors.mean(axis=0)) / predictors.std(axis=0)
    target = to_categorical(df.survived)
    n_cols = predictors.shape[1]

    model = Sequential()
    model.add(Dense(32, activation="relu", input_shape=(n_cols,)))
    model.add(Dense(2, activation="softmax"))
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(predictors[:-10], target[:-10], epochs=epochs, verbose=2)

    # Save, load, and predict on rows the model has not seen
    path = os.path.join(out, "model_file.h5")
    model.save(path)
    my_model = load_model(path)
    my_model.summary()
    pred_data = predictors[-10:]
    predictions = my_model.predict(pred_data, verbose=0)
    predicted_prob_true = predictions[:, 1]
    print("probability of survival:", predicted_prob_true.round(2))
    print("survived:              ", df.survived.values[-10:])
    return float(my_model.evaluate(predictors, target, verbose=0)[1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    main(args.epochs, args.out)
