"""What a model tells a file about its training: compile settings and random state.

Keras 3's interface (``keras/src/trainers/trainer.py``, ``get_compile_config`` and
``compile_from_config``): the model hands out the arguments it was compiled with and
compiles itself from them, so a file format never reads the model's private attributes.
Unlike Keras, ``get_compile_config`` returns the objects themselves (the optimizer, the
loss, the metrics as given) and ``compile_from_config`` takes objects: turning them into
Keras's JSON and back, under the rules of a file, is ``glassnet.saving``'s work.
"""

from __future__ import annotations

import numpy as np


class CompileConfigMixin:
    """``get_compile_config``/``compile_from_config`` and the random generators to save
    (mixed into ``Sequential``, whose ``compile`` fills the attributes read here)."""

    def get_compile_config(self) -> dict:
        """The arguments ``compile`` received, as Keras's keys; ``{}`` when not compiled.

        ``metrics`` are the plain metrics and ``weighted_metrics`` those weighted by
        ``sample_weight`` (``None`` when there are none), each as given to ``compile``;
        ``optimizer`` and ``loss`` are the objects the model uses.
        """
        if not getattr(self, "compiled", False):
            return {}
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

    def random_generators(self) -> dict[str, np.random.Generator]:
        """The generators whose state lets training resume exactly: ``"shuffle"`` (the
        epoch shuffler) and each layer's by name (layers that draw, such as Dropout,
        keep theirs in ``rng``)."""
        generators = {"shuffle": self._shuffle_rng}
        for layer in self.layers:
            rng = getattr(layer, "rng", None)
            if isinstance(rng, np.random.Generator):
                generators[f"layer:{layer.name}"] = rng
        return generators
