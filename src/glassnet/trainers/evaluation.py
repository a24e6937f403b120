"""``evaluate``, ``predict`` and their one-batch forms, in inference mode, batch by batch."""

from __future__ import annotations

import numpy as np

from glassnet._arrays import check_finite
from glassnet.trainers.batches import (
    ArrayBatches,
    PyDatasetBatches,
    StreamBatches,
    is_batch_stream,
    make_stream,
    standardize_py_dataset_batch,
)
from glassnet.trainers.custom_steps import logs_as_numbers
from glassnet.trainers.inputs import as_verbosity, positive_int
from glassnet.trainers.progress import format_logs
from glassnet.utils.py_dataset import PyDataset


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
        if self._overrides("test_step"):
            for metric in self.metrics:
                metric.reset_state()
            logs: dict = {}
            for xb, yb, wb in batches:
                logs = logs_as_numbers(self.test_step((xb, yb) if wb is None else (xb, yb, wb)))
            if not logs:
                raise ValueError("There was no data to evaluate (the batch source was empty)")
            return logs
        total = 0.0
        rows = 0
        metrics = None
        for xb, yb, wb in batches:
            if metrics is None:
                self._resolve_metrics(yb.shape)
                metrics = self._metrics
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
            if y is not None:
                raise ValueError("When `x` is a generator or a PyDataset, do not pass `y`")
            self._build_from_py_dataset(x)
            if not self.built:
                raise ValueError("Build the model (or fit it) before evaluating on a generator")
            self._prepare_optimizer()
            logs = self._evaluate_source(make_stream(x, steps, self._convert_batch), batch_size)
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
        if is_batch_stream(x):
            return self._predict_stream(x, steps)
        x = self._prepare_x(x, check_batches_later=True)
        rows = len(x)
        if self._multi_input or self._multi_output:
            return self._predict_groups(x, rows, batch_size)
        if rows <= batch_size:
            check_finite(x, "x")
            return self._infer(x, owned=True)
        out = np.empty((rows, *self.output_shape), dtype=x.dtype)
        for start in range(0, rows, batch_size):
            batch = x[start : start + batch_size]
            check_finite(batch, "x", first_row=start)
            out[start : start + batch_size] = self._infer(batch)
        return out

    def _predict_groups(self, x, rows: int, batch_size: int):
        """``predict`` for a model of several inputs or outputs: a list of arrays, one per
        output."""
        parts = []
        for start in range(0, rows, batch_size):
            batch = x[start : start + batch_size]
            for array in batch if self._multi_input else [batch]:
                check_finite(array, "x", first_row=start)
            out = self._infer(batch)
            parts.append(out if isinstance(out, list) else [out])
        outputs = [np.concatenate(column) for column in zip(*parts, strict=True)]
        return outputs if self._multi_output else outputs[0]

    def _build_from_py_dataset(self, x) -> None:
        """Builds an unbuilt model from the first batch of a ``PyDataset``, as Keras does."""
        if not self.built and isinstance(x, PyDataset) and x.num_batches != 0:
            self._prepare_x(standardize_py_dataset_batch(x[0])[0])

    def _predict_stream(self, source, steps) -> np.ndarray:
        """Outputs for each batch of a generator or ``PyDataset`` (``x``, ``(x,)``,
        ``(x, y)`` or ``(x, y, sample_weight)``), joined in order."""
        self._build_from_py_dataset(source)
        if isinstance(source, PyDataset):
            batches = PyDatasetBatches(source, steps, lambda b: b).raw_epoch()
        else:
            if hasattr(source, "__next__") and iter(source) is source and steps is None:
                batches = source
            else:
                batches = iter(source)
        outputs = []
        for count, batch in enumerate(batches):
            if steps is not None and count >= steps:
                break
            xb = batch if isinstance(batch, np.ndarray) else standardize_py_dataset_batch(batch)[0]
            xb = self._prepare_x(xb)
            check_finite(xb, "x")
            outputs.append(self._infer(xb, owned=True))
        if not outputs:
            raise ValueError("There was no data to predict on (the batch source was empty)")
        return np.concatenate(outputs)

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
