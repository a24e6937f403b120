"""``Bidirectional``: one recurrent layer reads the sequence forward, a copy reads it
backward, and their outputs are merged (``keras/src/layers/rnn/bidirectional.py``).

The wrapper holds the two layers' weights in its own storage (forward layer's first, as
Keras orders them) and hands each layer views of its share, so a model, an optimizer and a
file see one layer with six weights. With ``return_sequences`` the backward layer's output
is flipped back to the input's order before merging, so step ``t`` of the output joins what
both directions computed at step ``t``.

A mask (``forward(x, training, mask)``) goes to both layers unchanged, as Keras hands it
(``Bidirectional.call``); the backward layer reads it in its own, reversed, order. Both
layers then output zeros on masked steps with ``return_sequences`` (Keras sets their
``zero_output_for_mask``).
"""

from __future__ import annotations

import numpy as np

from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import key
from glassnet.layers.recurrent import RECURRENT_CLASSES, RNNLayer, call_with_mask

MERGE_MODES = ("concat", "sum", "mul", "ave")
_SIDES = ("forward", "backward")


def _serialize(layer: Layer) -> dict:
    return {
        "module": "keras.layers",
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": None,
    }


def _deserialize(value):
    """A recurrent layer from its serialized dict (a layer instance is kept)."""
    if isinstance(value, dict):
        cls = RECURRENT_CLASSES.get(value.get("class_name"))
        if cls is None:
            raise ValueError(
                f"Bidirectional wraps SimpleRNN, LSTM or GRU in glassnet; received a "
                f"{value.get('class_name')!r}"
            )
        return cls.from_config(dict(value.get("config") or {}))
    return value


def _renamed(layer: RNNLayer, prefix: str, **changes) -> RNNLayer:
    """A new layer from ``layer``'s config, named ``<prefix>_<name>`` (Keras recreates the
    wrapped layer so that it carries nothing over)."""
    config = layer.get_config()
    config.pop("batch_input_shape", None)
    name = layer.name.removeprefix(f"{prefix}_")
    config.update(name=f"{prefix}_{name}", **changes)
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence in both directions and merges the outputs.

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU``; a fresh copy of it reads forward.
        merge_mode: ``"concat"`` (default: ``2 * units`` outputs), ``"sum"``, ``"mul"`` or
            ``"ave"``. ``None`` (two separate outputs) is not supported.
        backward_layer: the layer reading backward (``go_backwards=True``); by default a
            copy of ``layer`` with ``go_backwards=True``.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import LSTM, Bidirectional
        >>> Bidirectional(LSTM(4))(np.zeros((2, 5, 3))).shape
        (2, 8)
    """

    skips_masked_steps = True
    config_keys = (
        key("merge_mode", "choice", "concat", allowed=MERGE_MODES),
        key("layer", "recurrent_layer"),
        key("backward_layer", "recurrent_layer"),
    )

    def __init__(self, layer, merge_mode: str | None = "concat", weights=None,
                 backward_layer=None, **kwargs) -> None:
        # keras/src/layers/rnn/bidirectional.py, __init__, for the checks and their words
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a "
                f"`keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "`backward_layer` need to be a `keras.layers.Layer` "
                f"instance. Received: {backward_layer}"
            )
        if merge_mode not in ["sum", "mul", "ave", "concat", None]:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. "
                "Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        for given in (layer, backward_layer):
            if given is not None and not isinstance(given, RNNLayer):
                raise ValueError(
                    f"Bidirectional {self.name!r}: glassnet wraps SimpleRNN, LSTM or GRU; "
                    f"received a {type(given).__name__}"
                )
        if merge_mode is None:
            raise ValueError(
                f"Bidirectional {self.name!r}: merge_mode=None (two separate outputs) is not "
                "supported by glassnet; use 'concat', 'sum', 'mul' or 'ave'"
            )
        if weights is not None:
            raise NotImplementedError("Bidirectional(weights=...) is not supported; call "
                                      "set_weights after building")
        self.forward_layer = _renamed(layer, "forward")
        if backward_layer is None:
            self.backward_layer = _renamed(layer, "backward", go_backwards=True)
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        if self.declared_input_shape is None:  # LSTM(..., input_shape=...) wrapped first
            self.declared_input_shape = layer.declared_input_shape
        for inner in (self.forward_layer, self.backward_layer):
            inner.zero_output_for_mask = inner.return_sequences  # as Keras forces it
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = False
        self.stateful = False

    def _verify_layer_config(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different "
                "`go_backwards` value. Received: "
                "forward_layer.go_backwards "
                f"{forward.go_backwards}, "
                "backward_layer.go_backwards="
                f"{backward.go_backwards}"
            )
        for a in ("return_sequences", "return_state", "stateful"):
            forward_value, backward_value = getattr(forward, a), getattr(backward, a)
            if forward_value != backward_value:
                raise ValueError(
                    "Forward layer and backward layer are expected to have "
                    f'the same value for attribute "{a}", got '
                    f'"{forward_value}" for forward layer and '
                    f'"{backward_value}" for backward layer'
                )

    def _sides(self):
        return zip(_SIDES, (self.forward_layer, self.backward_layer), strict=True)

    # --- shapes and weights -------------------------------------------------------------

    def build(self, input_shape) -> None:
        """As ``LSTM.build``: ``(batch, timesteps, features)`` or ``(timesteps, features)``."""
        shape = tuple(input_shape)
        super().build(shape[1:] if len(shape) == 3 else shape)

    def compute_output_shape(self, input_shape):
        forward = self.forward_layer.compute_output_shape(input_shape)
        backward = self.backward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return (*forward[:-1], forward[-1] + backward[-1])
        return forward

    def weight_specs(self, input_shape):
        specs = []
        for side, inner in self._sides():
            inner.plan(input_shape)
            for spec in inner.specs:
                specs.append(WeightSpec(f"{side}_{spec.name}", spec.shape, spec.initializer,
                                        spec.trainable, spec.regularizer))
                constraint = getattr(inner, f"{spec.name}_constraint", None)
                setattr(self, f"{side}_{spec.name}_constraint", constraint)
        return specs

    def bind(self, values, grads) -> None:
        super().bind(values, grads)
        for side, inner in self._sides():
            prefix = f"{side}_"
            inner.trainable = self.trainable
            inner.bind({k.removeprefix(prefix): v for k, v in values.items()
                        if k.startswith(prefix)},
                       {k.removeprefix(prefix): v for k, v in grads.items()
                        if k.startswith(prefix)})

    def variable_groups(self) -> list[tuple[str, int]]:
        """Keras 3's file layout: the wrapper's ``vars`` (none), then each layer's groups
        under ``forward_layer``/``backward_layer``."""
        groups = [("vars", 0)]
        for side, inner in self._sides():
            groups += [(f"{side}_layer/{path}", count) for path, count in inner.variable_groups()]
        return groups

    # --- forward and backward -----------------------------------------------------------

    def forward(self, x, training=False, mask=None):
        y, forward_record = self.forward_layer.forward(x, training, mask)
        y_rev, backward_record = self.backward_layer.forward(x, training, mask)
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            out = np.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2
        else:
            out = y * y_rev
        return out, (forward_record, backward_record, y, y_rev)

    def backward(self, records, grad_out, need_grad_input=True):
        forward_record, backward_record, y, y_rev = records
        if self.merge_mode == "concat":
            units = y.shape[-1]
            d_y, d_rev = grad_out[..., :units], grad_out[..., units:]
        elif self.merge_mode == "sum":
            d_y = d_rev = grad_out
        elif self.merge_mode == "ave":
            d_y = d_rev = grad_out / 2
        else:
            d_y, d_rev = grad_out * y_rev, grad_out * y
        if self.return_sequences:
            d_rev = d_rev[:, ::-1]
        d_x = self.forward_layer.backward(forward_record, np.ascontiguousarray(d_y),
                                          need_grad_input)
        d_back = self.backward_layer.backward(backward_record, np.ascontiguousarray(d_rev),
                                              need_grad_input)
        return d_x + d_back if need_grad_input else None

    def __call__(self, inputs, training: bool = False, **kwargs):
        if kwargs.get("initial_state") is not None:
            raise ValueError(
                f"Bidirectional {self.name!r}: `initial_state=` is not supported by glassnet"
            )
        kwargs.pop("initial_state", None)
        return call_with_mask(self, inputs, training, kwargs)

    # --- configuration ------------------------------------------------------------------

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": _serialize(self.forward_layer),
            "backward_layer": _serialize(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict) -> Bidirectional:
        config = dict(config)
        config["layer"] = _deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"])
        return cls(**config)
