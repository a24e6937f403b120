"""The course's model-capacity workflow on the wages table, automated by ``capacity_search``.

The course: "Start with a simple network, and get the validation score. Then keep adding
capacity as long as the score keeps improving. Once it stops improving, you can decrease
capacity slightly." Here ``capacity_search`` starts with one hidden layer of 100 units,
tries wider layers, then more layers, then steps back, training each model several times
with shared seeds, and reports every model with its validation MSE, parameter count and
time. The picture shows each model's validation loss per epoch.

Run: ``python examples/capacity_search_wages.py capacity_search_wages.png [--epochs 50]``.
"""

from __future__ import annotations

import argparse

import numpy as np

from glassnet.datasets import hourly_wages
from glassnet.experiments import Results, capacity_search


def main(out: str = "capacity_search_wages.png", epochs: int = 50, repeats: int = 5,
         max_units: int = 1024, seed: int = 0, n_jobs: int | None = None) -> Results:
    df = hourly_wages()
    predictors = df.drop(columns=["wage_per_hour"]).to_numpy(dtype="float32")
    target = df["wage_per_hour"].to_numpy(dtype="float32")
    # The course scales the predictors to mean 0 and standard deviation 1 first.
    predictors = (predictors - predictors.mean(axis=0)) / predictors.std(axis=0)

    found = capacity_search(
        predictors, target,
        start=(100,),                # the course's first model: one layer of 100 units
        loss="mean_squared_error",
        learning_rate=0.01,
        epochs=epochs,
        validation_split=0.3,        # the course's validation split
        patience=2,                  # the course's EarlyStopping(patience=2)
        repeats=repeats,
        max_units=max_units,
        seed=seed,
        n_jobs=n_jobs,
    )
    print(found)
    best = found.best
    print(f"\nchosen: {best.name} ({best.params['layers']} hidden layer(s) of "
          f"{best.params['units']} units), validation MSE {best.score:.2f} "
          f"± {best.std:.2f} over {len(best.runs)} seeds")
    spread = np.ptp([t.score for t in found])
    print(f"all models lie within {spread:.2f} of each other; the seed-to-seed spread of one "
          f"model is about {np.mean([t.std for t in found]):.2f}")
    found.plot(out)
    print(f"saved {out}")
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="capacity_search_wages.png",
                        help="where to save the learning-curve picture (PNG)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.out, epochs=args.epochs, repeats=args.repeats, seed=args.seed)
