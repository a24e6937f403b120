"""``fit``: epochs of shuffled batches, validation, callbacks and the history they log."""

from __future__ import annotations

import math
import warnings

import numpy as np

from glassnet import config
from glassnet._arrays import check_validation_split, validation_split_index
from glassnet.errors import NonFiniteLossError
from glassnet.trainers.batches import ArrayBatches, is_batch_stream, make_stream
from glassnet.trainers.callbacks import CallbackList, TerminateOnNaN
from glassnet.trainers.custom_steps import logs_as_numbers
from glassnet.trainers.history import History
from glassnet.trainers.inputs import as_verbosity, positive_int
from glassnet.trainers.progress import ProgbarLogger
from glassnet.utils.py_dataset import PyDataset


class Fitting:
    """``fit`` and its epochs (mixed into ``Trainer``)."""

    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        **kwargs,
    ) -> History:
        """Trains the model for a number of epochs.

        Args:
            x: inputs, shape ``(rows, columns)`` (array, list or pandas DataFrame), or a
                generator/iterable of ``(x, y)`` batches (then ``y`` is not given).
            y: targets, one row per input row.
            batch_size: rows per gradient step (default 32).
            epochs: passes over the training data (the course's ``nb_epoch=`` works too).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, ``"auto"`` = 1.
            callbacks: list of ``glassnet.callbacks.Callback``.
            validation_split: fraction of rows to hold out, taken from the end before
                shuffling, as Keras does.
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)`` or
                an iterable of batches.
            shuffle: shuffle the training rows before each epoch.
            class_weight: ``{class: weight}`` multiplying the loss of each row of that class.
            sample_weight: one weight per row.
            initial_epoch: epoch to start counting from (to resume training).
            steps_per_epoch: batches per epoch when ``x`` is a generator.
            validation_steps: batches of a validation generator to use.

        Returns:
            A ``History`` whose ``.history`` maps ``"loss"``, each metric and their ``val_``
            versions to one value per epoch.

        Raises:
            NonFiniteLossError: when the loss becomes NaN or infinite (unless a
                ``TerminateOnNaN`` callback is given, which stops training instead).
        """
        if "nb_epoch" in kwargs:
            warnings.warn(
                "`nb_epoch` is deprecated; use `epochs`", DeprecationWarning, stacklevel=2
            )
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(
                f"fit() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}"
            )
        self._require_compiled("fit")
        verbose = as_verbosity(verbose)
        batch_size = positive_int(32 if batch_size is None else batch_size, "batch_size")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(
                f"`epochs` must be a non-negative integer. Received: epochs={epochs!r}"
            )
        if (
            isinstance(initial_epoch, bool)
            or not isinstance(initial_epoch, (int, np.integer))
            or initial_epoch < 0
        ):
            raise ValueError(
                f"`initial_epoch` must be >= 0. Received: initial_epoch={initial_epoch!r}"
            )
        cap = config.max_epochs()
        if cap and cap < epochs:  # keras.config.set_max_epochs, as Keras's fit
            warnings.warn(f"Limiting epochs to {cap}", stacklevel=2)
            epochs = cap
        check_validation_split(validation_split)
        if validation_data is not None and validation_split:
            warnings.warn("validation_data is given, so validation_split is ignored", stacklevel=2)
            validation_split = 0.0

        val = None
        if is_batch_stream(x):
            if y is not None:
                raise ValueError("When `x` is a generator of (x, y) batches, do not pass `y`")
            if validation_split:
                raise ValueError(
                    "validation_split needs arrays; pass validation_data with a generator"
                )
            self._build_from_py_dataset(x)  # a PyDataset's first batch shows the input shape
            if not self.built:
                self.build()  # the input shape must be declared: a stream cannot be peeked at
            if class_weight and isinstance(x, PyDataset):
                raise ValueError(
                    "`class_weight` is not supported with a PyDataset yet; "
                    "return (x, y, sample_weight) batches instead"
                )
            batches = make_stream(
                x, steps_per_epoch, self._convert_batch, shuffle, self._shuffle_rng
            )
            first_targets_shape = None
        else:
            x = self._prepare_x(x)
            y = self._prepare_y(y, len(x))
            sw = self._prepare_weights(sample_weight, class_weight, y)
            if validation_split:
                split = validation_split_index(len(x), validation_split)
                val = (x[split:], y[split:], None if sw is None else sw[split:])
                x, y = x[:split], y[:split]
                sw = None if sw is None else sw[:split]
            batches = ArrayBatches(
                x,
                y,
                sw,
                batch_size,
                shuffle,
                self._shuffle_rng,
                # Only glassnet's own step knows a batch's column of ones; an overridden
                # ``train_step`` gets the rows as given.
                ones_column=self.plan.fold_first and not self._overrides("train_step"),
            )
            first_targets_shape = y.shape
        if validation_data is not None:
            val = self._prepare_validation(validation_data, validation_steps)

        self._prepare_optimizer()
        if not self._overrides("train_step") and not self.trainable_weights:
            # Keras's default train_step says so (keras/src/backend/tensorflow/trainer.py)
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        if first_targets_shape is not None:
            self._resolve_metrics(first_targets_shape)
        history = History()
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.append(ProgbarLogger(verbose))
        cb_list.append(history)
        cbs = CallbackList(
            cb_list, self, {"epochs": epochs, "steps": batches.steps, "verbose": verbose}
        )
        stop_on_nan = any(isinstance(cb, TerminateOnNaN) for cb in cb_list)

        self.stop_training = False
        # Overflow shows up as a non-finite loss, which is reported with its epoch and batch;
        # NumPy's own RuntimeWarnings would only add noise.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._fit_epochs(
                cbs,
                history,
                batches,
                val,
                initial_epoch,
                epochs,
                stop_on_nan,
                validation_freq,
                validation_batch_size or batch_size,
            )

    def _fit_epochs(
        self,
        cbs,
        history,
        batches,
        val,
        initial_epoch,
        epochs,
        stop_on_nan,
        validation_freq,
        validation_batch_size,
    ) -> History:
        logs: dict = {}
        # A callback that restores a backup (BackupAndRestore) says in on_train_begin where
        # training resumes: Keras's ``_initial_epoch``, and glassnet's ``_initial_step``, the
        # batches of that epoch already trained.
        self._initial_epoch = None
        self._initial_step = 0
        try:
            cbs.call("on_train_begin", {})
            initial_epoch = self._initial_epoch or initial_epoch
            skip, self._initial_step = self._initial_step, 0
            for epoch in range(initial_epoch, epochs):
                logs = self._run_epoch(epoch, batches, cbs, stop_on_nan, skip)
                skip = 0
                if (
                    val is not None
                    and (epoch + 1) % validation_freq == 0
                    and not math.isnan(logs["loss"])
                ):
                    val_logs = self._evaluate_source(val, validation_batch_size)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.call("on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
            if epochs > 0 and self.optimizer.built:
                # with use_ema, the weights become their moving average (as Keras's fit)
                self.optimizer.finalize_variable_values(self.storage.parameters)
            cbs.call("on_train_end", logs)
        finally:
            cbs.close()
        return history

    def _run_custom_epoch(self, epoch: int, batches, cbs: CallbackList) -> dict:
        """An epoch of a model that overrides ``train_step``: it runs once per batch and its
        logs go to the callbacks; the epoch's logs are the last batch's."""
        for metric in self.metrics:
            metric.reset_state()
        cbs.call("on_epoch_begin", epoch, {})
        logs: dict = {}
        for step, (xb, yb, wb) in enumerate(batches.epoch()):
            cbs.call("on_train_batch_begin", step, {})
            logs = logs_as_numbers(self.train_step((xb, yb) if wb is None else (xb, yb, wb)))
            cbs.call("on_train_batch_end", step, logs)
            if self.stop_training:
                break
        return logs

    def _run_epoch(
        self, epoch: int, batches, cbs: CallbackList, stop_on_nan: bool, skip: int = 0
    ) -> dict:
        """One pass over the batches; returns the epoch's logs (row-weighted means).

        The first ``skip`` batches are drawn (so the epoch's order is the same) but not
        trained on: they were trained before the run was interrupted and restored.
        """
        if self._overrides("train_step"):
            return self._run_custom_epoch(epoch, batches, cbs)
        metrics = self._metrics
        for metric in metrics:
            metric.reset_state()
        cbs.call("on_epoch_begin", epoch, {})
        batch_begin = cbs.wants("on_train_batch_begin")
        batch_end = cbs.caller("on_train_batch_end")
        has_ones, sum_to_one = batches.ones_column, batches.targets_sum_to_one
        loss_sum = 0.0
        seen = 0
        for step, (xb, yb, wb) in enumerate(batches.epoch()):
            if step < skip:
                continue
            if batch_begin:
                cbs.call("on_train_batch_begin", step, {})
            try:
                loss, out = self._train_step(xb, yb, wb, (epoch, step), has_ones, sum_to_one)
            except NonFiniteLossError as error:
                if not stop_on_nan:
                    raise
                cbs.call("on_train_batch_end", step, {"loss": float("nan")})
                print(f"Batch {step}: Invalid loss, terminating training. {error}")
                self.stop_training = True
                return {"loss": float("nan")}
            if not metrics and not self._metrics_resolved_for:
                self._resolve_metrics(yb.shape)
                metrics = self._metrics
            n = len(xb)
            loss_sum += loss * n
            seen += n
            if metrics:
                self._update_metrics(yb, out, wb)
            if batch_end is not None:
                batch_end(step, self._metric_logs(loss_sum / seen))
            if self.stop_training:
                break
        return self._metric_logs(loss_sum / max(seen, 1))
