"""Compile information (optimizer, loss, metrics), between Keras's JSON and glassnet.

Keras 3 ``.keras`` files hold it as the model's ``compile_config`` (passed to
``model.compile(**config)`` on load, ``keras/src/trainers/trainer.py``); legacy ``.h5``
files as the root attribute ``training_config`` (``keras/src/legacy/saving/
saving_utils.py``, ``compile_args_from_training_config``).

Nothing here is resolved by import: every name is looked up in an explicit table of
glassnet's own optimizers, losses and metrics. What glassnet does not know makes the model
load uncompiled (an unknown optimizer or loss) or without that metric, with a warning;
it never makes the load fail.
"""

from __future__ import annotations

from glassnet import losses as losses_module
from glassnet import metrics as metrics_module
from glassnet import optimizers as optimizers_module
from glassnet.saving.config_values import ReadContext, finite_float, init_params

#: glassnet optimizer classes under the class names Keras writes.
OPTIMIZERS = dict(optimizers_module.OPTIMIZER_CLASSES)
#: Optimizer config keys glassnet ignores at these values (anything else is unsupported).
_INERT_OPTIMIZER_KEYS = {
    "decay": (0, 0.0, None), "jit_compile": None, "is_legacy_optimizer": None, "mesh": (None,),
}
#: The Keras function name of each glassnet loss class (``keras/src/losses/__init__.py``).
LOSS_NAMES = {
    losses_module.MeanSquaredError: "mean_squared_error",
    losses_module.MeanAbsoluteError: "mean_absolute_error",
    losses_module.MeanAbsolutePercentageError: "mean_absolute_percentage_error",
    losses_module.MeanSquaredLogarithmicError: "mean_squared_logarithmic_error",
    losses_module.Huber: "huber",
    losses_module.LogCosh: "log_cosh",
    losses_module.Poisson: "poisson",
    losses_module.KLDivergence: "kl_divergence",
    losses_module.Hinge: "hinge",
    losses_module.SquaredHinge: "squared_hinge",
    losses_module.BinaryCrossentropy: "binary_crossentropy",
    losses_module.CategoricalCrossentropy: "categorical_crossentropy",
    losses_module.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
}
_SHAPE_DEPENDENT_METRICS = ("accuracy", "acc", "crossentropy", "ce")
#: Metric aliases Keras 3 resolves (``keras/src/metrics/__init__.py``), in ``.keras`` and
#: ``.h5`` files alike (unlike the same aliases as a loss in ``.h5``, see ``loss_config``).
_KERAS_METRIC_ALIASES = ("mse", "mae", "mape", "msle")


# --- writing ----------------------------------------------------------------------------------


def optimizer_config(optimizer) -> tuple[str, dict] | None:
    """``(Keras class name, config)`` of a glassnet optimizer, or ``None`` if Keras lacks it."""
    for keras_name, cls in OPTIMIZERS.items():
        if type(optimizer) is cls:
            return keras_name, dict(optimizer.get_config())
    return None


def loss_config(loss, for_h5: bool):
    """A loss as Keras names it: a function name, or a class object when not default.

    Always the full name (``"mean_squared_error"``): Keras 3.15 fails to load an ``.h5``
    whose ``training_config`` names the loss ``"mse"`` or ``"mae"``
    (``keras/src/legacy/saving/saving_utils.py``, ``_resolve_compile_arguments_compat``).
    """
    name = LOSS_NAMES.get(type(loss))
    if name is None:
        return None
    own = {k: v for k, v in loss.get_config().items() if k != "name"}
    default = {k: v for k, v in type(loss)().get_config().items() if k != "name"}
    if own == default:
        return name
    entry = {"class_name": type(loss).__name__, "config": {"name": name, **own}}
    if not for_h5:
        entry = {"module": "keras.losses", **entry, "registered_name": None}
    return entry


def metric_names(specs, warn) -> list[str]:
    """The names Keras will resolve to the same metrics as glassnet's ``compile`` specs."""
    names = []
    for spec in specs:
        name = spec if isinstance(spec, str) else getattr(spec, "name", None) or getattr(
            spec, "__name__", None)
        if not isinstance(name, str):
            warn(f"the metric {spec!r} cannot be named in a Keras file and is not saved")
            continue
        if name.lower() in _SHAPE_DEPENDENT_METRICS:
            names.append(name)
            continue
        if name in _KERAS_METRIC_ALIASES:
            names.append(name)
            continue
        try:
            metric = metrics_module.get(name)
            if type(metric) is metrics_module.Metric:  # a user's function: Keras cannot name it
                raise ValueError(name)
            # Keras resolves a name the way glassnet does, so the name itself is written.
            names.append(name)
        except (ValueError, TypeError):
            warn(f"the metric {name!r} is not a Keras built-in and is not saved")
    return names


def _loss_weights(value, warn):
    """``loss_weights`` as JSON: a number, or a list or dict of numbers (else dropped)."""
    items = value.values() if isinstance(value, dict) else (
        value if isinstance(value, (list, tuple)) else [value])
    if value is None or all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            for v in items):
        return list(value) if isinstance(value, tuple) else value
    warn(f"loss_weights={value!r} cannot be written to a Keras file and is not saved")
    return None


def compile_parts(model, for_h5: bool, warn) -> dict | None:
    """The compile information of a model (``model.get_compile_config()``) as Keras
    writes it, or ``None`` when it has none Keras can read."""
    given = model.get_compile_config()
    if not given:
        return None
    optimizer = optimizer_config(given["optimizer"])
    loss = _per_output(given["loss"], lambda item: loss_config(item, for_h5))
    several = isinstance(given["loss"], (dict, list, tuple))
    if optimizer is None or loss is None or (several and None in _values(loss)):
        what = "optimizer" if optimizer is None else "loss"
        warn(f"the model's {what} ({given[what]!r}) has no Keras equivalent, so the "
             "file holds no compile information and loads uncompiled")
        return None
    weighted = given.get("weighted_metrics")
    return {"optimizer": optimizer, "loss": loss,
            "loss_weights": _loss_weights(given.get("loss_weights"), warn),
            "metrics": _metric_structure(given.get("metrics") or [], warn),
            "weighted_metrics": _metric_structure(weighted, warn) if weighted else None}


def _values(structure) -> list:
    return list(structure.values()) if isinstance(structure, dict) else list(structure)


def _per_output(value, convert):
    """``convert`` applied to one loss, or to each of a multi-output model's (a dict by
    output name or a list in output order), keeping the structure."""
    if isinstance(value, dict):
        return {key: convert(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [convert(item) for item in value]
    return convert(value)


def _metric_structure(specs, warn):
    """Metric names for one output (a flat list), or per output (a dict of lists, or a list
    of lists), as Keras writes them."""
    if isinstance(specs, dict):
        return {key: metric_names(v if isinstance(v, (list, tuple)) else [v], warn)
                for key, v in specs.items()}
    if isinstance(specs, (list, tuple)) and any(isinstance(v, (list, tuple)) for v in specs):
        return [metric_names(v if isinstance(v, (list, tuple)) else [v], warn) for v in specs]
    return metric_names(specs, warn)


def _settings(parts: dict) -> dict:
    return {"loss": parts["loss"], "loss_weights": parts["loss_weights"],
            "metrics": parts["metrics"], "weighted_metrics": parts["weighted_metrics"],
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def keras_compile_config(parts: dict | None) -> dict:
    """The ``compile_config`` of a ``.keras`` file (``{}`` when uncompiled)."""
    if parts is None:
        return {}
    class_name, config = parts["optimizer"]
    return {
        "optimizer": {"module": "keras.optimizers", "class_name": class_name, "config": config,
                      "registered_name": None},
        **_settings(parts),
    }


def h5_training_config(parts: dict) -> dict:
    """The ``training_config`` of a legacy ``.h5`` file (``loss_weights`` is required)."""
    class_name, config = parts["optimizer"]
    return {**_settings(parts),
            "optimizer_config": {"class_name": class_name, "config": config}}


# --- reading ----------------------------------------------------------------------------------


def read_optimizer(value, ctx: ReadContext):
    """A glassnet optimizer from a Keras optimizer name or config, or ``None`` (warned)."""
    if isinstance(value, str):
        cls = next((c for k, c in OPTIMIZERS.items() if k.lower() == value.lower()), None)
        if cls is None:
            ctx.warn(f"{ctx.where}: the optimizer {value!r} is unknown to glassnet; the model "
                     "loads uncompiled")
            return None
        return cls()
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        ctx.warn(f"{ctx.where}: the optimizer {value!r} is unreadable; the model loads uncompiled")
        return None
    class_name = value["class_name"]
    if class_name.startswith("Custom>"):  # tf_keras 2.11+ registers its own optimizers so
        class_name = class_name[len("Custom>"):]
    cls = OPTIMIZERS.get(class_name)
    config = value.get("config") or {}
    if cls is None or not isinstance(config, dict):
        ctx.warn(f"{ctx.where}: the optimizer {class_name!r} is unknown to glassnet; the model "
                 f"loads uncompiled (glassnet has {', '.join(OPTIMIZERS)})")
        return None
    kwargs, unsupported = {}, []
    accepted = init_params(cls) - set(_INERT_OPTIMIZER_KEYS)
    for key, item in config.items():
        if key.startswith("ema_") and not config.get("use_ema"):
            continue  # EMA settings mean nothing while use_ema is off (tf.keras writes 100)
        if key in _INERT_OPTIMIZER_KEYS:
            allowed = _INERT_OPTIMIZER_KEYS[key]
            if allowed is not None and item not in allowed:
                unsupported.append(f"{key}={item!r}")
        elif key in accepted:
            kwargs[key] = item
        elif item is not None:
            unsupported.append(f"{key}={item!r}")
    if isinstance(kwargs.get("learning_rate"), list):
        unsupported.append("a learning rate given as a list")
    elif isinstance(kwargs.get("learning_rate"), dict):
        schedule = read_schedule(kwargs["learning_rate"], ctx)
        if schedule is None:
            return None
        kwargs["learning_rate"] = schedule
    if unsupported:
        ctx.warn(f"{ctx.where}: the optimizer {class_name} uses {', '.join(unsupported)}, which "
                 "glassnet does not support; the model loads uncompiled")
        return None
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, NotImplementedError) as error:
        ctx.warn(f"{ctx.where}: the optimizer {class_name} has a config glassnet cannot use "
                 f"({error}); the model loads uncompiled")
        return None


def read_schedule(value: dict, ctx: ReadContext):
    """A glassnet learning-rate schedule from the serialized form Keras writes (a built-in
    class of ``keras.optimizers.schedules`` only, matched by name), or ``None`` (warned)."""
    schedules = optimizers_module.schedules
    class_name = value.get("class_name")
    config = value.get("config")
    module = value.get("module", schedules.KERAS_MODULE)
    cls = None
    if isinstance(class_name, str) and module == schedules.KERAS_MODULE and (
        value.get("registered_name") in (None, class_name)
    ):
        try:
            cls = schedules.schedule_class(class_name)
        except ValueError:
            cls = None
    if not isinstance(cls, type) or not isinstance(config, dict):
        ctx.warn(f"{ctx.where}: the learning-rate schedule {class_name!r} (module {module!r}) is "
                 "not one of Keras's built-in schedules that glassnet has; the model loads "
                 "uncompiled")
        return None
    unknown = sorted(set(config) - init_params(cls))
    bad = [k for k, v in config.items()
           if not (v is None or isinstance(v, (bool, int, float, str))
                   or (isinstance(v, list) and all(isinstance(i, (int, float)) for i in v)))]
    try:
        if unknown or bad:
            raise ValueError(f"unexpected key(s) {', '.join(unknown + bad)}")
        return cls.from_config(dict(config))
    except (TypeError, ValueError) as error:
        ctx.warn(f"{ctx.where}: the learning-rate schedule {class_name} has a config glassnet "
                 f"cannot use ({error}); the model loads uncompiled")
        return None


def read_loss(value, ctx: ReadContext):
    """A glassnet loss from a Keras loss name or object, or ``None`` (warned); for a model
    of several outputs a dict by output name or a list of them (``None`` when any fails)."""
    if (isinstance(value, dict) and "class_name" not in value) or isinstance(value, list):
        losses = _per_output(value, lambda item: read_loss(item, ctx))
        return None if any(item is None for item in _values(losses)) else losses
    if isinstance(value, dict) and value.get("class_name") == "function":
        value = value.get("config")  # Keras 3.15 writes loss functions this way
    try:
        if isinstance(value, str):
            return losses_module.get(value)
        if isinstance(value, dict) and isinstance(value.get("class_name"), str):
            cls = type(losses_module.get(value["class_name"]))
            config = dict(value.get("config") or {})
            if config.get("reduction") in ("auto", None):
                config["reduction"] = "sum_over_batch_size"
            params = init_params(cls)
            return cls(**{k: v for k, v in config.items() if k in params})
    except (ValueError, TypeError):
        pass
    ctx.warn(f"{ctx.where}: the loss {value!r} is unknown to glassnet; the model loads "
             "uncompiled")
    return None


def _flatten(value) -> list:
    if isinstance(value, list):
        return [item for part in value for item in _flatten(part)]
    if isinstance(value, dict) and "class_name" not in value:
        return [item for part in value.values() for item in _flatten(part)]
    return [] if value is None else [value]


def _metric_works(name) -> bool:
    try:
        metrics_module.resolve(name, (1, 2), (1, 2))
    except (ValueError, TypeError):
        return False
    return True


def read_metrics(value, ctx: ReadContext, per_output: bool = False):
    """Metric names glassnet knows, from Keras's nested metric lists (others warned); with
    ``per_output``, a dict of lists or a list of lists, one per output."""
    if per_output and isinstance(value, dict) and "class_name" not in value:
        return {key: read_metrics(item, ctx) for key, item in value.items()}
    if per_output and isinstance(value, list) and any(isinstance(v, list) for v in value):
        return [read_metrics(item, ctx) for item in value]
    names = []
    for item in _flatten(value):
        candidates = [item]
        if isinstance(item, dict):
            config = item.get("config") if isinstance(item.get("config"), dict) else {}
            candidates = [config.get("name"), config.get("fn"), item.get("class_name")]
        found = next((c for c in candidates if isinstance(c, str) and _metric_works(c)), None)
        if found is None:
            ctx.warn(f"{ctx.where}: the metric {item!r} is unknown to glassnet and is dropped")
        else:
            names.append(found)
    return names


def read_loss_weights(value, ctx: ReadContext, outputs: int = 1):
    """A number, or a list or dict of numbers, one per output; else ``None`` (warned)."""
    if value is None:
        return None
    if outputs > 1:
        items = list(value.values()) if isinstance(value, dict) else (
            value if isinstance(value, list) else [value])
        if all(isinstance(v, (int, float)) and not isinstance(v, bool)
               and finite_float(v) is not None for v in items):
            return value
        ctx.warn(f"{ctx.where}: loss_weights={value!r} are not numbers and are ignored")
        return None
    items = list(value.values()) if isinstance(value, dict) else (
        value if isinstance(value, list) else [value])
    number = items[0] if len(items) == 1 else None
    if isinstance(number, (int, float)) and not isinstance(number, bool) and (
        finite_float(number) is not None
    ):
        return value
    ctx.warn(f"{ctx.where}: loss_weights={value!r} does not fit glassnet's one output and is "
             "ignored")
    return None


def compile_model(model, compile_config: dict, ctx: ReadContext) -> bool:
    """Compiles ``model`` from a file's compile information (``optimizer``, ``loss``,
    ``metrics``, ``weighted_metrics``, ``loss_weights``) through
    ``model.compile_from_config``; ``False`` (warned) when it cannot."""
    optimizer = read_optimizer(compile_config.get("optimizer"), ctx)
    loss = read_loss(compile_config.get("loss"), ctx) if optimizer is not None else None
    if optimizer is None or loss is None:
        return False
    outputs = len(model.output_names) if isinstance(model.output_shape, list) else 1
    several = outputs > 1
    config = {"optimizer": optimizer, "loss": loss,
              "metrics": read_metrics(compile_config.get("metrics"), ctx, several),
              "weighted_metrics": read_metrics(compile_config.get("weighted_metrics"), ctx,
                                               several),
              "loss_weights": read_loss_weights(compile_config.get("loss_weights"), ctx,
                                                outputs)}
    try:
        model.compile_from_config(config)
    except (TypeError, ValueError) as error:
        ctx.warn(f"{ctx.where}: the model cannot be compiled as the file says ({error}); it "
                 "loads uncompiled")
        return False
    return True
