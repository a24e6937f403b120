"""``History``: the per-epoch logs that ``fit`` returns."""

from __future__ import annotations

from glassnet.trainers.callbacks import Callback


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]``, ``["val_loss"]``, ...

    ``fit`` returns one; ``history.epoch`` lists the epoch indices that ran.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"<History epochs={len(self.epoch)} keys=[{keys}]>"
