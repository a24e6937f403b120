"""``TensorBoard``: write training curves, weight histograms and the model to event files.

The files are the ones TensorBoard reads (``tensorboard --logdir logs``), written by
tensorboardX, a writer that needs no TensorFlow (``pip install ".[tensorboard]"`` in
glassnet's clone).
What is written and where follows ``keras/src/callbacks/tensorboard.py``:

* ``log_dir/train`` and ``log_dir/validation``, one run each;
* ``epoch_<name>`` scalars at step ``epoch`` (from 0): the training logs and the learning
  rate in ``train``, the ``val_`` logs without their prefix in ``validation``, and there also
  ``evaluation_<name>_vs_iterations`` at the optimizer's step count;
* with ``update_freq=N`` (``"batch"`` is 1), ``batch_<name>`` scalars in ``train`` every N
  training batches, at the batch's number counted from 1 across the run;
* with ``histogram_freq=N``, a histogram of every weight every N epochs, tagged
  ``<model>/<layer>/<weight>/histogram`` (Keras's variable path);
* with ``write_graph``, the model's JSON under the tag ``keras`` with the plugin
  ``graph_keras_model``, which TensorBoard's Graphs tab draws as the conceptual graph. The op
  graph of a TensorFlow function has no counterpart in glassnet.
"""

from __future__ import annotations

import os

import numpy as np

from glassnet.trainers.callbacks import Callback


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The TensorBoard callback writes event files with tensorboardX. Install it with "
            'pip install tensorboardX (or, in glassnet\'s clone, pip install ".[tensorboard]")'
        ) from None
    return SummaryWriter


def _check_frequency(value, name: str, allow=()) -> None:
    if value in allow:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        words = " or ".join([*(repr(a) for a in allow), "a non-negative integer"])
        raise ValueError(f"`{name}` must be {words}. Received: {name}={value!r}")


class TensorBoard(Callback):
    """Logs what happens during ``fit`` for TensorBoard to show.

    Args:
        log_dir: the folder of the logs (``train`` and ``validation`` runs go under it).
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph: write the model's structure for the Graphs tab.
        write_images: not supported (weights as images): must be ``False``.
        write_steps_per_second: also log ``epoch_steps_per_second`` / ``batch_steps_per_second``.
        update_freq: ``"epoch"``, ``"batch"`` or N: also write ``batch_*`` scalars every N
            batches.
        profile_batch: must be 0: there is no profiler for NumPy (Keras's numpy backend
            refuses it too).
        embeddings_freq, embeddings_metadata: not supported: must be 0 and ``None``.

    Example:
        >>> import glassnet as keras
        >>> board = keras.callbacks.TensorBoard(log_dir="logs", histogram_freq=1)  # doctest: +SKIP
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq: int = 0,
        embeddings_metadata=None,
    ) -> None:
        super().__init__()
        _check_frequency(histogram_freq, "histogram_freq")
        _check_frequency(update_freq, "update_freq", allow=("epoch", "batch"))
        if update_freq == 0:
            raise ValueError("`update_freq` must be 'epoch', 'batch' or a positive integer")
        if profile_batch:
            raise ValueError(
                "Profiling is not available with glassnet (NumPy). Received: "
                f"profile_batch={profile_batch!r} (must be 0)"
            )
        if write_images:
            raise ValueError("write_images=True is not supported by glassnet's TensorBoard")
        if embeddings_freq or embeddings_metadata is not None:
            raise ValueError(
                "Embedding projector logs are not supported by glassnet's TensorBoard "
                "(embeddings_freq must be 0)"
            )
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = False
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = 0
        self.embeddings_metadata = None
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers: dict = {}
        self._global_train_batch = 0
        self._epoch_start_iterations = 0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0

    # --- writers ------------------------------------------------------------------------------

    def _writer(self, which: str):
        if which not in self._writers:
            folder = self._train_dir if which == "train" else self._val_dir
            self._writers[which] = self._writer_class(logdir=folder, flush_secs=10)
        return self._writers[which]

    def close(self) -> None:
        """Flushes and closes the event files (``fit`` calls it, also after an error)."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model) -> None:
        super().set_model(model)
        self._writers = {}
        if self.write_graph and getattr(model, "built", False):
            self._write_model_summary()

    def _write_model_summary(self) -> None:
        """The model's JSON as Keras's ``keras_model_summary`` writes it (tag ``keras``)."""
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

        try:
            text = self.model.to_json()
        except Exception as error:  # a model that cannot be described is still trained
            import warnings

            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {error}", stacklevel=2)
            return
        metadata = SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1")
        )
        tensor = TensorProto(
            dtype=7, string_val=[text.encode("utf-8")], tensor_shape=TensorShapeProto()
        )  # 7 is DT_STRING
        summary = Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        self._writer("train")._get_file_writer().add_summary(summary, 0)

    # --- hooks --------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self.close()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            import time

            self._epoch_start_iterations = int(self.model.optimizer.iterations)
            self._epoch_start_time = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            import time

            self._batch_start_time = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq != 0:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            import time

            elapsed = time.perf_counter() - self._batch_start_time
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-12), step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            import time

            elapsed = time.perf_counter() - self._epoch_start_time
            done = int(self.model.optimizer.iterations) - self._epoch_start_iterations
            train["steps_per_second"] = done / max(elapsed, 1e-12)
        writer = self._writer("train")
        for name, value in train.items():
            writer.add_scalar(f"epoch_{name}", float(value), epoch)
        if val:
            val_writer = self._writer("validation")
            iterations = int(optimizer.iterations) if optimizer is not None else epoch
            for name, value in val.items():
                val_writer.add_scalar(f"epoch_{name}", float(value), epoch)
                val_writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), iterations)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for w in self._writers.values():
            w.flush()

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        model = self.model
        for layer in model.layers:
            values = getattr(layer, "values", None) or {}
            for weight_name, value in values.items():
                tag = f"{model.name}/{layer.name}/{weight_name}/histogram".replace(":", "_")
                writer.add_histogram(tag, np.asarray(value, dtype=np.float64), epoch)
