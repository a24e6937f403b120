"""The recorded forward pass: ``Node``, ``Record`` and ``Tape`` (see ``glassnet.ops.tape``)."""

from glassnet.ops.node import Node, Record
from glassnet.ops.tape import Tape, active_tape, recording

__all__ = ["Node", "Record", "Tape", "active_tape", "recording"]
