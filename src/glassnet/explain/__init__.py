"""The glass box: every number the course computes by hand, for any model.

* ``from_node_weights``: a model from the course's dict of node weights.
* ``trace``: each node's input and output for a few rows (forward propagation).
* ``slopes``: each weight's slope as the course's three factors (backpropagation); for a
  convolution, a kernel weight's slope summed over every position where it was used
  (``slopes(...).layer(name).kernel_weight(i, j, c, f)``: weight sharing, for every
  convolution kind);
  ``step``: one gradient-descent update and the loss before and after.
* ``last_pass``: the records of the model's last pass (``model.tape``), layer by layer.
* ``serve``: a live web page of a model and its rows (``glassnet.callbacks.LiveView`` shows
  one while ``fit`` runs; needs ``pip install tornado``; see ``docs/live.md``).
* ``diagnose``: dead ReLU units (dead filters in a convnet), vanishing or exploding gradients
  and saturated tanh/sigmoid units, in plain words (``glassnet.callbacks.Diagnostics`` does
  it during training).
* ``plot_network``, ``plot_history``, ``plot_loss_surface``, ``plot_slope``,
  ``plot_diagnostics``, ``plot_filters``, ``plot_feature_maps``: pictures (needs
  matplotlib: ``pip install matplotlib``).

Everything here reads the nodes that the model's own forward and backward passes left on
its tape; nothing is computed by a second route that could disagree with training.

Example:
    >>> from glassnet.explain import from_node_weights, trace
    >>> model = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]})
    >>> trace(model, [2, 3]).layer("hidden").outputs
    array([[5., 1.]])
"""

from glassnet.explain._records import LayerPass, PassReading, last_pass
from glassnet.explain.conv_slopes import ConvLayerSlopes, KernelWeightSlope
from glassnet.explain.diagnostics import Diagnosis, Finding, LayerHealth, diagnose
from glassnet.explain.image_plots import plot_feature_maps, plot_filters
from glassnet.explain.node_weights import from_node_weights
from glassnet.explain.plots import (
    plot_diagnostics,
    plot_history,
    plot_loss_surface,
    plot_network,
    plot_slope,
)
from glassnet.explain.slopes import LayerSlopes, Slopes, WeightSlope, slopes
from glassnet.explain.step import Step, step
from glassnet.explain.trace import LayerTrace, Trace, trace

__all__ = [
    "plot_feature_maps",
    "plot_filters",
    "ConvLayerSlopes",
    "Diagnosis",
    "Finding",
    "KernelWeightSlope",
    "LayerHealth",
    "LayerPass",
    "LayerSlopes",
    "LayerTrace",
    "Slopes",
    "PassReading",
    "Step",
    "Trace",
    "WeightSlope",
    "diagnose",
    "from_node_weights",
    "last_pass",
    "plot_diagnostics",
    "plot_history",
    "plot_loss_surface",
    "plot_network",
    "plot_slope",
    "serve",
    "slopes",
    "step",
    "trace",
]


def __getattr__(name: str):
    """``serve`` is imported on first use, so that ``import glassnet.explain`` stays light."""
    if name == "serve":
        from glassnet.explain.live import serve

        return serve
    raise AttributeError(f"module 'glassnet.explain' has no attribute {name!r}")
