"""How models run: ``Sequential`` (the Keras workflow comes from ``glassnet.trainers``), the
``Plan`` every pass goes through, ``DenseChain`` for runs of ``Dense`` layers, and the
summary table. Users reach ``Sequential`` through ``glassnet.models``, the namespace that
also holds ``load_model``.
"""

from glassnet.engine.sequential import Sequential

__all__ = ["Sequential"]
