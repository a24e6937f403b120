"""``Trainer``: the Keras workflow of a model, assembled from one file per job.

* ``compiling``: ``compile``, the loss's weight, the metrics and their names;
* ``inputs``: checking and converting the data a user passes;
* ``step``: forward, loss and backward (``forward_and_backward``), one training step;
* ``fitting``: ``fit``, its epochs, validation and callbacks;
* ``evaluation``: ``evaluate``, ``predict`` and the one-batch forms.

The model that mixes ``Trainer`` in supplies its layers (``_layers``), weight storage
(``storage``), shapes and ``plan``; trainers import nothing from ``glassnet.models``.
"""

from __future__ import annotations

from glassnet import metrics as metrics_module
from glassnet.trainers.compiling import Compiling
from glassnet.trainers.custom_steps import CustomSteps
from glassnet.trainers.evaluation import Evaluation
from glassnet.trainers.fitting import Fitting
from glassnet.trainers.history import History
from glassnet.trainers.inputs import Inputs
from glassnet.trainers.step import Stepping
from glassnet.utils.seeding import new_generator


class Trainer(CustomSteps, Compiling, Inputs, Stepping, Fitting, Evaluation):
    """The training half of a model (mixed into ``Sequential``)."""

    def __init__(self) -> None:
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self.optimizer_needs_build = True
        self._metric_specs: list = []
        self._metrics: list[metrics_module.Metric] = []
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._metric_entries: list[tuple] = []
        self._weighted_from = 0
        self._loss_scale = 1.0
        self._loss_weights = None
        self._metrics_resolved_for: tuple | None = None
        self._shuffle_rng = new_generator()

