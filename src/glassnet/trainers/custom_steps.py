"""Overriding ``train_step``/``test_step``, as Keras 3 documents it for its other backends.

A subclass may replace the step that ``fit`` (and ``evaluate``) runs on each batch::

    class CustomModel(glassnet.Model):
        def train_step(self, data):
            x, y = data
            with glassnet.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

``fit`` then calls it once per batch, resets ``model.metrics`` at the start of each epoch and
hands its returned logs to the callbacks; everything else (batching, shuffling, validation,
callbacks, History) is the usual loop. ``model.metrics`` is Keras 3's: a ``Mean`` named
``"loss"`` (the loss tracker), then the compiled metrics.
"""

from __future__ import annotations

import numpy as np


class CustomSteps:
    """``metrics``, ``compute_loss`` and the default ``train_step``/``test_step`` (mixed
    into ``Trainer``)."""

    @property
    def metrics(self) -> list:
        """The loss tracker (a ``Mean`` named ``"loss"``) and the compiled metrics, as
        ``keras.Model.metrics``; empty before ``compile``."""
        if not getattr(self, "compiled", False):
            return []
        return [self._loss_tracker, *self._metrics]

    @property
    def metrics_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]

    @property
    def trainable_variables(self) -> list:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        return self.non_trainable_weights

    @property
    def variables(self) -> list:
        return self.weights

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of ``y_pred`` against ``y`` (Keras 3's ``Model.compute_loss``),
        recorded on an open ``GradientTape``.

        Raises:
            ValueError: when the model was compiled without a loss.
        """
        if getattr(self, "loss", None) is None:
            raise ValueError(
                "compute_loss() needs the loss given to compile(loss=...); this model was "
                "compiled without one"
            )
        return self.loss(y, y_pred, sample_weight)

    def train_step(self, data) -> dict:
        """One training step on ``data`` (``(x, y)`` or ``(x, y, sample_weight)``), as
        ``fit`` makes it; returns the logs. A subclass may override it."""
        x, y, sample_weight = _unpack(data)
        self._require_compiled("train_step")
        self._prepare_optimizer()
        self._resolve_metrics(np.shape(y))
        loss, out = self._train_step(x, y, sample_weight, None)
        self._loss_tracker.update_state(loss, sample_weight=len(x))
        self._update_metrics(y, out, sample_weight)
        return self._step_logs()

    def test_step(self, data) -> dict:
        """The loss and metrics of one batch without training, as ``evaluate`` computes
        them; returns the logs. A subclass may override it."""
        x, y, sample_weight = _unpack(data)
        self._require_compiled("test_step")
        self._prepare_optimizer()
        self._resolve_metrics(np.shape(y))
        out = self._infer(x)
        values = self.loss.values(y, out)
        loss = self.loss.reduce(values, sample_weight) * self._loss_scale
        self._loss_tracker.update_state(loss, sample_weight=len(x))
        self._update_metrics(y, out, sample_weight)
        return self._step_logs()

    def _step_logs(self) -> dict:
        return self._metric_logs(float(self._loss_tracker.result()))

    def _overrides(self, name: str) -> bool:
        """Whether the model's class replaces ``train_step``/``test_step``."""
        return getattr(type(self), name) is not getattr(CustomSteps, name)


def _unpack(data) -> tuple:
    if isinstance(data, (tuple, list)):
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return tuple(data)
        if len(data) == 1:
            return data[0], None, None
    return data, None, None


def logs_as_numbers(logs) -> dict:
    """A step's returned logs with every single value a Python float (results may be
    tensors or arrays)."""
    if not isinstance(logs, dict):
        raise TypeError(
            f"train_step/test_step must return a dict of logs; it returned {type(logs).__name__}"
        )
    plain = {}
    for key, value in logs.items():
        array = np.asarray(value)
        plain[key] = float(array) if array.ndim == 0 else array
    return plain
