"""``compile``: the optimizer, the loss (with its weight) and the metrics a model reports.

``get_compile_config``/``compile_from_config`` hand those arguments to a file and back
(Keras 3's interface, ``keras/src/trainers/trainer.py``), so a file format never reads the
model's private attributes. Unlike Keras they pass the objects themselves (the optimizer,
the loss, the metrics as given); turning them into Keras's JSON and back, under the rules
of a file, is ``glassnet.saving``'s work.

Keras 3's rules: plain ``metrics`` are reported unweighted; ``weighted_metrics`` are
weighted by ``sample_weight`` and ``class_weight``, and one named like a plain metric is
reported as ``weighted_<name>`` (``keras/src/trainers/compile_utils.py``); ``loss_weights``
multiplies the loss of the one output.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import losses as losses_module
from glassnet import metrics as metrics_module
from glassnet import optimizers as optimizers_module
from glassnet.errors import NotCompiledError
from glassnet.layers.storage import WeightStorage, trains
from glassnet.trainers.multi_output import compile_outputs, metric_entries


class Compiling:
    """``compile`` and what it sets up (mixed into ``Trainer``)."""

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
        if self._multi_output:
            self._compile_outputs(optimizer, loss, metrics, loss_weights, weighted_metrics)
            return
        if loss is None and self._overrides("train_step"):
            self._compile_without_loss(optimizer, metrics)
            return
        if loss is None:
            raise ValueError(
                "compile() needs a loss, for example loss='mean_squared_error' for regression "
                f"or loss='categorical_crossentropy' for classification. Known losses: "
                f"{', '.join(losses_module.names())}"
            )
        self._loss_scale = self._loss_weight(loss_weights)
        self._loss_weights = loss_weights
        if optimizer is None:
            raise TypeError(
                "`optimizer` must be a name, an Optimizer or a config. Received: optimizer=None"
            )
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
        self._metrics = []
        self._metric_entries = []
        self._metrics_resolved_for = None
        self.compiled = True
        self.optimizer_needs_build = True
        if self.built:
            self._repack_storage()

    @property
    def _multi_output(self) -> bool:
        """Whether the model gives several outputs (a functional model)."""
        return isinstance(getattr(self, "output_shape", None), list)

    @property
    def _multi_input(self) -> bool:
        """Whether the model takes several inputs (a functional model)."""
        return isinstance(getattr(self, "input_shape", None), list)

    def _compile_outputs(self, optimizer, loss, metrics, loss_weights, weighted_metrics) -> None:
        """``compile`` for a model of several outputs: a loss, weight and metrics each."""
        if loss is None:
            raise ValueError(
                f"compile() needs a loss for the outputs {self.output_names}: one for all, a "
                "list in output order, or a dict keyed by output name"
            )
        self.loss, self._output_metric_specs = compile_outputs(
            self.output_names, loss, loss_weights, metrics, weighted_metrics
        )
        self._loss_scale = 1.0
        self._loss_weights = loss_weights
        self.optimizer = optimizers_module.get(optimizer)
        self._metric_specs = []
        self._weighted_from = 0
        self._compiled_metrics = (metrics, weighted_metrics)
        self._metrics = []
        self._metric_entries = []
        self._metrics_resolved_for = None
        self.compiled = True
        self.optimizer_needs_build = True
        if self.built:
            self._repack_storage()

    def _compile_without_loss(self, optimizer, metrics) -> None:
        """``compile(optimizer=...)`` for a model whose own ``train_step`` computes its loss
        (Keras allows it): no loss, the metrics as given."""
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = None
        self._loss_scale = 1.0
        self._loss_weights = None
        self._metric_specs = list(metrics or [])
        self._weighted_from = len(self._metric_specs)
        self._metrics = [metrics_module.get(spec) for spec in self._metric_specs]
        self._metric_entries = [(m, False, m.name) for m in self._metrics]
        self._metrics_resolved_for = "given"
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
        self.storage = WeightStorage(self._weight_layers(), self.storage.dtype,
                                     getattr(self, "trainable", True))
        self._storage_changed()
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
        # ``<weight>_constraint`` of each layer (Keras's naming), applied by the optimizer
        # to that trainable weight after each update
        self.optimizer.constraints = [
            (layer.values[s.name], constraint)
            for layer in self._weight_layers()
            for s in layer.specs
            if trains(layer, s, getattr(self, "trainable", True))
            and (constraint := getattr(layer, f"{s.name}_constraint", None)) is not None
        ]
        self._fused = self.loss is not None and self.plan.can_fuse(self.loss)
        self._regularized = [
            layer for layer in self._weight_layers() if any(s.regularizer for s in layer.specs)
        ]

    def _resolve_metrics(self, y_shape: tuple) -> None:
        if self._metrics_resolved_for == "given":
            return
        if self._multi_output:
            if self._metrics_resolved_for != "outputs":
                self._metric_entries = metric_entries(
                    self, self._output_metric_specs, self._target_shapes
                )
                self._metrics = [entry[0] for entry in self._metric_entries]
                self._metrics_resolved_for = "outputs"
            return
        key = (len(y_shape), y_shape[-1] if len(y_shape) > 1 else None)
        if self._metrics_resolved_for == key:
            return
        out_shape = (None, *self.output_shape)
        self._metrics = [
            metrics_module.resolve(spec, y_shape, out_shape) for spec in self._metric_specs
        ]
        weighted_from = getattr(self, "_weighted_from", len(self._metrics))
        names: list[str] = []
        for i, metric in enumerate(self._metrics):
            name = metric.name
            if i >= weighted_from and name in names:
                name = f"weighted_{name}"  # Keras's name when a plain metric has it
            names.append(name)
        #: (metric, weighs by sample_weight, name in the logs), as Keras reports them.
        self._metric_entries = [
            (metric, i >= weighted_from, name)
            for i, (metric, name) in enumerate(zip(self._metrics, names, strict=True))
        ]
        self._metrics_resolved_for = key

    def _update_metrics(self, y, out, sample_weight) -> None:
        for metric, weighted, _ in self._metric_entries:
            metric.update_state(y, out, sample_weight if weighted else None)

    def _metric_logs(self, loss: float) -> dict:
        """``{"loss": loss, metric name: result, ...}``."""
        logs = {"loss": loss}
        for metric, _, name in self._metric_entries:
            value = metric.result()
            # A scalar result is logged as a Python float, as Keras's History holds them;
            # a metric with one value per class (``F1Score()``) keeps its array.
            logs[name] = float(value) if np.ndim(value) == 0 else value
        return logs

    # --- Keras 3's interface for files (keras/src/trainers/trainer.py) ---------------------

    def get_compile_config(self) -> dict:
        """The arguments ``compile`` received, as Keras's keys; ``{}`` when not compiled.

        ``metrics`` are the plain metrics and ``weighted_metrics`` those weighted by
        ``sample_weight`` (``None`` when there are none), each as given to ``compile``;
        ``optimizer`` and ``loss`` are the objects the model uses.
        """
        if not getattr(self, "compiled", False):
            return {}
        if self._multi_output:
            metrics, weighted = self._compiled_metrics
            return {
                "optimizer": self.optimizer,
                "loss": self.loss.get_config(),
                "loss_weights": self._loss_weights,
                "metrics": metrics,
                "weighted_metrics": weighted,
                "run_eagerly": False,
                "steps_per_execution": 1,
                "jit_compile": False,
            }
        specs = list(self._metric_specs)
        split = self._weighted_from
        return {
            "optimizer": self.optimizer,
            "loss": self.loss,
            "loss_weights": self._loss_weights,
            "metrics": specs[:split],
            "weighted_metrics": specs[split:] or None,
            "run_eagerly": False,
            "steps_per_execution": 1,
            "jit_compile": False,
        }

    def compile_from_config(self, config: dict) -> None:
        """Compiles the model from ``get_compile_config()``'s dict (``compile(**config)``)."""
        self.compile(**config)
