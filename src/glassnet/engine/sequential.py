"""``Sequential``: a stack of layers, each feeding the next.

The model owns the storage of its weights (``glassnet.layers.storage``): when it is built,
every layer's trainable weights become views into one flat ``parameters`` array, and their
gradients views into one flat ``gradients`` array. Training (``glassnet.trainers``)
then runs forward through the layers, backward in reverse, and one optimizer update on the
flat arrays.
"""

from __future__ import annotations

import numpy as np

from glassnet import _file_hooks
from glassnet import config as config_module
from glassnet.engine.plan import Plan
from glassnet.engine.summary import summary_text
from glassnet.layers import LAYER_CLASSES, InputLayer, Layer
from glassnet.layers.base import normalize_shape
from glassnet.layers.storage import WeightStorage
from glassnet.naming import unique_name
from glassnet.trainers import Trainer


class Sequential(Trainer):
    """A linear stack of layers, as ``keras.models.Sequential``.

    Args:
        layers: optional list of layers (an ``Input``/``InputLayer`` may come first).
        name: the model's name.

    Example:
        >>> from glassnet.layers import Dense
        >>> from glassnet.models import Sequential
        >>> model = Sequential()
        >>> model.add(Dense(100, activation="relu", input_shape=(10,)))
        >>> model.add(Dense(1))
        >>> model.compile(optimizer="adam", loss="mean_squared_error")
    """

    def __init__(self, layers=None, name: str | None = None, trainable: bool = True) -> None:
        super().__init__()
        self.name = name or unique_name("sequential")
        self.trainable = trainable
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.storage: WeightStorage | None = None
        self.built = False
        self._plan_cache: tuple = (None, None)  # (the storage it was made for, Plan)
        layers = list(layers or [])
        names = [layer.name for layer in layers if isinstance(layer, Layer)]
        seen: set[str] = set()  # names checked once here, not against every layer at each add
        for name in names:
            if name in seen:
                raise ValueError(
                    f"The model already has a layer named {name!r}; names must be unique"
                )
            seen.add(name)
        for layer in layers:
            self._add(layer, check_name=False)

    # --- copies (pickle, copy.deepcopy) -------------------------------------------------

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_plan_cache"] = (None, None)  # scratch buffers, rebuilt on the next pass
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.storage is not None:
            # A copy holds each layer's weights apart from the flat arrays they were views
            # of; binding them to fresh storage makes the optimizer train the layers again.
            self.storage = WeightStorage(self._layers, self.storage.dtype)

    # --- the stack ----------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the input layer (as in Keras 3)."""
        return list(self._layers)

    def add(self, layer: Layer) -> None:
        """Appends a layer; an ``InputLayer`` fixes the input shape instead.

        Raises:
            TypeError: when ``layer`` is not a glassnet layer.
            ValueError: when a layer of the same name is already in the model.
        """
        self._add(layer, check_name=True)

    def _add(self, layer: Layer, check_name: bool) -> None:
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError(
                    "An InputLayer can only be the first element of a Sequential model"
                )
            self.input_shape = layer.declared_input_shape
            self._input_layer = layer
            self._invalidate()
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                "Sequential.add expects a glassnet layer such as Dense(...). "
                f"Received: {layer!r} of type {type(layer).__name__}"
            )
        if check_name and any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"The model already has a layer named {layer.name!r}; names must be unique"
            )
        if not self._layers and self.input_shape is None and layer.declared_input_shape is not None:
            self.input_shape = layer.declared_input_shape
        self._layers.append(layer)
        self._invalidate()

    def pop(self) -> Layer:
        """Removes and returns the last layer."""
        if not self._layers:
            raise ValueError("There are no layers in the model to pop")
        layer = self._layers.pop()
        self._invalidate()
        return layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index."""
        if index is not None:
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        names = ", ".join(repr(layer.name) for layer in self._layers)
        raise ValueError(f"No layer named {name!r}. The layers are: {names}")

    def _invalidate(self) -> None:
        if self.built:
            # Keep current values: layers hold their views, which the next build copies.
            for layer in self._layers:
                layer.values = {k: v.copy() for k, v in layer.values.items()}
        self.built = False
        self.storage = None
        self.optimizer_needs_build = True

    # --- building -----------------------------------------------------------------------

    def build(self, input_shape=None) -> None:
        """Fixes every layer's shape and allocates the weights.

        Args:
            input_shape: shape of one input row, with or without a leading ``None`` batch
                axis; not needed when the first layer declared ``input_shape``.

        Raises:
            ValueError: when the input shape is unknown or disagrees with the layers.
        """
        if input_shape is not None:
            shape = tuple(input_shape)
            if shape and shape[0] is None:
                shape = shape[1:]
            self.input_shape = normalize_shape(shape)
        if self.input_shape is None:
            raise ValueError(
                "The model does not know the shape of its input. Give the first layer "
                "input_shape=(columns,), start with Input(shape=(columns,)), or call "
                "model.build((None, columns)) or fit the model on data."
            )
        if not self._layers:
            raise ValueError("The model has no layers; add some with model.add(...)")
        shape = self.input_shape
        for layer in self._layers:
            shape = layer.plan(shape)
        self.storage = WeightStorage(self._layers, config_module.floatx())
        self.output_shape = shape
        self.built = True
        self.optimizer_needs_build = True

    def _ensure_built(self, x_shape: tuple[int, ...] | None = None) -> None:
        if not self.built:
            self.build(x_shape if self.input_shape is None else None)

    # --- weights ------------------------------------------------------------------------

    @property
    def weights(self) -> list[np.ndarray]:
        """Every weight array, layer by layer, in Keras's order (views, not copies)."""
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    @property
    def weight_names(self) -> list[str]:
        """``"layer/weight"`` for each entry of ``weights``."""
        names = []
        for layer in self._layers:
            ordered = [s for s in layer.specs if s.trainable] + [
                s for s in layer.specs if not s.trainable
            ]
            names += [f"{layer.name}/{s.name}" for s in ordered]
        return names

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight array, in Keras's order."""
        self._require_built("get_weights")
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Sets every weight from a list like the one ``get_weights`` returns.

        Raises:
            ValueError: naming the first array whose shape does not fit, or a wrong count.
        """
        self._require_built("set_weights")
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(
                f"The model has {len(current)} weight arrays, received {len(weights)}. Expected "
                f"shapes: {[w.shape for w in current]}"
            )
        names = self.weight_names
        for name, target, new in zip(names, current, weights, strict=True):
            new = np.asarray(new)
            if new.shape != target.shape:
                raise ValueError(
                    f"Weight {name} has shape {target.shape}; "
                    f"received an array of shape {new.shape}"
                )
        for target, new in zip(current, weights, strict=True):
            target[...] = new

    def count_params(self) -> int:
        """The number of weights in the model."""
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self._layers)

    def _require_built(self, what: str) -> None:
        if not self.built:
            if self.input_shape is not None and self._layers:
                self.build()
                return
            raise ValueError(
                f"{what}() needs a built model, and this one does not know its input shape yet. "
                "Give the first layer input_shape=..., or call build() or fit() first."
            )

    # --- computation --------------------------------------------------------------------

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


    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Runs a batch through the model's plan, leaving its nodes on ``model.tape``.

        Returns the output, which may be a buffer the next pass overwrites."""
        return self.plan.forward(x, training)

    def backward(self, grad_out: np.ndarray, from_logits: bool = False) -> None:
        """Back-propagates the slope of the loss at the output through the last pass.

        Args:
            grad_out: slope at the last layer's output, or at its pre-activation ``z`` when
                ``from_logits`` (a cross-entropy fused with its softmax or sigmoid).
        """
        self.plan.backward(grad_out, from_logits)

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """The model's output for ``x`` (an array), without batching."""
        x = self._prepare_x(x)
        return self.forward(x, training=training).copy()

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

    # --- description --------------------------------------------------------------------

    def summary(self, line_length: int | None = None, print_fn=None) -> None:
        """Prints a table of layers, output shapes and parameter counts, like Keras.

        A model whose first layer declared its input shape is built first, as Keras builds
        it when the layer is added.

        Raises:
            ValueError: when the model does not know its input shape yet.
        """
        self._require_built("summary")
        text = summary_text(self, line_length)
        (print_fn or print)(text)

    def get_config(self) -> dict:
        """The model's architecture: its name and each layer's class and config."""
        layers = []
        if self.input_shape is not None:
            layers.append(
                {
                    "class_name": "InputLayer",
                    "config": {
                        "batch_shape": (None, *self.input_shape),
                        "name": self._input_layer.name if self._input_layer else "input_layer",
                    },
                }
            )
        layers += [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in self._layers
        ]
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """Rebuilds a model (with fresh weights) from ``get_config()``'s dict.

        Only glassnet's own layer classes are accepted; nothing named in the config is
        imported or executed.
        """
        model = cls(name=config.get("name"))
        for entry in config.get("layers", []):
            class_name = entry.get("class_name")
            layer_cls = LAYER_CLASSES.get(class_name)
            if layer_cls is None:
                raise ValueError(
                    f"Unknown layer class {class_name!r}. glassnet knows: "
                    f"{', '.join(sorted(LAYER_CLASSES))}"
                )
            model.add(layer_cls.from_config(dict(entry.get("config") or {})))
        if model.input_shape is not None:
            model.build()
        return model

    def to_json(self, **kwargs) -> str:
        """The architecture as a Keras-compatible JSON string (see ``glassnet.saving``)."""
        return _file_hooks.call("model_to_json", self, **kwargs)

    # --- files --------------------------------------------------------------------------

    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Saves architecture, weights, compile settings and optimizer state.

        The format follows the extension, as in Keras: ``.keras`` (zip) or ``.h5`` (legacy
        HDF5). Files are written atomically: a crash never leaves a half-written file.
        """
        _file_hooks.call("save_model", self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Saves only the weights (``.weights.h5``)."""
        _file_hooks.call("save_weights", self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        """Loads weights saved by ``save_weights`` (or Keras's weights files)."""
        _file_hooks.call("load_weights", self, filepath)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._layers)} built={self.built}>"
