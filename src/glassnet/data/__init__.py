"""Data larger than memory: ``read_csv`` and ``read_parquet`` stream ``(x, y)`` batches.

Each reader returns a ``Batches`` object: iterate it to get one epoch of float32
``(x, y)`` batches, read from disk a chunk at a time and shuffled within a bounded buffer;
iterate it again for the next epoch; ``len()`` is the number of batches per epoch::

    from glassnet.data import read_csv

    batches = read_csv("big.csv", target="price", batch_size=64, shuffle_buffer=10_000, seed=0)
    for epoch in range(5):
        for x_batch, y_batch in batches:
            model.train_on_batch(x_batch, y_batch)
"""

from glassnet.data._batches import Batches
from glassnet.data._csv_reader import read_csv
from glassnet.data._parquet_reader import read_parquet

__all__ = ["Batches", "read_csv", "read_parquet"]
