"""The course's learning-rate comparison: SGD with lr = 0.000001, 0.01 and 1.

A tiny rate barely moves, a huge one jumps around; 0.01 learns. Run:
``python examples/learning_rates.py [--epochs 10]``.
"""

import argparse

from glassnet.datasets import titanic
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD
from glassnet.utils import set_random_seed, to_categorical

df = titanic()
predictors = df.drop(["survived"], axis=1).values.astype("float32")
predictors = (predictors - predictors.mean(axis=0)) / predictors.std(axis=0)
target = to_categorical(df.survived)
input_shape = (predictors.shape[1],)


def get_new_model(input_shape=input_shape):
    model = Sequential()
    model.add(Dense(100, activation="relu", input_shape=input_shape))
    model.add(Dense(100, activation="relu"))
    model.add(Dense(2, activation="softmax"))
    return model


def main(epochs: int = 10) -> dict:
    lr_to_test = [0.000001, 0.01, 1]
    final_losses = {}
    for lr in lr_to_test:
        print(f"\n\nTesting model with learning rate: {lr}\n")
        set_random_seed(0)  # the same starting weights for every rate
        model = get_new_model()
        my_optimizer = SGD(lr=lr)
        model.compile(optimizer=my_optimizer, loss="categorical_crossentropy")
        history = model.fit(predictors, target, epochs=epochs, verbose=2)
        final_losses[lr] = history.history["loss"][-1]
    return final_losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    print(main(parser.parse_args().epochs))
