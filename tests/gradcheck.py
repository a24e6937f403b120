"""Central finite differences, the reference every analytic slope in glassnet is checked against.

For a smooth function ``f`` of an array ``x``, the slope along element ``i`` is approximated by
``(f(x + h e_i) - f(x - h e_i)) / (2 h)``, whose error is of order ``h**2``. In float64 with
``h = 1e-6`` that leaves agreement to about 1e-8 relative, far tighter than any real bug.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

STEP = 1e-6
RTOL = 1e-6
ATOL = 1e-8


def numerical_gradient(f: Callable[[], float], x: np.ndarray, step: float = STEP) -> np.ndarray:
    """The slope of the scalar ``f()`` with respect to every element of ``x``.

    ``x`` is perturbed in place (and restored), so it may be a view into a model's weights:
    ``f`` then sees the perturbed weight without any copying.
    """
    assert x.dtype == np.float64, "finite differences need float64"
    grad = np.zeros_like(x)
    flat_x = x.reshape(-1)
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + step
        up = f()
        flat_x[i] = original - step
        down = f()
        flat_x[i] = original
        flat_grad[i] = (up - down) / (2 * step)
    return grad


def assert_gradient_close(
    analytic, numeric, rtol: float = RTOL, atol: float = ATOL, objective_terms=None
) -> None:
    """Analytic and numerical slopes agree element by element.

    ``objective_terms`` are the terms the objective sums, if it sums large ones: each
    evaluation then carries a rounding error of about ``1e-16 * sum(|terms|)``, which the
    division by ``2 * STEP`` magnifies to about ``1e-10 * sum(|terms|)`` in every numerical
    slope. The absolute tolerance grows by ten times that floor, so that a small slope next
    to huge ones (``exp(7)`` beside ``exp(-7)``) is not judged below rounding.
    """
    if objective_terms is not None:
        atol += 1e-9 * float(np.abs(objective_terms).sum())
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


def away_from(values: np.ndarray, kinks, margin: float = 1e-3) -> np.ndarray:
    """``values`` nudged so that none lies within ``margin`` of a kink (where no slope exists)."""
    values = np.array(values, dtype=np.float64)
    for kink in kinks:
        close = np.abs(values - kink) < margin
        values[close] = kink + np.where(values[close] >= kink, margin, -margin)
    return values


def check_layer_slopes(layer, x, rng, training=False, penalty=False, forward=None) -> list[str]:
    """A layer's ``backward`` against central differences, for its input and every trainable
    weight, in float64.

    For a random slope ``grad_out`` arriving from above, ``backward`` must return the slope of
    ``sum(grad_out * output)`` with respect to ``x`` and write the slope with respect to each
    weight into the layer's gradient views (with ``penalty``, the regularization penalty's
    slope too). ``forward`` (default: the layer's own) returns ``(output, records)``.

    Returns the names of the weights checked (a layer without trainable weights has none).
    """
    forward = forward or (lambda: layer.forward(x, training=training))
    out, _ = forward()
    grad_out = rng.normal(size=out.shape)

    def objective():
        value = float(np.sum(grad_out * forward()[0]))
        return value + (layer.regularization_penalty() if penalty else 0.0)

    _, records = forward()
    grad_x = layer.backward(records, grad_out)
    if penalty:
        layer.add_regularization_gradients()
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    terms = grad_out * out
    assert grad_x.shape == x.shape
    assert_gradient_close(grad_x, numerical_gradient(objective, x), objective_terms=terms)
    for name, grad in analytic.items():
        numeric = numerical_gradient(objective, layer.values[name])
        assert_gradient_close(grad, numeric, objective_terms=terms)
    return sorted(analytic)
