"""One training step, and the one function that makes its forward, loss and backward.

A training step is::

    out = plan.forward(x_batch)                 # the tape records what backward needs
    loss, grad = loss_fn(y_batch, out)          # slope of the loss at the output
    plan.backward(grad)                         # every layer writes its weight slopes
    optimizer.apply(parameters, gradients)      # one update of the flat parameter array

When the output layer is a softmax (or sigmoid) and the loss its cross-entropy, the loss
is computed from the output layer's logits and its slope there is ``prediction - target``.
``forward_and_backward`` serves ``fit``, ``train_on_batch``, ``compute_gradients`` and so
the glass box alike. The model supplies its ``plan`` (``glassnet.engine.plan``).
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import NonFiniteLossError
from glassnet.layers.storage import trains


class Stepping:
    """Forward, loss, backward and update (mixed into ``Trainer``)."""

    def forward_and_backward(
        self,
        x,
        y,
        sw,
        training: bool = True,
        x_has_ones: bool = False,
        rows_sum_to_one: bool = False,
        where: str | tuple[int, int] | None = None,
    ) -> tuple[float, np.ndarray]:
        """Forward pass, loss, and (when the loss is finite) backward: every weight slope
        written into the model's gradient array. Returns ``(loss, prediction)``.

        With a fused output the last step stops at its logits and the loss supplies the
        prediction, which is recorded as the output layer's ``a``. ``x_has_ones``: the
        batch ends in a column of ones; ``rows_sum_to_one``: every target row sums to 1
        (what ``ArrayBatches`` reports). ``where`` names the step (or gives its epoch and
        batch, counted from 0) in the error raised when the loss is not finite (nothing is
        written then).

        Raises:
            NonFiniteLossError: when ``where`` is given and the loss is NaN or infinite.
        """
        plan = self.plan
        out = plan.forward(x, training, self._fused, x_has_ones)
        if self._fused:  # ``out`` holds the logits
            logits = out
            loss, grad, out = self.loss.fused_step(y, logits, sw, rows_sum_to_one)
            plan.set_prediction(out)
        else:
            logits = None
            loss, grad = self.loss.reduced(y, out, sw)
        if self._loss_scale != 1.0:
            loss *= self._loss_scale
            grad = grad * grad.dtype.type(self._loss_scale)
        for layer in self._regularized:
            loss += layer.regularization_penalty()
        plan.record_loss(self.loss, out if logits is None else logits, loss, grad)
        if where is not None and not math.isfinite(loss):
            if isinstance(where, tuple):
                where = f"epoch {where[0] + 1}, batch {where[1] + 1}"
            raise NonFiniteLossError(self._non_finite_message(loss, where))
        plan.backward(grad, self._fused)
        for layer in self._regularized:
            layer.add_regularization_gradients()
        return loss, out

    def _train_step(
        self, x, y, sw, where: tuple[int, int] | None, x_has_ones=False, rows_sum_to_one=False
    ) -> tuple[float, np.ndarray]:
        """One step; ``where`` is (epoch, batch), counted from 0, for error messages."""
        loss, out = self.forward_and_backward(
            x, y, sw, True, x_has_ones, rows_sum_to_one, where=where or "train_on_batch"
        )
        self.optimizer.apply(self.storage.parameters, self.storage.gradients)
        return loss, out

    def _non_finite_message(self, loss: float, where: str) -> str:
        culprit = "the loss itself (the outputs are finite)"
        for layer, output in self.plan.layer_outputs():
            if output is not None and not np.all(np.isfinite(output)):
                culprit = f"the output of layer {layer.name!r}"
                break
        return (
            f"The loss became {loss} at {where}; the first non-finite values are in {culprit}. "
            "The weights are those before this step. Try a lower learning rate, scaled inputs, "
            "or gradient clipping (clipnorm=1.0)."
        )

    @property
    def fused_output(self) -> bool:
        """Whether the loss is computed from the output layer's logits (softmax or sigmoid
        followed by its cross-entropy), so that backward starts at the output's ``z``."""
        return bool(getattr(self, "_fused", False))

    def compute_gradients(self, x, y, sample_weight=None, training: bool = True):
        """The loss of a batch and the slope of that loss for every trainable weight.

        Runs one forward and one backward pass exactly as a training step does
        (``forward_and_backward``), but applies no optimizer update. Afterwards
        ``model.tape`` holds the nodes of that pass (for ``Dense`` layers, records of ``x``,
        ``z``, ``a``, ``grad_a`` and ``grad_z``), which is what ``glassnet.explain`` reads.
        In training mode, as in a real step, batch normalisation updates its moving
        statistics and dropout draws a new mask.

        Args:
            x: inputs of the batch.
            y: targets of the batch.
            sample_weight: optional weight per row.
            training: run layers in training mode (dropout active, batch statistics).

        Returns:
            ``(loss, gradients)``: the loss as a float, and copies of the gradient arrays in
            the order of ``model.trainable_weights``.
        """
        self._require_compiled("compute_gradients")
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        sw = self._prepare_weights(sample_weight, None, y)
        self._prepare_optimizer()
        loss, _ = self.forward_and_backward(x, y, sw, training=training)
        grads = [
            layer.grads[s.name].copy()
            for layer in self._weight_layers()
            for s in layer.specs
            if trains(layer, s, getattr(self, "trainable", True))
        ]
        return loss, grads

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns its loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        sw = self._prepare_weights(sample_weight, class_weight, y)
        self._prepare_optimizer()
        self._resolve_metrics(y.shape)
        loss, out = self._train_step(x, y, sw, None)
        for metric in self._metrics:
            metric.reset_state()
        self._update_metrics(y, out, sw)
        logs = self._metric_logs(loss)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

