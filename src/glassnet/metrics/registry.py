"""Metrics by name: ``get``, ``serialize``, ``deserialize`` (``keras/src/metrics/__init__.py``)
and ``resolve``, which turns what ``compile(metrics=[...])`` received into metric objects
(``keras/src/trainers/compile_utils.py``, ``get_metric``).

A name is a class name (``"AUC"``), its snake case (``"auc"``, ``"top_k_categorical_accuracy"``)
or one of Keras's aliases (``"mse"``, ``"mae"``, ``"mape"``, ``"msle"``, ``"bce"``); names
are matched ignoring case and underscores. In ``compile``, ``"accuracy"``/``"acc"`` (and
glassnet's ``"crossentropy"``/``"ce"``) depend on the shapes of the targets and the outputs:
one output unit means the binary form; targets with fewer dimensions than the outputs, or a
single target column against several outputs, mean the sparse categorical form; otherwise
the categorical form. A metric made from a name in ``compile`` is logged under that name.
"""

from __future__ import annotations

from collections.abc import Callable

from glassnet._registry import Registry, unknown_name_error
from glassnet.metrics import accuracy_metrics as acc
from glassnet.metrics import (
    confusion,
    correlation,
    f_score,
    probabilistic,
    reduction,
    regression,
)
from glassnet.metrics.base import Metric
from glassnet.naming import to_snake_case

_registry = Registry("metric")

#: Every metric class, by Keras's class name.
CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for cls in [
        Metric,
        reduction.Mean,
        reduction.Sum,
        reduction.MeanMetricWrapper,
        acc.Accuracy,
        acc.BinaryAccuracy,
        acc.CategoricalAccuracy,
        acc.SparseCategoricalAccuracy,
        acc.TopKCategoricalAccuracy,
        acc.SparseTopKCategoricalAccuracy,
        confusion.TruePositives,
        confusion.FalsePositives,
        confusion.TrueNegatives,
        confusion.FalseNegatives,
        confusion.Precision,
        confusion.Recall,
        confusion.AUC,
        f_score.FBetaScore,
        f_score.F1Score,
        regression.MeanSquaredError,
        regression.MeanAbsoluteError,
        regression.MeanAbsolutePercentageError,
        regression.MeanSquaredLogarithmicError,
        regression.RootMeanSquaredError,
        regression.CosineSimilarity,
        regression.LogCoshError,
        regression.R2Score,
        probabilistic.Hinge,
        probabilistic.SquaredHinge,
        probabilistic.CategoricalHinge,
        probabilistic.KLDivergence,
        probabilistic.Poisson,
        probabilistic.BinaryCrossentropy,
        probabilistic.CategoricalCrossentropy,
        probabilistic.SparseCategoricalCrossentropy,
        correlation.PearsonCorrelation,
        correlation.ConcordanceCorrelation,
    ]
}

_ALIASES = {
    "mse": regression.MeanSquaredError,
    "mae": regression.MeanAbsoluteError,
    "mape": regression.MeanAbsolutePercentageError,
    "msle": regression.MeanSquaredLogarithmicError,
    "rmse": regression.RootMeanSquaredError,
    "bce": probabilistic.BinaryCrossentropy,
    "logcosh": regression.LogCoshError,
}

#: The functions ``keras.metrics`` exposes, by name (for ``MeanMetricWrapper`` configs).
FUNCTIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in [
        acc.accuracy,
        acc.binary_accuracy,
        acc.categorical_accuracy,
        acc.sparse_categorical_accuracy,
        acc.top_k_categorical_accuracy,
        acc.sparse_top_k_categorical_accuracy,
        regression.mean_squared_error,
        regression.mean_absolute_error,
        regression.mean_absolute_percentage_error,
        regression.mean_squared_logarithmic_error,
        regression.cosine_similarity,
        regression.log_cosh,
        probabilistic.hinge,
        probabilistic.squared_hinge,
        probabilistic.huber,
        probabilistic.categorical_hinge,
        probabilistic.kl_divergence,
        probabilistic.poisson,
        probabilistic.binary_crossentropy,
        probabilistic.categorical_crossentropy,
        probabilistic.sparse_categorical_crossentropy,
        probabilistic.binary_focal_crossentropy,
        probabilistic.categorical_focal_crossentropy,
        correlation.pearson_correlation,
        correlation.concordance_correlation,
    ]
}

for _cls in CLASSES.values():
    if _cls not in (Metric, reduction.MeanMetricWrapper):
        _registry.register(_cls, to_snake_case(_cls.__name__), _cls.__name__)
for _alias, _cls in _ALIASES.items():
    _registry.register(_cls, _alias)

_ACCURACY_NAMES = ("accuracy", "acc")
_CROSSENTROPY_NAMES = ("crossentropy", "ce")


def function_by_name(name: str) -> Callable:
    """A metric function of ``keras.metrics`` by its name."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise unknown_name_error("metric function", name, FUNCTIONS) from None


def get(identifier):
    """A metric from a name, a config dict, a class, an object or a function (Keras's
    ``keras.metrics.get``): names and classes give a new object with default arguments,
    objects and functions are returned as they are, ``None`` gives ``None``.

    Raises:
        ValueError: for an unknown name (with the closest names) or anything else that is
            not a metric.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, Metric) or callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric) -> dict:
    """A metric (or metric function) as Keras writes it: ``{"module", "class_name",
    "config", "registered_name"}``."""
    if isinstance(metric, Metric):
        return {
            "module": "keras.metrics",
            "class_name": type(metric).__name__,
            "config": metric.get_config(),
            "registered_name": None,
        }
    if callable(metric) and isinstance(getattr(metric, "__name__", None), str):
        return {
            "module": "builtins",
            "class_name": "function",
            "config": metric.__name__,
            "registered_name": "function",
        }
    raise ValueError(f"Cannot serialize {metric!r}: it is not a glassnet metric")


def deserialize(config, custom_objects: dict | None = None):
    """A metric from ``serialize``'s dict (or a name); ``custom_objects`` maps class names
    of one's own ``Metric`` subclasses to the classes."""
    custom = dict(custom_objects or {})
    if isinstance(config, str):
        if config in custom:
            return get(custom[config])
        if config in FUNCTIONS:
            return FUNCTIONS[config]
        return get(config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            "A metric config must be a name or a dict with 'class_name' and 'config'. "
            f"Received: {config!r}"
        )
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "function":
        return custom.get(inner) or function_by_name(inner)
    cls = custom.get(class_name) or CLASSES.get(class_name)
    if cls is None:
        cls = _registry.lookup(class_name)
    return cls.from_config(dict(inner or {}))


def _by_shapes(binary, sparse, categorical, y_true_shape, y_pred_shape):
    if y_pred_shape[-1] == 1:
        return binary
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        y_true_shape[-1] == 1 and y_pred_shape[-1] > 1
    )
    return sparse if is_sparse else categorical


def resolve(identifier, y_true_shape: tuple, y_pred_shape: tuple) -> Metric:
    """What ``compile(metrics=[...])`` received, as a ``Metric``.

    Args:
        identifier: a name, a ``Metric`` object or class, or a function of
            ``(y_true, y_pred)`` returning one value per row (averaged by a
            ``MeanMetricWrapper`` named after it).
        y_true_shape: shape of the targets.
        y_pred_shape: shape of the model's outputs.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _ACCURACY_NAMES:
            cls = _by_shapes(
                acc.BinaryAccuracy,
                acc.SparseCategoricalAccuracy,
                acc.CategoricalAccuracy,
                y_true_shape,
                y_pred_shape,
            )
            return cls(name=identifier)
        if key in _CROSSENTROPY_NAMES:
            cls = _by_shapes(
                probabilistic.BinaryCrossentropy,
                probabilistic.SparseCategoricalCrossentropy,
                probabilistic.CategoricalCrossentropy,
                y_true_shape,
                y_pred_shape,
            )
            return cls(name=identifier)
        cls = _registry.lookup(identifier)
        return cls(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return reduction.MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise TypeError(f"A metric must be a name, a Metric or a function. Received: {identifier!r}")


def names() -> list[str]:
    """Every metric name glassnet knows, aliases included."""
    return sorted(set(_registry.names()) | set(_ACCURACY_NAMES) | set(_CROSSENTROPY_NAMES))
