"""Global settings: the float type new weights and data use, the fuzz factor epsilon, and
the image data format.

Mirrors ``keras.config`` (``keras/src/backend/config.py``): ``floatx()`` is ``"float32"``
unless changed with ``set_floatx``; ``float64`` works end to end (weights, data, training).
The slope checks in the tests switch to ``"float64"`` so that finite differences are exact
enough to compare with. ``backend()`` is ``"numpy"``: glassnet computes with NumPy.
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_VALID_FLOATX = ("float16", "float32", "float64")
_IMAGE_DATA_FORMAT = "channels_last"


def compiled_kernels() -> bool:
    """Whether glassnet runs its compiled loops (the optional extra ``glassnet[fast]``,
    Numba) for a convolution and the max pooling after it; see ``glassnet._compiled``.
    On by default when Numba is installed, unless the environment sets
    ``GLASSNET_COMPILED=0``."""
    from glassnet import _compiled

    return _compiled.enabled()


def set_compiled_kernels(enabled: bool) -> None:
    """Turns the compiled loops on or off (on raises ``ImportError`` without Numba). The
    numbers are the NumPy path's either way, up to the last bits of each sum."""
    from glassnet import _compiled

    _compiled.set_enabled(enabled)


def floatx() -> str:
    """The default float type, as a string (``"float32"`` by default)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float type for new weights and converted data.

    Args:
        value: one of ``"float16"``, ``"float32"``, ``"float64"``.
    """
    global _FLOATX
    if value == "bfloat16":
        raise ValueError(
            "glassnet computes with NumPy, which has no bfloat16; use 'float16', "
            "'float32' or 'float64'"
        )
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of {set(_VALID_FLOATX)}")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor Keras uses to keep logarithms and divisions finite (1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor (Keras's ``keras.config.set_epsilon``)."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"`epsilon` must be a number. Received: {value!r}")
    _EPSILON = float(value)


def image_data_format() -> str:
    """``"channels_last"`` (the default) or ``"channels_first"``: where images keep their
    colour channels. ``cifar10.load_data()`` follows it."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Sets the image data format (``"channels_last"`` or ``"channels_first"``)."""
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = data_format


def backend() -> str:
    """The name of the computing backend: always ``"numpy"``."""
    return "numpy"


def float_dtype() -> np.dtype:
    """The NumPy dtype of ``floatx()``."""
    return np.dtype(_FLOATX)


# --- Logging, tracebacks, safety switches (keras/src/utils/io_utils.py, traceback_utils.py,
# saving/serialization_lib.py) ---------------------------------------------------------------

_INTERACTIVE_LOGGING = True
_TRACEBACK_FILTERING = True
_MAX_EPOCHS: int | None = None


def enable_interactive_logging() -> None:
    """Progress bars and messages go to standard output (the default)."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def disable_interactive_logging() -> None:
    """Progress lines go to Python's ``logging`` (logger ``"glassnet"``, level INFO) instead
    of standard output, as Keras sends them to absl's log; no live bar is drawn."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress output goes to standard output."""
    return _INTERACTIVE_LOGGING


def log_line(line: str) -> None:
    """One line of progress output for the ``"glassnet"`` logger (interactive logging off)."""
    import logging

    logging.getLogger("glassnet").info(line)


def enable_traceback_filtering() -> None:
    """Accepted for Keras's programs. glassnet's tracebacks are never filtered: its errors are
    raised where the mistake is found, so there are no backend frames to hide."""
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = True


def disable_traceback_filtering() -> None:
    """Accepted for Keras's programs; changes nothing (see ``enable_traceback_filtering``)."""
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = False


def is_traceback_filtering_enabled() -> bool:
    """The switch's state (True by default, as Keras's); glassnet filters nothing either way."""
    return _TRACEBACK_FILTERING


def enable_unsafe_deserialization() -> None:
    """Refused: glassnet has no unsafe mode. Keras's unsafe mode lets a model file run the
    Python code of a ``Lambda`` layer; glassnet never runs code from a file, so a model with
    such a layer must be rebuilt in Python and given its weights."""
    raise NotImplementedError(
        "glassnet has no unsafe deserialization: a model file never runs code. Rebuild "
        "a model with Lambda layers in Python and load its weights (model.load_weights)"
    )


def _check_cap(value, argument: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{argument}` must be a positive integer or None. Received: {value!r}")
    return int(value)


def set_max_epochs(max_epochs: int | None) -> None:
    """Caps the number of epochs every ``fit`` runs (None: no cap), as Keras's."""
    global _MAX_EPOCHS
    _MAX_EPOCHS = _check_cap(max_epochs, "max_epochs")


def max_epochs() -> int | None:
    """The cap ``set_max_epochs`` put on every ``fit``'s epochs, or None."""
    return _MAX_EPOCHS


# --- Dtype policies (keras/src/dtype_policies/dtype_policy.py) ------------------------------


class DTypePolicy:
    """A layer's float type, as Keras's ``DTypePolicy``: glassnet computes and stores
    weights in one float type, so ``compute_dtype`` and ``variable_dtype`` are the same.
    Only ``"float32"`` and ``"float64"`` (and ``"float16"``) are accepted; the mixed
    policies (``"mixed_float16"``...) and quantized ones are refused.

    Args:
        name: the float type's name; None means ``floatx()``.
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = floatx()
        name = getattr(name, "name", name)
        if name not in _VALID_FLOATX:
            raise ValueError(
                f"glassnet's dtype policies are {_VALID_FLOATX} (one float type for weights "
                f"and computation; no mixed or quantized policy). Received: name={name!r}"
            )
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._name

    @property
    def variable_dtype(self) -> str:
        return self._name

    @property
    def quantization_mode(self) -> None:
        return None

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy


def set_dtype_policy(policy) -> None:
    """Sets the float type of new layers and weights: a name or a ``DTypePolicy``. In
    glassnet this is ``set_floatx`` (one float type everywhere), so ``floatx()`` changes too;
    in Keras the two settings are kept apart."""
    if not isinstance(policy, DTypePolicy):
        policy = DTypePolicy(policy)
    set_floatx(policy.name)


def dtype_policy() -> DTypePolicy:
    """The global dtype policy: that of ``floatx()``."""
    return DTypePolicy(floatx())
