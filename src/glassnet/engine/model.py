"""``Model``: what every glassnet model has, whichever way it was built.

Keras 3 builds a model three ways, and so does glassnet: ``Sequential`` (a stack of layers,
``glassnet.engine.sequential``), the functional API (``Model(inputs, outputs)``,
``glassnet.engine.functional``) and subclassing (``class MyModel(Model)`` with ``call``,
``glassnet.engine.subclassed``). ``Model(inputs=..., outputs=...)`` returns a
``Functional``, as in Keras. All of them own their layers' weights in one
``WeightStorage``, run through a plan that records one tape, and train with ``Trainer``.

A model can also be used as a layer of another model: it then follows the layer protocol
(``forward``/``backward`` on its layers one by one, ``specs`` empty, since its layers' weights
move into the outer model's storage).
"""

from __future__ import annotations

import numpy as np

from glassnet import _file_hooks
from glassnet import config as config_module
from glassnet.engine.summary import summary_text
from glassnet.layers import symbolic
from glassnet.layers.base import Layer, call_with_training, held_instances, normalize_shape
from glassnet.layers.storage import WeightStorage
from glassnet.naming import to_snake_case, unique_name
from glassnet.ops.tape import active_tape
from glassnet.ops.tensor import as_tensor, plain
from glassnet.trainers import Trainer

_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type, functional: type) -> type:
    """``cls`` with ``Functional``'s graph behind it (made once per class)."""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, functional), {"__module__": cls.__module__,
                                                      "__qualname__": cls.__qualname__})
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


def _functional_arguments(args: tuple, kwargs: dict) -> bool:
    """Whether a model's arguments are a graph's inputs and outputs, by Keras 3's rule
    (``keras/src/models/model.py``, ``functional_init_arguments``): two positional
    arguments, or one with ``outputs=``, or ``inputs=`` and ``outputs=``. A subclass made
    with one argument of its own (``Block(4)``) is a subclassed model."""
    return (
        len(args) == 2
        or (len(args) == 1 and "outputs" in kwargs)
        or ("inputs" in kwargs and "outputs" in kwargs)
    )


def tracked_layers(owner) -> list:
    """The layers and models held in ``owner``'s attributes, directly or in lists, tuples
    and dicts, in assignment order, each once."""
    return held_instances(owner, (Layer, Model), INTERNAL_ATTRIBUTES)


#: Attributes of models and layers that are not the user's layers.
INTERNAL_ATTRIBUTES = frozenset(
    {"_layers", "_graph_layers", "_input_layers", "_input_layer", "_plan_cache", "inbound_nodes",
     "_inbound_nodes", "optimizer", "loss", "history", "metrics", "_nodes", "_ordered_layers"}
)


class Model(Trainer):
    """Base class of glassnet's models; ``Model(inputs, outputs)`` builds a functional model
    and a subclass with ``call`` is a subclassed model (``glassnet.engine.subclassed``)."""

    def __new__(cls, *args, **kwargs):
        if _functional_arguments(args, kwargs) and cls._graph_from_arguments:
            from glassnet.engine.functional import Functional

            if cls is Model:
                return object.__new__(Functional)
            # A subclass (with its own train_step, say) built as Model(inputs, outputs) is a
            # functional model of that subclass, as in Keras.
            return object.__new__(_functional_subclass(cls, Functional))
        return object.__new__(cls)

    #: Whether ``cls(inputs, outputs)`` makes a functional model of this class (``Model``
    #: and the user's subclasses; ``Sequential`` and ``Functional`` take their own arguments).
    _graph_from_arguments = True

    def __init__(self, *args, name: str | None = None, trainable: bool = True, **kwargs) -> None:
        """Starts a subclassed model (``super().__init__()`` in a subclass's ``__init__``);
        its layers are the ones its attributes hold, built on the first call."""
        if args:
            raise TypeError(
                f"{type(self).__name__}() takes keyword arguments only (name=, trainable=); "
                f"received {len(args)} positional argument(s)"
            )
        kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s): "
                f"{', '.join(sorted(kwargs))}"
            )
        Trainer.__init__(self)
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.trainable = trainable
        self._layers: list = []
        self.storage = None
        self.built = False
        self._plan_cache: tuple = (None, None)
        self.input_shape = None
        self.output_shape = None

    # --- a subclassed model: layers in attributes, ``call`` as the pass -------------------

    @property
    def layers(self) -> list:
        """The layers held in the model's attributes (lists and dicts included), in the
        order they were assigned, as Keras tracks them."""
        return tracked_layers(self)

    def get_layer(self, name: str | None = None, index: int | None = None):
        """A layer of ``layers`` by name or by index, as Keras 3's ``Model.get_layer``
        (``keras/src/models/model.py``): every model has it, a subclassed one included.

        Raises:
            ValueError: when both or neither are given, or no layer fits.
        """
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape=None) -> None:
        """Builds a subclassed model by calling it once on a row of zeros of
        ``input_shape``, then moves every layer's weights into the model's storage."""
        if getattr(type(self), "call", None) is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no call(); subclass Model and write call(inputs)"
            )
        if input_shape is None and self.built:
            return
        if input_shape is None:
            raise ValueError(
                f"Model {self.name!r} is built on its first call; give build() the input "
                "shape, e.g. model.build((None, 4))"
            )
        shape = tuple(input_shape)
        if shape and shape[0] is None:
            shape = shape[1:]
        probe = np.zeros((1, *shape), dtype=config_module.floatx())
        out = self._call_user(probe, False)
        self.input_shape = normalize_shape(shape)
        self.output_shape = tuple(np.shape(out)[1:])
        self._layers = self._built_leaves()
        if not self._layers:
            raise ValueError(
                f"Model {self.name!r} has no layers: create them as attributes in __init__ "
                "(self.dense = Dense(4)) and use them in call()"
            )
        self.storage = WeightStorage(self._layers, config_module.floatx(), self.trainable)
        self.built = True
        self.optimizer_needs_build = True

    def get_config(self) -> dict:
        """A subclassed model's config: its name and trainability (a subclass that takes
        other arguments writes them itself, as in Keras)."""
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """A model from its config: a functional config (with ``input_layers``) rebuilds the
        graph, anything else is passed to the class (``cls(**config)``), as Keras does."""
        if isinstance(config, dict) and "input_layers" in config and "layers" in config:
            from glassnet.engine.functional_config import catalog_layer, functional_from_config

            return functional_from_config(
                config, lambda entry: catalog_layer(entry, custom_objects))
        return cls(**config)

    def _built_leaves(self) -> list:
        """The built layers among those the attributes hold (a layer that ``call`` has
        not used yet is added once it is)."""
        from glassnet.engine.functional import leaf_layers

        return [
            layer for layer in leaf_layers(tracked_layers(self))
            if getattr(layer, "input_shape", None) is not None
        ]

    def _sync_layers(self) -> None:
        """After a pass of a subclassed model: when ``call`` built a layer the model had
        not used before, its weights join the model's storage (values kept)."""
        if getattr(type(self), "call", None) is None or not self.built:
            return
        current = self._built_leaves()
        if [id(layer) for layer in current] != [id(layer) for layer in self._layers]:
            self._layers = current
            self.storage = WeightStorage(current, self.storage.dtype, self.trainable)
            self._plan_cache = (None, None)
            self.optimizer_needs_build = True

    def _call_user(self, x, training: bool):
        return call_with_training(self, x, training)

    def _run_inline(self, x, training: bool = False):
        """Runs the model with the caller's tape active: every layer and op call inside
        leaves its node on it."""
        return self._call_user(x, training)

    def _weight_layers(self) -> list:
        """Every layer whose weights live in the model's storage, in storage order."""
        return self._layers

    def _storage_owner_model(self):
        """The model whose storage this one's weights live in, when it is a layer of
        another model (``share_storage``); ``None`` when it owns its storage."""
        ref = self.__dict__.get("_storage_owner")
        owner = ref() if ref is not None else None
        if owner is None or owner.storage is None or self.storage is None:
            return None
        if owner.storage.state is not self.storage.state:  # a view shares the owner's
            return None  # the owner has moved on (the model was taken out of it)
        return owner

    def _repack_storage(self) -> None:
        """Re-allocates weight storage so that ``trainable`` flags set since build apply; a
        model used as a layer of another has its owner re-pack the storage they share."""
        owner = self._storage_owner_model()
        if owner is not None:
            owner._repack_storage()
            return
        Trainer._repack_storage(self)

    def _storage_changed(self) -> None:
        """Called after the model's weights moved into a new ``storage`` (a functional model
        points the models nested in it at their part of it)."""

    def _make_plan(self):
        from glassnet.engine.graph_plan import GraphPlan

        return GraphPlan(self)

    def _forward_on_tape(self, x, training: bool, tape):
        return self._run_inline(x, training)

    # --- the layer protocol, for a model used inside another -----------------------------

    specs: list = []
    values: dict = {}
    grads: dict = {}
    declared_input_shape = None

    @property
    def inbound_nodes(self) -> list:
        nodes = self.__dict__.get("_inbound_nodes")
        if nodes is None:
            nodes = self.__dict__["_inbound_nodes"] = []
        return nodes

    def build_symbolic(self, shapes) -> None:
        if not self.built:
            self.build(shapes)
            return
        self._check_input_shape(shapes)

    def _check_input_shape(self, shapes) -> None:
        """Raises ``ValueError`` naming the model and both shapes when the model was built
        (or declared) for rows of another shape than ``shapes``."""
        if self.input_shape is not None and tuple(shapes) != tuple(self.input_shape):
            raise ValueError(
                f"Model {self.name!r} was built for input of shape "
                f"{symbolic.row_shapes_text(tuple(self.input_shape))} and cannot take input of "
                f"shape {symbolic.row_shapes_text(tuple(shapes))}"
            )

    def output_shape_for(self, shapes):
        return self.output_shape

    def plan_as_layer(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Plans the model's layers for use as a layer of another model (``Layer.plan``):
        builds it for rows of ``input_shape`` if it is not built; returns its output row
        shape.

        Raises:
            ValueError: when the model was built, or declared its input, for rows of
                another shape (naming the model and both shapes).
        """
        shape = tuple(input_shape)
        self._check_input_shape(shape)
        if not self.built:
            self.build((None, *shape))
        return tuple(self.output_shape)

    # --- freezing -----------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        """Whether the model's weights train; setting it sets every layer's ``trainable``
        (nested models' layers included), as Keras does. Like a layer's, it takes effect
        at the next ``compile``.

        While it is false the model trains nothing, a layer added later included (that
        layer keeps its own flag), as in Keras 3 (``keras/src/layers/layer.py``,
        ``trainable_weights``); an outer model holding it still trains such a layer."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self.__dict__["_trainable"] = value
        for layer in self._trainable_children():
            layer.trainable = value

    def _trainable_children(self) -> list:
        """The layers ``trainable`` is handed on to (none while the model is being made)."""
        if "_layers" not in self.__dict__:
            return []
        return tracked_layers(self)

    def regularization_penalty(self) -> float:
        return 0.0

    def add_regularization_gradients(self) -> None:
        return None

    @property
    def layers_in_order(self) -> list:
        """The leaf layers in the order a pass runs them."""
        return list(self._layers)

    # --- copies (pickle, copy.deepcopy) -------------------------------------------------

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_plan_cache"] = (None, None)  # scratch buffers, rebuilt on the next pass
        state.pop("_storage_owner", None)  # the outer model's copy points it again
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.storage is not None:
            # A copy holds each layer's weights apart from the flat arrays they were views
            # of; binding them to fresh storage makes the optimizer train the layers again.
            self.storage = WeightStorage(self._weight_layers(), self.storage.dtype, self.trainable)
            self._storage_changed()

    # --- weights ------------------------------------------------------------------------

    @property
    def weights(self) -> list[np.ndarray]:
        """Every weight array, layer by layer, in Keras's order (views, not copies)."""
        return [w for layer in self._weight_layers() for w in layer.weights]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The weights that train; none when the model's own ``trainable`` is false, whatever
        its layers say (Keras 3's ``Layer.trainable_weights``)."""
        if not self.trainable:
            return []
        return [w for layer in self._weight_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """The weights that do not train; every weight when the model's own ``trainable``
        is false."""
        if not self.trainable:
            return self.weights
        return [w for layer in self._weight_layers() for w in layer.non_trainable_weights]

    @property
    def weight_names(self) -> list[str]:
        """``"layer/weight"`` for each entry of ``weights``."""
        names = []
        for layer in self._weight_layers():
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
        return sum(layer.count_params() for layer in self._weight_layers())

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
    def plan(self):
        """How the model runs its layers (made again when the weights are re-allocated)."""
        storage, plan = self._plan_cache
        if storage is not self.storage or plan is None:
            self._require_built("plan")
            plan = self._make_plan()
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

    def __call__(self, inputs, training: bool = False, **kwargs):
        """The model's output for ``inputs`` (arrays), without batching; on symbolic tensors,
        the model used as a layer of a functional model.

        Inside a ``GradientTape`` the pass leaves its nodes on that tape (one per step of
        the plan: a run of ``Dense`` layers is one node).
        """
        if symbolic.is_symbolic(inputs):
            return symbolic.symbolic_call(self, inputs, {"training": training, **kwargs})
        tape = active_tape()
        x = self._prepare_call_input(inputs)
        if tape is None:  # the caller's own arrays, never the plan's buffers
            out = self.forward(x, training=training)
            if isinstance(out, list):
                return [as_tensor(np.array(o)) for o in out]
            return as_tensor(np.array(out))
        return self._forward_on_tape(x, training, tape)

    def _prepare_call_input(self, inputs):
        if (
            isinstance(inputs, np.ndarray)
            and inputs.dtype == config_module.floatx()
            and self.built
            and inputs.shape[1:] == tuple(self.input_shape)
        ):
            return inputs  # the very object: a tape links it to the node that made it
        return self._prepare_x(inputs)

    def _forward_on_tape(self, x, training: bool, tape):
        """Runs the plan's steps, one node each on ``tape``; a step already on it (the model
        called twice in one tape) runs layer by layer, since its buffers are in use."""
        plan = self.plan
        steps = plan.steps
        routes = getattr(plan, "mask_routes", {})  # recurrent steps reading a mask
        step_inputs: list = []
        on_tape = {id(node.op) for node in tape.nodes}
        for index, step in enumerate(steps):
            last = index == len(steps) - 1
            step_inputs.append(x)
            if id(step) in on_tape and hasattr(step, "layers"):
                for layer in step.layers:
                    x = layer(x, training=training)
                continue
            if index in routes:
                mask = plan.step_mask(routes[index], plain(step_inputs[routes[index]]))
                out, records = step.forward(plain(x), training, mask=mask)
            else:
                out, records = step.forward(plain(x), training)
            if last or out is x:
                out = out.copy()  # the caller's own array, not a buffer of the next pass
            out = as_tensor(out)
            tape.record(step, x, out, records)
            x = out
        return x

    def random_generators(self) -> dict[str, np.random.Generator]:
        """The generators whose state lets training resume exactly: ``"shuffle"`` (the
        epoch shuffler) and each layer's by name (layers that draw, such as Dropout,
        keep theirs in ``rng``)."""
        from glassnet.engine.functional import leaf_layers

        generators = {"shuffle": self._shuffle_rng}
        for layer in self.layers:
            # A nested model's layers draw in its passes: theirs are kept too.
            for leaf in leaf_layers([layer]) if isinstance(layer, Model) else [layer]:
                rng = getattr(leaf, "rng", None)
                if isinstance(rng, np.random.Generator):
                    generators[f"layer:{leaf.name}"] = rng
        return generators

    # --- description ---

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

