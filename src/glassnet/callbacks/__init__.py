"""Callbacks, as in ``keras.callbacks``: hooks into the training loop."""

from glassnet.callbacks.base import Callback, CallbackError, CallbackList
from glassnet.callbacks.early_stopping import EarlyStopping
from glassnet.callbacks.history import History
from glassnet.callbacks.progress import ProgbarLogger

__all__ = [
    "Callback",
    "CallbackError",
    "CallbackList",
    "EarlyStopping",
    "History",
    "ProgbarLogger",
]
