"""Callbacks, as in ``keras.callbacks``: hooks into the training loop."""

from glassnet.callbacks.base import Callback, CallbackError, CallbackList
from glassnet.callbacks.checkpoint import ModelCheckpoint
from glassnet.callbacks.diagnostics import Diagnostics
from glassnet.callbacks.early_stopping import EarlyStopping
from glassnet.callbacks.history import History
from glassnet.callbacks.lambda_callback import LambdaCallback
from glassnet.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from glassnet.callbacks.logging import CSVLogger, TerminateOnNaN
from glassnet.callbacks.progress import ProgbarLogger

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackError",
    "CallbackList",
    "Diagnostics",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
