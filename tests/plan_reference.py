"""Checks a model's fast plan against every layer's own ``forward``/``backward``.

``Plan(layers, storage, chains=False)`` runs each layer on the whole batch, one after
another: the plain reference that fused and chunked steps (Dense chains, chunked image
runs, a convolution with its pooling) are compared with. Outputs and records agree to
float64 rounding; weight slopes are sums over rows that a fast step may add in another
order, so they agree to a slightly looser tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.engine.plan import Plan
from glassnet.explain import last_pass

RECORD_FIELDS = ("x", "z", "a", "grad_a", "grad_z")


def records_by_layer(model, fields=RECORD_FIELDS) -> list:
    """``(layer name, output, {field: copy or None})`` for every layer of the last pass."""
    taken = []
    for lp in last_pass(model).layers:
        values = {}
        if lp.record is not None and not isinstance(lp.record, tuple):
            for name in fields:
                value = getattr(lp.record, name, None)
                values[name] = None if value is None else np.array(value)
        taken.append((lp.layer.name, np.array(lp.output), values))
    return taken


def check_against_layer_by_layer(model, x, y, fields=RECORD_FIELDS) -> None:
    """Loss, weight slopes, outputs and records of ``model``'s plan equal the reference's
    (the model is left on the reference plan)."""
    loss, grads = model.compute_gradients(x, y)
    fast = records_by_layer(model, fields)
    model._plan_cache = (model.storage, Plan(model.layers, model.storage, chains=False))
    loss_ref, grads_ref = model.compute_gradients(x, y)
    ref = records_by_layer(model, fields)
    assert loss == pytest.approx(loss_ref, rel=1e-12)
    for got, want in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert [name for name, *_ in fast] == [name for name, *_ in ref]
    for (name, out, rec), (_, out_ref, rec_ref) in zip(fast, ref, strict=True):
        np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-14, err_msg=name)
        assert rec.keys() == rec_ref.keys(), name
        for field, value in rec_ref.items():
            if value is None:
                assert rec[field] is None, (name, field)
            else:
                np.testing.assert_allclose(rec[field], value, rtol=1e-10, atol=1e-13,
                                           err_msg=f"{name}.{field}")
