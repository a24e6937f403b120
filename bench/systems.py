"""One adapter per system: how to build the network, train it, and predict with it.

The timing itself lives in ``worker.py`` and is the same for every system; an adapter only
says how its framework does each thing. Each adapter imports its framework in ``setup``, so a
child process imports only the framework it measures.

Every adapter starts from the same initial weights (``workloads.initial_weights``) and uses
Adam with learning rate 0.001, beta 0.9/0.999 and epsilon 1e-7 (Keras's; PyTorch and
scikit-learn are given the same epsilon), shuffling every epoch.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from bare_numpy import BareMLP
from workloads import Workload


class System:
    """The interface ``worker.py`` drives. ``x``, ``y`` and ``labels`` are NumPy arrays."""

    name = ""

    def setup(self, threads: int, seed: int) -> None:
        """Imports the framework and sets its thread count."""

    def build(self, w: Workload, weights: list[np.ndarray]) -> None:
        """A fresh model with these starting weights and a fresh optimizer (not timed)."""

    def build_for_inference(self, w: Workload, weights: list[np.ndarray],
                            data: dict[str, np.ndarray]) -> None:
        """A model with these weights, ready to predict (W5; nothing is trained)."""
        self.build(w, weights)

    def fit(self, w: Workload, data: dict[str, np.ndarray]) -> list[float] | None:
        """Trains for ``w.epochs`` epochs (the timed call); may return per-epoch losses."""
        raise NotImplementedError

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for ``x`` (probabilities for a softmax output), as NumPy."""
        raise NotImplementedError

    def predict_bulk(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        """Inference on many rows, ``batch_size`` rows per forward pass where supported."""
        return self.outputs(x)

    def single_row_calls(self, row: np.ndarray) -> dict[str, tuple[callable, bool]]:
        """``{label: (zero-argument call predicting one row, slow?)}`` for W5's latency."""
        return {}

    def versions(self) -> dict[str, str]:
        return {}


def _limit_blas(threads: int) -> None:
    from threadpoolctl import threadpool_limits

    # Kept alive for the life of the process: the limit holds as long as the object does.
    _limit_blas.keep = threadpool_limits(limits=threads, user_api="blas")


# --- glassnet -------------------------------------------------------------------------------


class Glassnet(System):
    name = "glassnet"

    def setup(self, threads, seed):
        _limit_blas(threads)
        import glassnet

        self.glassnet = glassnet
        self.seed = seed

    def build(self, w, weights):
        gn = self.glassnet
        from glassnet.layers import Dense
        from glassnet.models import Sequential

        gn.utils.set_random_seed(self.seed)
        layers = [Dense(w.hidden[0], activation="relu", input_shape=(w.features,))]
        layers += [Dense(units, activation="relu") for units in w.hidden[1:]]
        layers.append(Dense(w.outputs, activation="softmax" if w.loss == "cce" else None))
        model = Sequential(layers)
        loss = "categorical_crossentropy" if w.loss == "cce" else "mse"
        model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.001), loss=loss)
        model.set_weights(weights)
        self.model = model

    def fit(self, w, data):
        history = self.model.fit(data["x"], data["y"], batch_size=w.batch_size, epochs=w.epochs,
                                 verbose=0)
        return history.history["loss"]

    def outputs(self, x):
        return self.model.predict(x, batch_size=4096, verbose=0)

    def predict_bulk(self, x, batch_size):
        return self.model.predict(x, batch_size=batch_size, verbose=0)

    def single_row_calls(self, row):
        model = self.model
        return {
            "predict": (lambda: model.predict(row, verbose=0), False),
            "predict_on_batch": (lambda: model.predict_on_batch(row), False),
        }

    def versions(self):
        return {"glassnet": self.glassnet.__version__}


# --- the bare NumPy reference ---------------------------------------------------------------


class BareNumpy(System):
    name = "numpy"

    def setup(self, threads, seed):
        _limit_blas(threads)
        self.seed = seed

    def build(self, w, weights):
        self.model = BareMLP(weights, loss=w.loss)

    def fit(self, w, data):
        return self.model.fit(data["x"], data["y"], batch_size=w.batch_size, epochs=w.epochs,
                              seed=self.seed)

    def outputs(self, x):
        return self.model.predict(x, batch_size=4096)

    def predict_bulk(self, x, batch_size):
        return self.model.predict(x, batch_size=batch_size)

    def single_row_calls(self, row):
        return {"forward": (lambda: self.model.predict(row), False)}


# --- PyTorch, a hand-written loop -----------------------------------------------------------


class Torch(System):
    name = "pytorch"

    def setup(self, threads, seed):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.seed = seed

    def build(self, w, weights):
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(self.seed)
        modules = []
        kernels, biases = weights[0::2], weights[1::2]
        for i, (kernel, bias) in enumerate(zip(kernels, biases, strict=True)):
            linear = nn.Linear(*kernel.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
                linear.bias.copy_(torch.from_numpy(bias))
            modules.append(linear)
            if i < len(kernels) - 1:
                modules.append(nn.ReLU())
        self.model = nn.Sequential(*modules)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.001, eps=1e-7)
        # Softmax + cross-entropy is PyTorch's fused cross_entropy on the logits.
        self.loss_fn = nn.MSELoss() if w.loss == "mse" else nn.CrossEntropyLoss()
        self.generator = torch.Generator().manual_seed(self.seed)

    def fit(self, w, data):
        torch = self.torch
        x = torch.from_numpy(data["x"])
        y = torch.from_numpy(data["y"] if w.loss == "mse" else data["labels"])
        model, optimizer, loss_fn, n = self.model, self.optimizer, self.loss_fn, len(x)
        model.train()
        history = []
        for _ in range(w.epochs):
            order = torch.randperm(n, generator=self.generator)
            xs, ys = x[order], y[order]
            total = 0.0
            for start in range(0, n, w.batch_size):
                xb, yb = xs[start:start + w.batch_size], ys[start:start + w.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(xb)
            history.append(total / n)
        return history

    def _forward(self, x):
        out = self.model(self.torch.from_numpy(x))
        if isinstance(self.loss_fn, self.torch.nn.CrossEntropyLoss):
            out = self.torch.softmax(out, dim=1)
        return out.numpy()

    def outputs(self, x):
        self.model.eval()
        with self.torch.inference_mode():
            return self._forward(x)

    def predict_bulk(self, x, batch_size):
        self.model.eval()
        out = np.empty((len(x), self.model[-1].out_features), dtype=np.float32)
        with self.torch.inference_mode():
            for start in range(0, len(x), batch_size):
                out[start:start + batch_size] = self._forward(x[start:start + batch_size])
        return out

    def single_row_calls(self, row):
        torch, model = self.torch, self.model
        model.eval()
        softmax = isinstance(self.loss_fn, torch.nn.CrossEntropyLoss)

        def call():  # NumPy in, NumPy out, as the other systems
            with torch.inference_mode():
                out = model(torch.from_numpy(row))
                return (torch.softmax(out, dim=1) if softmax else out).numpy()

        return {"inference_mode": (call, False)}

    def versions(self):
        return {"torch": self.torch.__version__}


# --- Keras 3 on TensorFlow ------------------------------------------------------------------


class Keras(System):
    name = "keras"

    def setup(self, threads, seed):
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        import keras

        self.tf, self.keras, self.seed = tf, keras, seed

    def build(self, w, weights):
        keras = self.keras
        keras.utils.set_random_seed(self.seed)
        layers = [keras.Input(shape=(w.features,))]
        layers += [keras.layers.Dense(units, activation="relu") for units in w.hidden]
        layers.append(keras.layers.Dense(w.outputs,
                                         activation="softmax" if w.loss == "cce" else None))
        model = keras.Sequential(layers)
        loss = "categorical_crossentropy" if w.loss == "cce" else "mse"
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss=loss)
        model.set_weights(weights)
        self.model = model

    def fit(self, w, data):
        history = self.model.fit(data["x"], data["y"], batch_size=w.batch_size, epochs=w.epochs,
                                 verbose=0, shuffle=True)
        return history.history["loss"]

    def outputs(self, x):
        return self.model.predict(x, batch_size=4096, verbose=0)

    def predict_bulk(self, x, batch_size):
        return self.model.predict(x, batch_size=batch_size, verbose=0)

    def single_row_calls(self, row):
        model = self.model
        return {
            "predict_on_batch": (lambda: model.predict_on_batch(row), False),
            "predict": (lambda: model.predict(row, verbose=0), True),
        }

    def versions(self):
        return {"tensorflow": self.tf.__version__, "keras": self.keras.__version__}


# --- scikit-learn ---------------------------------------------------------------------------


class Sklearn(System):
    """``MLPRegressor``/``MLPClassifier``. For two classes scikit-learn uses one logistic
    output instead of a two-unit softmax; it starts from the equivalent weights (difference of
    the two softmax columns), so its starting function is the same."""

    name = "sklearn"

    def setup(self, threads, seed):
        _limit_blas(threads)
        import sklearn
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        def given_weights(base):
            class GivenWeights(base):
                """Starts from ``self.given_weights`` instead of its own Glorot draw."""

                def _init_coef(self, fan_in, fan_out, dtype):
                    kernel, bias = self.given_weights.pop(0), self.given_weights.pop(0)
                    assert kernel.shape == (fan_in, fan_out), (kernel.shape, fan_in, fan_out)
                    return kernel.astype(dtype), bias.astype(dtype)

            return GivenWeights

        self.classes = {"mse": given_weights(MLPRegressor), "cce": given_weights(MLPClassifier)}
        self.sklearn, self.seed = sklearn, seed

    def build(self, w, weights):
        weights = [a.copy() for a in weights]
        if w.loss == "cce" and w.outputs == 2:  # one logistic unit: sigmoid(z1 - z0)
            weights[-2] = weights[-2][:, 1:] - weights[-2][:, :1]
            weights[-1] = weights[-1][1:] - weights[-1][:1]
        model = self.classes[w.loss](
            hidden_layer_sizes=w.hidden, activation="relu", solver="adam",
            learning_rate_init=0.001, epsilon=1e-7, alpha=0.0, batch_size=w.batch_size,
            max_iter=max(w.epochs, 1), shuffle=True, tol=0.0, n_iter_no_change=10**9,
            random_state=self.seed,
        )
        model.given_weights = weights
        self.model, self.loss = model, w.loss

    def fit(self, w, data):
        y = data["y"] if w.loss == "mse" else data["labels"]
        if w.loss == "mse" and y.shape[1] == 1:
            y = y[:, 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: it runs every epoch on purpose
            self.model.fit(data["x"], y)
        # scikit-learn's squared error is half the mean squared error.
        return [2 * v if w.loss == "mse" else v for v in self.model.loss_curve_]

    def build_for_inference(self, w, weights, data):
        # scikit-learn has no way to build an unfitted network: fit one epoch on a few rows,
        # then put the given weights in.
        self.build(w, weights)
        self.model.set_params(max_iter=1)
        rows = np.arange(min(len(data["x"]), 4096))
        if w.loss == "cce":  # every class must be there, or the output layer is smaller
            rows = np.union1d(rows, np.unique(data["labels"], return_index=True)[1])
        y = data["labels"][rows] if w.loss == "cce" else data["y"][rows, 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.fit(data["x"][rows], y)
        self.model.coefs_ = [k.astype(np.float32) for k in weights[0::2]]
        self.model.intercepts_ = [b.astype(np.float32) for b in weights[1::2]]

    def outputs(self, x):
        if self.loss == "mse":
            return self.model.predict(x).reshape(len(x), -1)
        return self.model.predict_proba(x)

    def single_row_calls(self, row):
        call = self.model.predict if self.loss == "mse" else self.model.predict_proba
        return {"predict_proba" if self.loss == "cce" else "predict": (lambda: call(row), False)}

    def versions(self):
        return {"sklearn": self.sklearn.__version__}


SYSTEMS: dict[str, type[System]] = {
    cls.name: cls for cls in (Glassnet, BareNumpy, Torch, Keras, Sklearn)
}
