"""``evaluate``, ``predict`` and their one-batch forms, in inference mode, batch by batch."""

from __future__ import annotations

import numpy as np

from glassnet._arrays import check_finite
from glassnet.trainers.batches import ArrayBatches, StreamBatches, is_batch_stream
from glassnet.trainers.inputs import as_verbosity, positive_int
from glassnet.trainers.progress import format_logs


class Evaluation:
    """Loss, metrics and outputs on data, without training (mixed into ``Trainer``)."""

    def _infer(self, x: np.ndarray, owned: bool = False) -> np.ndarray:
        """The output for a batch in inference mode: a buffer the next pass may reuse, or
        with ``owned`` an array the caller may keep."""
        plan = self.plan
        out = plan.forward(x)
        return out.copy() if owned and plan.output_is_buffer else out

    def _evaluate_source(self, source, batch_size: int) -> dict:
        """Loss and metrics over arrays ``(x, y, sw)`` or a ``StreamBatches``.

        An overflow shows as an infinite or NaN loss in the result, so NumPy's own
        RuntimeWarnings are silenced here as in ``fit``.
        """
        if isinstance(source, StreamBatches):
            batches = source.epoch()
        else:
            x, y, sw = source
            batches = ArrayBatches(x, y, sw, batch_size, False, None).epoch()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._evaluate_batches(batches)

    def _evaluate_batches(self, batches) -> dict:
        total = 0.0
        rows = 0
        metrics = None
        for xb, yb, wb in batches:
            if metrics is None:
                self._resolve_metrics(yb.shape)
                metrics = self.metrics
                for metric in metrics:
                    metric.reset_state()
            out = self._infer(xb)
            if self._fused:
                logits = self.plan.output_record().z
                values, _ = self.loss.values_and_gradient_from_logits(yb, logits)
            else:
                values = self.loss.values(yb, out)
            total += self.loss.reduce(values, wb) * self._loss_scale * len(xb)
            rows += len(xb)
            self._update_metrics(yb, out, wb)
        if rows == 0:
            raise ValueError("There was no data to evaluate (the batch source was empty)")
        loss = total / rows
        for layer in self._regularized:
            loss += layer.regularization_penalty()
        return self._metric_logs(loss)

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict: bool = False,
    ):
        """The loss (and metrics) on data, in inference mode.

        Returns:
            The loss as a float when there are no metrics; otherwise ``[loss, metric, ...]``,
            or a dict with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        batch_size = positive_int(32 if batch_size is None else batch_size, "batch_size")
        if is_batch_stream(x):
            if not self.built:
                raise ValueError("Build the model (or fit it) before evaluating on a generator")
            self._prepare_optimizer()
            logs = self._evaluate_source(StreamBatches(x, steps, self._convert_batch), batch_size)
        else:
            x = self._prepare_x(x)
            y = self._prepare_y(y, len(x))
            sw = self._prepare_weights(sample_weight, None, y)
            self._prepare_optimizer()
            logs = self._evaluate_source((x, y, sw), batch_size)
        if as_verbosity(verbose):
            print(format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, computed in batches in inference mode.

        Args:
            x: inputs (array, list or DataFrame); a single row may be given as a 1-D array.
            batch_size: rows per forward pass (default 32, as Keras).

        Returns:
            An array of shape ``(rows, outputs)``.
        """
        batch_size = positive_int(32 if batch_size is None else batch_size, "batch_size")
        x = self._prepare_x(x, check_batches_later=True)
        rows = len(x)
        if rows <= batch_size:
            check_finite(x, "x")
            return self._infer(x, owned=True)
        out = np.empty((rows, *self.output_shape), dtype=x.dtype)
        for start in range(0, rows, batch_size):
            batch = x[start : start + batch_size]
            check_finite(batch, "x", first_row=start)
            out[start : start + batch_size] = self._infer(batch)
        return out

    def predict_on_batch(self, x) -> np.ndarray:
        """The outputs for one batch, in a single forward pass."""
        return self._infer(self._prepare_x(x), owned=True)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) of one batch, without training."""
        self._require_compiled("test_on_batch")
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        sw = self._prepare_weights(sample_weight, None, y)
        self._prepare_optimizer()
        logs = self._evaluate_source((x, y, sw), len(x))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

