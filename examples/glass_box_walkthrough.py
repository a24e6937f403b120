"""Chapters 1 and 2 of "Introduction to Deep Learning in Python", worked by glassnet's glass box.

Every number the course computes by hand (forward propagation, activation functions, deeper
networks, the error, the slope of the loss for each weight, a gradient-descent update,
backpropagation) is printed here by ``glassnet.explain``, and each exercise's network is
drawn.

Run::

    python examples/glass_box_walkthrough.py            # pictures go to ./out
    python examples/glass_box_walkthrough.py pictures/  # or to a folder of your choice

The pictures need matplotlib (``pip install glassnet[plot]``); without it the traces are
still printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glassnet.explain import from_node_weights, slopes, step, trace

try:
    import matplotlib  # noqa: F401  (only to learn whether pictures are possible)

    from glassnet.explain import plot_loss_surface, plot_network, plot_slope
except ImportError:  # pragma: no cover - matplotlib is optional
    plot_network = plot_loss_surface = plot_slope = None


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def picture(draw, out: Path, name: str, *args, **kwargs) -> None:
    """Draws one picture into ``out/name`` (when matplotlib is there) and says where."""
    if draw is None:
        print(f"(picture {name} skipped: pip install glassnet[plot] to draw it)")
        return
    draw(*args, path=out / name, **kwargs)
    print(f"picture: {out / name}")


def chapter_1(out: Path) -> None:
    """Basics of deep learning and neural networks: forward propagation."""
    heading("1.1 Forward propagation (the bank transactions network)")
    weights = {"node_0": np.array([1, 1]), "node_1": np.array([-1, 1]),
               "output": np.array([2, -1])}
    model = from_node_weights(weights)
    print(trace(model, [2, 3]))  # hidden [5, 1], prediction 9
    picture(plot_network, out, "ch1_forward_propagation.png", model, x=[2, 3])

    heading("1.2 Coding the forward propagation algorithm")
    weights = {"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]}
    print(trace(from_node_weights(weights), [3, 5]))  # -39

    heading("1.3 Activation functions: tanh")
    tanh_model = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]},
                                   hidden_activation="tanh")
    tanh_trace = trace(tanh_model, [2, 3])
    print(tanh_trace)  # 2 tanh(5) - tanh(1)
    print("to the last digit:", repr(float(tanh_trace.prediction[0, 0])))  # 1.2382242525694254
    print("The course's tanh listing types input [-1, 2] with weights node_0 [3, 3], node_1 "
          "[1, 5]; those numbers give:")
    listing = from_node_weights({"node_0": [3, 3], "node_1": [1, 5], "output": [2, -1]},
                                hidden_activation="tanh")
    listing_trace = trace(listing, [-1, 2])
    print(listing_trace)  # 2 tanh(3) - tanh(9)
    print("to the last digit:", repr(float(listing_trace.prediction[0, 0])))  # 0.99010953783342
    print("The printed 1.2382242525694254 belongs to the first network above (inputs [2, 3]).")
    picture(plot_network, out, "ch1_tanh.png", tanh_model, x=[2, 3])

    heading("1.4 The Rectified Linear Activation function")
    relu_model = from_node_weights(weights, hidden_activation="relu")
    print(trace(relu_model, [3, 5]))  # 52
    picture(plot_network, out, "ch1_relu.png", relu_model, x=[3, 5])

    heading("1.5 Applying the network to many observations")
    rows = [[3, 5], [1, -1], [0, 0], [8, 4]]
    many = trace(from_node_weights(weights, "relu", "relu"), rows)
    print("predictions:", many.prediction.ravel().tolist())  # [52, 63, 0, 148]
    print(many.to_frame().query("layer == 'output'").to_string(index=False))

    heading("1.6 Multi-layer neural networks")
    deep = from_node_weights({"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2],
                              "node_1_1": [1, 2], "output": [2, 7]}, hidden_activation="relu")
    print(trace(deep, [3, 5]))  # first hidden layer [26, 0], prediction 182
    picture(plot_network, out, "ch1_deeper_network.png", deep, x=[3, 5])


def chapter_2(out: Path) -> None:
    """Optimizing a neural network with backward propagation."""
    heading("2.1 The need for optimization: a baseline network, target 13")
    baseline = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]})
    prediction = trace(baseline, [2, 3]).prediction[0, 0]
    print(f"prediction {prediction:g}, target 13, error 13 - {prediction:g} = {13 - prediction:g}")
    better = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [3, -2]})
    print(trace(better, [2, 3]))  # 13: exactly the target
    picture(plot_network, out, "ch2_better_weights.png", better, x=[2, 3])

    heading("2.2 Slope calculation example: one weight")
    one = from_node_weights({"output": [2]})  # a node of value 3 feeds the output by weight 2
    print(slopes(one, [3], [10], loss="mean_squared_error"))  # -8 and -24
    print(step(one, [3], [10], learning_rate=0.01, loss="mean_squared_error"))  # 2.24
    picture(plot_slope, out, "ch2_slope_one_weight.png", from_node_weights({"output": [2]}),
            [3], [10], loss="mean_squared_error", steps=4)

    heading("2.3 Code to calculate slopes and update weights: two weights")
    two = from_node_weights({"output": [1, 2]})
    picture(plot_loss_surface, out, "ch2_loss_surface.png", two, [3, 4], [6],
            loss="mean_squared_error", steps=8, span=2.0)
    print(step(two, [3, 4], [6], learning_rate=0.01, loss="mean_squared_error"))  # error 5 -> 2.5

    heading("2.4 Backpropagation in practice")
    network = from_node_weights({"node_0_0": [1, -1], "node_0_1": [-1, 1], "node_1_0": [1, 1],
                                 "node_1_1": [2, 3], "output": [1, 2]},
                                hidden_activation="relu", output_activation="relu")
    print(trace(network, [1, 2]))  # hidden layers [0, 1] and [1, 3]; prediction 7
    backprop = slopes(network, [1, 2], [4], loss="mean_squared_error")
    print(backprop)  # output weights: 6 and 18; into node_1_0: 0 and 6
    # The course's backpropagation picture: node values inside, slopes at the nodes in red.
    picture(plot_network, out, "ch2_backprop_network.png", network, x=[1, 2], y=[4],
            loss="mean_squared_error")

    heading("2.5 Stochastic gradient descent: one step on a batch of rows")
    batch_x = [[3, 5], [1, -1], [0, 0], [8, 4]]
    batch_y = [50, 60, 0, 150]
    batch_model = from_node_weights({"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]},
                                    hidden_activation="relu")
    too_big = step(batch_model, batch_x, batch_y, learning_rate=0.001,
                   loss="mean_squared_error", apply=False)
    print(f"learning rate 0.001 overshoots: loss {too_big.loss_before:g} -> "
          f"{too_big.loss_after:g} (shown only, not applied)")
    print(step(batch_model, batch_x, batch_y, learning_rate=0.0005,
               loss="mean_squared_error"))


def main(argv: list[str] | None = None) -> Path:
    """Runs both chapters; returns the folder the pictures went to."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out", help="folder for the pictures")
    out = Path(parser.parse_args(argv).out)
    chapter_1(out)
    chapter_2(out)
    return out


if __name__ == "__main__":
    main()
