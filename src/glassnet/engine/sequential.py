"""``Sequential``: a stack of layers, each feeding the next.

The model owns the storage of its weights (``glassnet.layers.storage``): when it is built,
every layer's trainable weights become views into one flat ``parameters`` array, and their
gradients views into one flat ``gradients`` array. Training (``glassnet.trainers``)
then runs forward through the layers, backward in reverse, and one optimizer update on the
flat arrays.

A model can be a layer of a ``Sequential`` (Keras's image tutorials put a ``Sequential`` of
augmentation layers in front of the convolutions). ``layers``, ``summary()`` and the saved
config show it as one layer, as Keras 3 does; its layers' weights live in the outer model's
storage, and the nested model's own ``storage`` is a view of its part of it, so both models
see the same values. A pass opens nested ``Sequential`` models up: their layers become steps
of the outer ``Plan`` like the outer model's own, so a nested stack costs nothing over the
same layers written flat (and ``Dense`` chains and chunked convolution runs form across
its edges). A nested functional or subclassed model runs through a ``GraphPlan``.
"""

from __future__ import annotations

from glassnet import config as config_module
from glassnet.engine.functional import Functional, leaf_layers, share_storage
from glassnet.engine.functional_config import catalog_layer, is_program_model
from glassnet.engine.model import Model
from glassnet.engine.plan import Plan
from glassnet.layers import InputLayer, Layer
from glassnet.layers.base import normalize_shape
from glassnet.layers.masks import sequence_mask_routes
from glassnet.layers.storage import WeightStorage
from glassnet.layers.symbolic import KerasTensor
from glassnet.naming import unique_name
from glassnet.ops.tensor import plain
from glassnet.utils.custom_objects import get_registered_name


class Sequential(Model):
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

    _graph_from_arguments = False  # its arguments are layers, not a graph
    #: The name of the input layer, once it has one (see ``_name_inputs``).
    _input_name: str | None = None

    def __init__(self, layers=None, name: str | None = None, trainable: bool = True) -> None:
        super().__init__(name=name)  # "sequential", "sequential_1"... as Keras names them
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
        self._name_inputs_if_keras_builds()

    # --- the stack ----------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the input layer (as in Keras 3)."""
        return list(self._layers)

    def add(self, layer: Layer | Model) -> None:
        """Appends a layer or a model; an ``InputLayer`` fixes the input shape instead.

        A model (``Sequential`` or functional) added first gives the outer model its input
        shape, when it knows its own, as in Keras.

        Raises:
            TypeError: when ``layer`` is neither a glassnet layer nor a glassnet model.
            ValueError: when a layer of the same name is already in the model, or a model
                with several inputs or outputs is added.
        """
        self._add(layer, check_name=True)
        self._name_inputs_if_keras_builds()

    def _add(self, layer: Layer, check_name: bool) -> None:
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer  # ``Sequential([Input(shape=...), ...])``
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError(
                    "An InputLayer can only be the first element of a Sequential model"
                )
            self.input_shape = layer.declared_input_shape
            self._input_layer = layer
            self._input_name = layer.name
            self._invalidate()
            return
        if not isinstance(layer, (Layer, Model)):
            raise TypeError(
                "Sequential.add expects a glassnet layer such as Dense(...). "
                f"Received: {layer!r} of type {type(layer).__name__}"
            )
        if layer is self:
            raise ValueError(f"Model {self.name!r} cannot be a layer of itself")
        if isinstance(layer, Model):
            _check_single_tensor(layer)
        if check_name and any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"The model already has a layer named {layer.name!r}; names must be unique"
            )
        declared = layer.input_shape if isinstance(layer, Model) else layer.declared_input_shape
        if not self._layers and self.input_shape is None and declared is not None:
            self.input_shape = tuple(declared)
        if not self._layers and isinstance(layer, Layer) and layer.declared_input_shape is not None:
            # Keras makes the input layer of a first layer's ``input_shape`` here.
            self._name_input()
        self._layers.append(layer)
        self._invalidate()

    def pop(self) -> Layer:
        """Removes and returns the last layer."""
        if not self._layers:
            raise ValueError("There are no layers in the model to pop")
        layer = self._layers.pop()
        self._invalidate()
        self._name_inputs_if_keras_builds()
        return layer

    # --- the input layer's name, given when Keras 3 makes the input layer ------------------

    def _name_input(self) -> None:
        """Gives the input layer its automatic name (``input_layer``, ``input_layer_1``...,
        one counter with ``Input``) unless it has one."""
        if self._input_name is None:
            self._input_name = unique_name("input_layer")

    def _name_inputs(self) -> None:
        """Names the input layer, then those of the nested ``Sequential`` models Keras would
        build with this model, depth first: Keras 3 makes a ``Sequential``'s input layer when
        it builds it, and building calls every layer, which builds a nested model not built
        yet (``keras/src/models/sequential.py``, ``build``). glassnet builds later, when it
        needs to; the names follow Keras's order all the same."""
        self._name_input()
        for layer in self._layers:
            if isinstance(layer, Sequential) and not layer._keras_built():
                layer._name_inputs()

    def _keras_built(self) -> bool:
        """Whether Keras 3 has built this model by now: it has an input layer and a layer."""
        return self._input_name is not None and bool(self._layers)

    def _name_inputs_if_keras_builds(self) -> None:
        """After ``add``, ``pop`` and the constructor, Keras 3 builds the model when it has an
        input layer and a layer, or when its first layer is a model that knows its input
        shape and another layer follows (``Sequential._maybe_rebuild``): the input layers
        Keras makes then are named now."""
        if not self._layers:
            return
        first = self._layers[0]
        knows_shape = isinstance(first, Functional) or (
            isinstance(first, Sequential) and first._keras_built())
        if self._input_name is not None or (knows_shape and len(self._layers) > 1):
            self._name_inputs()

    def _has_models(self) -> bool:
        return any(isinstance(layer, Model) for layer in self._layers)

    def _weight_layers(self) -> list:
        """The layers whose weights live in the model's storage, in storage order: the
        layers, nested models opened up, with those that layers written as ``call`` hold
        (their weights train with the model's)."""
        if not any(isinstance(layer, Model) or layer._is_call_based() for layer in self._layers):
            return self._layers
        return leaf_layers(self._layers)

    def _run_layers(self) -> list:
        """The layers a pass runs one after another: nested ``Sequential`` models opened
        up (recursively); any other nested model stays one item."""
        run: list = []
        for layer in self._layers:
            if isinstance(layer, Sequential):
                run += layer._run_layers()
            else:
                run.append(layer)
        return run

    @property
    def layers_in_order(self) -> list:
        """The leaf layers in the order a pass runs them (nested models opened up)."""
        return [leaf for layer in self._run_layers()
                for leaf in (leaf_layers([layer]) if isinstance(layer, Model) else [layer])]

    def _make_plan(self):
        """A ``Plan`` of the layers, nested ``Sequential`` models opened up into its steps;
        a ``GraphPlan`` (one tape per pass) when a functional or subclassed model is among
        them."""
        run = self._run_layers()
        if any(isinstance(layer, Model) for layer in run):
            from glassnet.engine.graph_plan import GraphPlan

            return GraphPlan(self, layers=self._weight_layers())
        return Plan(run, self.storage)

    def _forward_on_tape(self, x, training: bool, tape):
        from glassnet.engine.graph_plan import GraphPlan

        if isinstance(self.plan, GraphPlan):
            return self._run_inline(x, training)
        return super()._forward_on_tape(x, training, tape)

    def _storage_changed(self) -> None:
        """Points every nested model at its span of the new storage."""
        if self._has_models():
            share_storage(self._layers, self.storage, self)

    def _trainable_children(self) -> list:
        return list(self.__dict__.get("_layers", []))

    def _run_inline(self, x, training: bool = False):
        """Runs the layers one by one with the caller's tape active (the model inside
        another model, whose storage holds these layers' weights)."""
        run = self._run_layers()  # nested Sequential models opened up, as a Plan runs them
        routes = sequence_mask_routes(run)
        inputs: list = []
        for index, layer in enumerate(run):
            inputs.append(x)
            if isinstance(layer, Model):
                x = layer._run_inline(x, training)
            elif index in routes:  # a layer reading a mask (glassnet.layers.masks)
                source = routes[index]
                mask = source.layer.compute_mask(plain(inputs[source.where]))
                x = layer(x, training=training, mask=mask)
            else:
                x = layer(x, training=training)
        return x

    def _invalidate(self) -> None:
        if self.built:
            # Keep current values: layers hold their views, which the next build copies.
            for layer in self._weight_layers():
                layer.values = {k: v.copy() for k, v in layer.values.items()}
            # A nested model viewed this model's storage: it gets storage of its own back.
            for layer in self._layers:
                if isinstance(layer, Model) and layer.built and layer.storage is not None:
                    layer.storage = WeightStorage(layer._weight_layers(), layer.storage.dtype,
                                                  layer.trainable)
                    layer._storage_changed()
                    layer._plan_cache = (None, None)
                    layer.optimizer_needs_build = True
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
        self._name_inputs()
        sequence_mask_routes(self._run_layers())  # refuses masks glassnet cannot follow
        shape = self.input_shape
        for layer in self._layers:
            shape = layer.plan_as_layer(shape) if isinstance(layer, Model) else layer.plan(shape)
        self.storage = WeightStorage(self._weight_layers(), config_module.floatx(),
                                     self.trainable)
        self.output_shape = shape
        self.built = True
        self.optimizer_needs_build = True
        self._storage_changed()

    def _ensure_built(self, x_shape: tuple[int, ...] | None = None) -> None:
        if not self.built:
            self.build(x_shape if self.input_shape is None else None)

    # --- description --------------------------------------------------------------------

    def get_config(self) -> dict:
        """The model's architecture: its name and each layer's class and config, after an
        ``InputLayer`` entry once the model has its input layer (as Keras 3 writes one once
        it made it, see ``_name_inputs``)."""
        layers = []
        if self.input_shape is not None and self._input_name is not None:
            layers.append(
                {
                    "class_name": "InputLayer",
                    "config": {"batch_shape": (None, *self.input_shape), "name": self._input_name},
                }
            )
        for layer in self._layers:
            entry = {"class_name": _class_name(layer), "config": layer.get_config()}
            if is_program_model(layer):  # found again by the name it was registered under
                entry["registered_name"] = get_registered_name(type(layer))
            if isinstance(layer, Model) and layer.input_shape is not None:
                entry["build_config"] = {"input_shape": (None, *layer.input_shape)}
            layers.append(entry)
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        """Rebuilds a model (with fresh weights) from ``get_config()``'s dict.

        Accepted are glassnet's own layer classes, ``Sequential`` and ``Functional`` for a
        nested model, and a nested model of a class the program registered
        (``register_keras_serializable``) or passes in ``custom_objects``, found by its
        registered name as Keras 3 finds it; nothing named in the config is imported or
        executed. The config's ``trainable`` is not read, as Keras 3's
        ``Sequential.from_config`` does not read it (``keras/src/models/sequential.py``):
        the model trains by its layers' own flags, which the config holds.

        Raises:
            ValueError: naming a class that is none of these.
            TypeError: naming a program's class whose ``from_config`` refuses its config.
        """
        model = cls(name=config.get("name"))
        for entry in config.get("layers", []):
            model.add(catalog_layer(entry, custom_objects))
        if model.input_shape is not None:
            model.build()
        return model

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._layers)} built={self.built}>"


def _class_name(layer) -> str:
    """The class name a config gives ``layer``: a functional model is ``"Functional"``
    whatever subclass of ``Model`` made it, as Keras writes it."""
    if isinstance(layer, Functional):
        return "Functional"
    return type(layer).__name__


def _check_single_tensor(model: Model) -> None:
    """Refuses a model with several inputs or outputs as a layer of a ``Sequential``.

    Raises:
        ValueError: naming the model.
    """
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if (inputs is not None and len(inputs) != 1) or (outputs is not None and len(outputs) != 1):
        raise ValueError(
            f"Model {model.name!r} has {len(inputs or [])} inputs and {len(outputs or [])} "
            "outputs; a layer of a Sequential model takes one input and gives one output"
        )
