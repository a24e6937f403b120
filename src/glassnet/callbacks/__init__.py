"""Callbacks, as in ``keras.callbacks``: hooks into the training loop.

This namespace gathers callbacks from three levels of glassnet: the loop's own machinery
(``Callback``, ``CallbackList``, ``History``, ``ProgbarLogger``, ``TerminateOnNaN``, in
``glassnet.trainers``), the callbacks defined here (early stopping, checkpoints, backups,
TensorBoard, logging, learning-rate schedules), and the glass box's ``Diagnostics`` and
``LiveView`` (``glassnet.explain``; the live page's server is imported only when a page
starts). The training loop imports none of this package, so it can sit above them all.
"""

from glassnet.callbacks.backup import BackupAndRestore
from glassnet.callbacks.checkpoint import ModelCheckpoint
from glassnet.callbacks.early_stopping import EarlyStopping
from glassnet.callbacks.lambda_callback import LambdaCallback
from glassnet.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from glassnet.callbacks.logging import CSVLogger
from glassnet.callbacks.tensorboard import TensorBoard
from glassnet.explain.diagnostics_callback import Diagnostics
from glassnet.explain.live.callback import LiveView
from glassnet.trainers.callbacks import Callback, CallbackError, CallbackList, TerminateOnNaN
from glassnet.trainers.history import History
from glassnet.trainers.progress import ProgbarLogger

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackError",
    "CallbackList",
    "Diagnostics",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "LiveView",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
