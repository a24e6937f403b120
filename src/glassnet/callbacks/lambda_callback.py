"""``LambdaCallback``: a callback made of plain functions."""

from __future__ import annotations

from glassnet.trainers.callbacks import Callback

_HOOKS = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_begin",
    "on_train_end",
    "on_train_batch_begin",
    "on_train_batch_end",
)


class LambdaCallback(Callback):
    """Calls the functions you pass at the matching moments of training.

    Args:
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_train_begin, on_train_end: ``f(logs)``.
        on_train_batch_begin, on_train_batch_end: ``f(batch, logs)``.

    Example:
        >>> from glassnet.callbacks import LambdaCallback
        >>> losses = []
        >>> keep = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ) -> None:
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        unknown = set(hooks) - set(_HOOKS)
        if unknown:
            raise TypeError(
                f"LambdaCallback got unknown hook(s) {sorted(unknown)}; "
                f"valid hooks: {', '.join(_HOOKS)}"
            )
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
