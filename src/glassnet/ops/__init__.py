"""The recorded forward pass: ``Node``, ``Record`` and ``Tape`` (see ``glassnet.ops.tape``)."""

from glassnet.ops.node import Node, Record
from glassnet.ops.gradient_tape import GradientTape
from glassnet.ops.tape import Tape, active_tape, recording
from glassnet.ops.variable import Variable

__all__ = ["GradientTape", "Node", "Record", "Tape", "Variable", "active_tape", "recording"]
