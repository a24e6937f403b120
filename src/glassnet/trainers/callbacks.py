"""``Callback``, the hooks the training loop calls, ``CallbackList`` which calls them, and
``TerminateOnNaN``, the one callback the loop asks about (it stops instead of raising).

The hook names and arguments are Keras's (``keras/src/callbacks/callback.py``): a callback
sees ``self.model`` and ``self.params`` and can end training by setting
``self.model.stop_training = True``. A callback that raises stops training with an error
that names the callback and the hook.
"""

from __future__ import annotations

import functools
import math

_BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class CallbackError(RuntimeError):
    """Raised when a callback's hook raises; names the callback and the hook."""


class CallbackArgumentError(ValueError):
    """A callback's own arguments cannot work with this model or its logs (an unknown
    monitor, say): it reaches the caller as the ``ValueError`` Keras raises, unwrapped."""


class Callback:
    """Base class: override the hooks you need.

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: ``{"epochs", "steps", "verbose"}`` of the current ``fit``.
    """

    def __init__(self) -> None:
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (a subclass method or an attribute)."""
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


class CallbackList:
    """Calls each hook on every callback, in order.

    Batch hooks are called only on callbacks that override them, so a training loop with
    only epoch-level callbacks pays nothing per batch (``wants_batch_hooks`` tells).
    """

    def __init__(self, callbacks, model, params: dict) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "Each callback must be a glassnet.callbacks.Callback. "
                    f"Received: {callback!r} of type {type(callback).__name__}"
                )
            callback.set_model(model)
            callback.set_params(params)
        self._batch = {
            hook: [c for c in self.callbacks if _overrides(c, hook)] for hook in _BATCH_HOOKS
        }

    def wants(self, hook: str) -> bool:
        """Whether any callback overrides a batch hook."""
        return bool(self._batch[hook])

    def close(self) -> None:
        """Releases what callbacks hold open (files), also when training ended in an error."""
        for callback in self.callbacks:
            close = getattr(callback, "close", None)
            if callable(close):
                close()

    def call(self, hook: str, *args) -> None:
        """Calls ``hook(*args)`` on every callback that has it."""
        targets = self._batch.get(hook, self.callbacks)
        for callback in targets:
            try:
                getattr(callback, hook)(*args)
            except (CallbackError, CallbackArgumentError, KeyboardInterrupt):
                raise
            except Exception as error:
                raise _raised(callback, hook, error) from error

    def caller(self, hook: str):
        """``call(hook, batch, logs)`` as one function, for the batch hook a loop calls
        after every batch: with one callback that has the hook (the usual case), one Python
        call less per batch. ``None`` when no callback has it. The callback's method is
        still looked up at each call, as ``call`` does."""
        targets = self._batch[hook]
        if not targets:
            return None
        if len(targets) > 1:
            return functools.partial(self.call, hook)
        callback = targets[0]

        def call_one(batch, logs) -> None:
            try:
                getattr(callback, hook)(batch, logs)
            except (CallbackError, CallbackArgumentError, KeyboardInterrupt):
                raise
            except Exception as error:
                raise _raised(callback, hook, error) from error

        return call_one


def _raised(callback, hook: str, error: Exception) -> CallbackError:
    """The error that names the callback and the hook that raised ``error``."""
    return CallbackError(
        f"Callback {type(callback).__name__} raised in {hook}: {type(error).__name__}: {error}"
    )


class TerminateOnNaN(Callback):
    """Stops training quietly when the loss becomes NaN or infinite.

    Without it, glassnet raises ``NonFiniteLossError`` naming the epoch, batch and layer.
    Either way the step that produced the invalid loss is not applied, so the weights stay
    those of the last good step. As Keras's (``keras/src/callbacks/terminate_on_nan.py``),
    the stop is graceful (``on_train_end`` runs) unless ``raise_error=True``, which raises a
    ``RuntimeError`` at once so that no callback's ``on_train_end`` cleans up (a
    ``BackupAndRestore`` keeps its backup).

    Args:
        raise_error: raise instead of stopping gracefully.
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            self.model.stop_training = True
