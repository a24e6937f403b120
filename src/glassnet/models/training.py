"""``compile``, ``fit``, ``evaluate``, ``predict`` and friends: the Keras workflow.

A training step is::

    out = plan.forward(x_batch)                 # the tape records what backward needs
    loss, grad = loss_fn(y_batch, out)          # slope of the loss at the output
    plan.backward(grad)                         # every layer writes its weight slopes
    optimizer.apply(parameters, gradients)      # one update of the flat parameter array

When the output layer is a softmax (or sigmoid) and the loss its cross-entropy, the loss
is computed from the output layer's logits and its slope there is ``prediction - target``.

Every pass, in training or not, runs through the model's ``Plan`` (``glassnet.models.plan``):
runs of ``Dense`` layers as one ``DenseChain`` (fewer NumPy calls, reused buffers), other
layers on their own. ``forward_and_backward`` is the one function that makes a step's
forward, loss and backward, for ``fit``, ``compute_gradients`` and the glass box alike.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from glassnet import config as config_module
from glassnet import losses as losses_module
from glassnet import metrics as metrics_module
from glassnet import optimizers as optimizers_module
from glassnet.callbacks import CallbackList, History, ProgbarLogger, TerminateOnNaN
from glassnet.layers.storage import WeightStorage
from glassnet.models.batches import ArrayBatches, StreamBatches, is_batch_stream, unpack_batch
from glassnet.models.data import (
    DataError,
    check_finite,
    check_validation_split,
    to_array,
    validation_split_index,
)
from glassnet.models.plan import Plan
from glassnet.utils.seeding import new_generator


class NotCompiledError(ValueError):
    """Training or evaluating a model that has not been compiled (a ``ValueError``, as in Keras)."""


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message names the epoch, batch and layer."""


def _as_verbosity(verbose) -> int:
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool):
        return int(verbose)
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def _positive(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
    return int(value)


class Trainer:
    """The training half of a model (mixed into ``Sequential``)."""

    def __init__(self) -> None:
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self.optimizer_needs_build = True
        self._metric_specs: list = []
        self.metrics: list[metrics_module.Metric] = []
        self._metric_entries: list[tuple] = []
        self._weighted_from = 0
        self._loss_scale = 1.0
        self._loss_weights = None
        self._metrics_resolved_for: tuple | None = None
        self._shuffle_rng = new_generator()
        self._plan_cache: tuple = (None, None)  # (the storage it was made for, Plan)

    # --- compile ------------------------------------------------------------------------

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        run_eagerly=None,
        steps_per_execution=None,
        jit_compile=None,
        auto_scale_loss=None,
    ) -> None:
        """Chooses the optimizer, the loss and the metrics to report.

        Args:
            optimizer: a name (``"adam"``, ``"sgd"``, ...) or an optimizer object.
            loss: a loss name (``"mean_squared_error"``, ``"categorical_crossentropy"``...),
                a ``Loss`` object or a function.
            metrics: a list of metric names (``"accuracy"``, ``"mae"``...) or objects,
                reported unweighted, as Keras 3 does.
            loss_weights: a number (or a list or dict of one number, for the one output)
                that multiplies the loss and so its slopes, as in Keras; penalties of
                regularizers are added unscaled.
            weighted_metrics: metrics weighted by ``sample_weight`` and ``class_weight``;
                one named as a plain metric is reported as ``weighted_<name>``.
            run_eagerly, steps_per_execution, jit_compile, auto_scale_loss: accepted for
                Keras compatibility; they change nothing here (a NumPy model has no graph
                to compile and no mixed precision to scale).
        """
        if loss is None:
            raise ValueError(
                "compile() needs a loss, for example loss='mean_squared_error' for regression "
                f"or loss='categorical_crossentropy' for classification. Known losses: "
                f"{', '.join(losses_module.names())}"
            )
        self._loss_scale = self._loss_weight(loss_weights)
        self._loss_weights = loss_weights
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif isinstance(metrics, dict):
            metrics = [
                m
                for value in metrics.values()
                for m in (value if isinstance(value, list) else [value])
            ]
        # Keras 3 weighs only ``weighted_metrics`` by ``sample_weight`` (and class weights);
        # plain ``metrics`` are unweighted (keras/src/trainers/compile_utils.py).
        self._metric_specs = list(metrics) + list(weighted_metrics or [])
        self._weighted_from = len(metrics)
        for spec in self._metric_specs:  # fail now on unknown names, not in the middle of fit
            metrics_module.resolve(spec, (1, 1), (1, 1))
        self.metrics = []
        self._metric_entries = []
        self._metrics_resolved_for = None
        self.compiled = True
        self.optimizer_needs_build = True
        if self.built:
            self._repack_storage()

    def _loss_weight(self, loss_weights) -> float:
        """The one factor ``compile(loss_weights=...)`` gives the loss of the one output."""
        if loss_weights is None:
            return 1.0
        value = loss_weights
        if isinstance(loss_weights, (list, tuple)) and len(loss_weights) == 1:
            value = loss_weights[0]
        elif isinstance(loss_weights, dict) and len(loss_weights) == 1:
            ((key, value),) = loss_weights.items()
            output = self._layers[-1].name if self._layers else None
            if output is not None and key != output:
                raise ValueError(
                    f"`loss_weights` names the output {key!r}, but the model's output is {output!r}"
                )
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(
                "`loss_weights` must be a number, or a list or dict of one number for the "
                f"model's one output. Received: loss_weights={loss_weights!r}"
            )
        if not math.isfinite(value):
            raise ValueError(f"`loss_weights` must be finite. Received: {value!r}")
        return float(value)

    def _repack_storage(self) -> None:
        """Re-allocates weight storage so that ``trainable`` flags set since build apply."""
        self.storage = WeightStorage(self._layers, self.storage.dtype)
        self.optimizer_needs_build = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise NotCompiledError(
                f"You must compile the model before calling {what}(). For example: "
                "model.compile(optimizer='adam', loss='mean_squared_error')"
            )

    def _prepare_optimizer(self) -> None:
        if self.optimizer_needs_build or not self.optimizer.built:
            keep = (
                self.optimizer.built and self.optimizer.slots_size() == self.storage.parameters.size
            )
            if not keep:
                self.optimizer.build(self.storage.parameters, self.storage.slices)
            else:
                self.optimizer.slices = self.storage.slices
            self.optimizer_needs_build = False
        self._fused = self.plan.can_fuse(self.loss)
        self._regularized = [
            layer for layer in self._layers if any(s.regularizer for s in layer.specs)
        ]

    # --- data ---------------------------------------------------------------------------

    def _prepare_x(self, x, what: str = "x", check_batches_later: bool = False) -> np.ndarray:
        arr, columns = to_array(x, what, config_module.floatx(), False, check_batches_later)
        if arr.ndim == 1:
            expected = self.input_shape
            if expected is not None and len(expected) == 1 and expected[0] != 1:
                if arr.shape[0] != expected[0]:
                    raise DataError(
                        f"`{what}` is a single row of {arr.shape[0]} values, but the model "
                        f"expects {expected[0]} features (input_shape={tuple(expected)})"
                    )
                arr = arr.reshape(1, -1)  # a single row
            else:
                arr = arr.reshape(-1, 1)
        if not self.built:
            self.build(arr.shape[1:] if self.input_shape is None else None)
        if arr.shape[1:] != tuple(self.input_shape):
            got = arr.shape[1] if arr.ndim == 2 else arr.shape[1:]
            want = self.input_shape[0] if len(self.input_shape) == 1 else self.input_shape
            unit = "columns" if arr.ndim == 2 and len(self.input_shape) == 1 else "row shape"
            raise DataError(
                f"`{what}` has {got} {unit}, but the model expects {want} "
                f"(input_shape={tuple(self.input_shape)})"
                + (f". Columns received: {columns}" if columns else "")
            )
        return arr

    def _prepare_y(self, y, rows: int, what: str = "y") -> np.ndarray:
        sparse = isinstance(self.loss, losses_module.SparseCategoricalCrossentropy)
        arr, _ = to_array(y, what, config_module.floatx(), integer_ok=sparse)
        if len(arr) != rows:
            raise DataError(
                f"`x` and `{what}` must have the same number of rows; "
                f"x has {rows}, {what} has {len(arr)}"
            )
        units = self.output_shape[-1]
        if sparse:
            if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != 1):
                raise DataError(
                    f"sparse_categorical_crossentropy expects one integer class label per row; "
                    f"`{what}` has shape {arr.shape}. For one-hot rows use "
                    "loss='categorical_crossentropy'"
                )
            arr = arr.reshape(rows)
            losses_module.SparseCategoricalCrossentropy._labels(arr, units)
            return arr
        if arr.ndim == 1:
            arr = arr.reshape(rows, 1)
        if arr.shape[1:] != tuple(self.output_shape):
            hint = ""
            if isinstance(self.loss, losses_module.CategoricalCrossentropy) and arr.shape[1:] == (
                1,
            ):
                hint = (
                    ". categorical_crossentropy needs one-hot targets: use "
                    "glassnet.utils.to_categorical(y), or loss='sparse_categorical_crossentropy' "
                    "for integer labels"
                )
            raise DataError(
                f"`{what}` has shape {arr.shape[1:]} per row, but the model's output has shape "
                f"{tuple(self.output_shape)} (the last layer has {units} units){hint}"
            )
        return arr

    def _prepare_weights(self, sample_weight, class_weight, y: np.ndarray) -> np.ndarray | None:
        """One weight per row (``(rows,)``), or per row and step for sequence outputs
        (``(rows, steps)``, as Keras accepts), times the class weights of each row."""
        weights = None
        if sample_weight is not None:
            weights, _ = to_array(sample_weight, "sample_weight", config_module.floatx())
            if weights.size == len(y):
                weights = weights.reshape(-1)
            elif weights.ndim < 2:
                raise DataError(f"`sample_weight` has {weights.size} values for {len(y)} rows")
            elif len(weights) != len(y) or weights.shape[1:] != y.shape[1 : weights.ndim]:
                raise DataError(
                    f"`sample_weight` has shape {weights.shape}; it needs one value per row "
                    f"({len(y)}), or one per row and step (shape {y.shape[:2]})"
                )
            if (weights < 0).any():
                raise DataError("`sample_weight` must not be negative")
        if class_weight:
            if y.ndim == 1:
                labels = y.astype(np.int64)
            elif y.shape[1] == 1:
                labels = np.round(y[:, 0]).astype(np.int64)
            else:
                labels = np.argmax(y, axis=1)
            table = np.ones(
                int(max(labels.max(), max(class_weight))) + 1, dtype=config_module.floatx()
            )
            for cls, w in class_weight.items():
                table[int(cls)] = w
            per_row = table[labels]
            if weights is not None:
                per_row = per_row.reshape(per_row.shape + (1,) * (weights.ndim - 1))
            weights = per_row if weights is None else weights * per_row
        return weights

    def _resolve_metrics(self, y_shape: tuple) -> None:
        key = (len(y_shape), y_shape[-1] if len(y_shape) > 1 else None)
        if self._metrics_resolved_for == key:
            return
        out_shape = (None, *self.output_shape)
        self.metrics = [
            metrics_module.resolve(spec, y_shape, out_shape) for spec in self._metric_specs
        ]
        weighted_from = getattr(self, "_weighted_from", len(self.metrics))
        names: list[str] = []
        for i, metric in enumerate(self.metrics):
            name = metric.name
            if i >= weighted_from and name in names:
                name = f"weighted_{name}"  # Keras's name when a plain metric has it
            names.append(name)
        #: (metric, weighs by sample_weight, name in the logs), as Keras reports them.
        self._metric_entries = [
            (metric, i >= weighted_from, name)
            for i, (metric, name) in enumerate(zip(self.metrics, names, strict=True))
        ]
        self._metrics_resolved_for = key

    # --- the passes ---------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        """How the model runs its layers (made again when the weights are re-allocated)."""
        storage, plan = self._plan_cache
        if storage is not self.storage or plan is None:
            self._require_built("plan")
            plan = Plan(self._layers, self.storage)
            self._plan_cache = (self.storage, plan)
        return plan

    @property
    def tape(self):
        """The nodes of this thread's last pass (``glassnet.ops.Tape``): one per step of the
        plan, and one for the loss after a pass that computed it. Its arrays are buffers
        the next pass overwrites; ``glassnet.explain`` reads and copies them."""
        return self.plan.tape

    def _infer(self, x: np.ndarray, owned: bool = False) -> np.ndarray:
        """The output for a batch in inference mode: a buffer the next pass may reuse, or
        with ``owned`` an array the caller may keep."""
        plan = self.plan
        out = plan.forward(x)
        return out.copy() if owned and plan.output_is_buffer else out

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
        storage, plan = self._plan_cache
        if storage is not self.storage:
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

    # --- the step -----------------------------------------------------------------------

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
            for layer in self._layers
            for s in layer.specs
            if s.trainable and layer.trainable
        ]
        return loss, grads

    # --- fit ----------------------------------------------------------------------------

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
        verbose = _as_verbosity(verbose)
        batch_size = _positive(32 if batch_size is None else batch_size, "batch_size")
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
            if not self.built:
                self.build()  # the input shape must be declared: a stream cannot be peeked at
            batches = StreamBatches(x, steps_per_epoch, self._convert_batch)
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
                ones_column=self.plan.fold_first,
            )
            first_targets_shape = y.shape
        if validation_data is not None:
            val = self._prepare_validation(validation_data, validation_steps)

        self._prepare_optimizer()
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
        try:
            cbs.call("on_train_begin", {})
            for epoch in range(initial_epoch, epochs):
                logs = self._run_epoch(epoch, batches, cbs, stop_on_nan)
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
            cbs.call("on_train_end", logs)
        finally:
            cbs.close()
        return history

    def _run_epoch(self, epoch: int, batches, cbs: CallbackList, stop_on_nan: bool) -> dict:
        """One pass over the batches; returns the epoch's logs (row-weighted means)."""
        metrics = self.metrics
        for metric in metrics:
            metric.reset_state()
        cbs.call("on_epoch_begin", epoch, {})
        batch_begin = cbs.wants("on_train_batch_begin")
        batch_end = cbs.wants("on_train_batch_end")
        has_ones, sum_to_one = batches.ones_column, batches.targets_sum_to_one
        loss_sum = 0.0
        seen = 0
        for step, (xb, yb, wb) in enumerate(batches.epoch()):
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
                metrics = self.metrics
            n = len(xb)
            loss_sum += loss * n
            seen += n
            if metrics:
                self._update_metrics(yb, out, wb)
            if batch_end:
                cbs.call("on_train_batch_end", step, self._metric_logs(loss_sum / seen))
            if self.stop_training:
                break
        return self._metric_logs(loss_sum / max(seen, 1))

    def _update_metrics(self, y, out, sample_weight) -> None:
        for metric, weighted, _ in self._metric_entries:
            metric.update_state(y, out, sample_weight if weighted else None)

    def _metric_logs(self, loss: float) -> dict:
        """``{"loss": loss, metric name: result, ...}``."""
        logs = {"loss": loss}
        for metric, _, name in self._metric_entries:
            logs[name] = metric.result()
        return logs

    def _convert_batch(self, batch) -> tuple:
        xb, yb, wb = unpack_batch(batch)
        xb = self._prepare_x(xb)
        yb = self._prepare_y(yb, len(xb))
        return xb, yb, self._prepare_weights(wb, None, yb)

    def _prepare_validation(self, validation_data, validation_steps=None):
        if is_batch_stream(validation_data):
            return StreamBatches(validation_data, validation_steps, self._convert_batch)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"sample_weight_val). Received: {type(validation_data).__name__}"
                + (
                    f" of length {len(validation_data)}"
                    if hasattr(validation_data, "__len__")
                    else ""
                )
            )
        x_val = self._prepare_x(validation_data[0], "validation_data[0] (x_val)")
        y_val = self._prepare_y(validation_data[1], len(x_val), "validation_data[1] (y_val)")
        sw_val = None
        if len(validation_data) == 3 and validation_data[2] is not None:
            sw_val = self._prepare_weights(validation_data[2], None, y_val)
        return x_val, y_val, sw_val

    # --- evaluate and predict -----------------------------------------------------------

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
        batch_size = _positive(32 if batch_size is None else batch_size, "batch_size")
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
        if _as_verbosity(verbose):
            from glassnet.callbacks.progress import format_logs

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
        batch_size = _positive(32 if batch_size is None else batch_size, "batch_size")
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

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns its loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x = self._prepare_x(x)
        y = self._prepare_y(y, len(x))
        sw = self._prepare_weights(sample_weight, class_weight, y)
        self._prepare_optimizer()
        self._resolve_metrics(y.shape)
        loss, out = self._train_step(x, y, sw, None)
        for metric in self.metrics:
            metric.reset_state()
        self._update_metrics(y, out, sw)
        logs = self._metric_logs(loss)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

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
