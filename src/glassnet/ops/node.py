"""What one step of a forward pass leaves behind.

A ``Node`` says which operation ran (``op``: a layer, a fused chain of ``Dense`` layers or a
loss), on what (``inputs``), what it gave (``output``) and what its backward needs
(``records``). A ``Record`` is what a layer of nodes keeps, in the course's words: the values
feeding in (``x``), each node's input (``z``) and output (``a``), and after backward the
slopes of the loss at each node's output (``grad_a``) and input (``grad_z``).
"""

from __future__ import annotations

from typing import Any


class Node:
    """One operation of a recorded pass.

    Nodes of a compiled model are slots made once and overwritten by every pass, so their
    arrays are the model's reused buffers: copy what you want to keep.
    """

    __slots__ = ("op", "inputs", "output", "records")

    def __init__(self, op: Any, inputs: Any = None, output: Any = None, records: Any = None):
        self.op = op
        self.inputs = inputs
        self.output = output
        self.records = records

    def __repr__(self) -> str:
        name = getattr(self.op, "name", type(self.op).__name__)
        shape = getattr(self.output, "shape", None)
        return f"<Node {name} output_shape={shape}>"


class Record:
    """The values of one layer of nodes for one batch (rows along the first axis).

    ``grad_a`` is ``None`` when a fused loss gave the slope at ``z`` directly, and both
    slopes are ``None`` until a backward pass has run.
    """

    __slots__ = ("x", "z", "a", "grad_a", "grad_z")

    def __init__(self, x=None, z=None, a=None, grad_a=None, grad_z=None) -> None:
        self.x = x
        self.z = z
        self.a = a
        self.grad_a = grad_a
        self.grad_z = grad_z

    def __repr__(self) -> str:
        shape = getattr(self.a if self.a is not None else self.z, "shape", None)
        return f"<Record shape={shape} backward={'yes' if self.grad_z is not None else 'no'}>"
