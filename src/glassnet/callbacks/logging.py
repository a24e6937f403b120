"""``CSVLogger`` and ``TerminateOnNaN``: record epochs to a file; stop on an invalid loss."""

from __future__ import annotations

import csv
import os

from glassnet.trainers.callbacks import Callback


class CSVLogger(Callback):
    """Writes one row per epoch (``epoch`` then the log keys, sorted) to a CSV file.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (without repeating the header) instead of replacing it.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        has_rows = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._header_written = has_rows
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(
                self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        """Closes the file (called by ``fit`` even when training ends in an error)."""
        if self._file is not None:
            self._file.close()
            self._file = None
