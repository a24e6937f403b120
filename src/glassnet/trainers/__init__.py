"""Training a model, the Keras workflow: ``compile``, ``fit``, ``evaluate``, ``predict``.

``Trainer`` (mixed into ``glassnet.models.Sequential``) is assembled from one file per job;
see ``glassnet.trainers.trainer``.
"""

from glassnet.trainers.trainer import Trainer

__all__ = ["Trainer"]
