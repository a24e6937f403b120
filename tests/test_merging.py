"""Merging layers (``keras/src/layers/merging/``, cases from ``merging_test.py``): values
computed by hand, Keras's shape rules, slopes of every input against central differences in
float64, configs, and the tape's backward through a merge.

The function forms (``add([a, b])``...) call the layer on a list, as ``Layer.__call__``
accepts."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from glassnet import layers
from glassnet.ops.tape import recording


def check_merge_slopes(layer, xs, rng):
    """``backward`` against the slope of ``sum(grad_out * output)`` for every input."""
    out, records = layer.forward(tuple(xs))
    grad_out = rng.normal(size=out.shape)
    slopes = layer.backward(records, grad_out)
    assert isinstance(slopes, tuple) and len(slopes) == len(xs)

    def objective():
        return float(np.sum(grad_out * layer.forward(tuple(xs))[0]))

    for x, slope in zip(xs, slopes, strict=True):
        assert slope.shape == x.shape
        assert_gradient_close(
            slope, numerical_gradient(objective, x), objective_terms=grad_out * out
        )


SLOPE_CASES = {
    "add": (layers.Add, [(2, 3, 4)] * 3),
    "add_broadcast": (layers.Add, [(2, 3, 4), (2, 4), (2, 1, 4)]),
    "subtract": (layers.Subtract, [(2, 3), (2, 3)]),
    "subtract_broadcast": (layers.Subtract, [(2, 3, 1), (2, 3)]),
    "multiply": (layers.Multiply, [(2, 3)] * 3),
    "multiply_broadcast": (layers.Multiply, [(2, 1, 3), (2, 4, 1)]),
    "average": (layers.Average, [(2, 3), (2, 3), (2, 1)]),
    "maximum": (layers.Maximum, [(2, 5)] * 3),
    "minimum": (layers.Minimum, [(2, 5), (2, 1, 5)]),
    "concatenate": (layers.Concatenate, [(2, 3), (2, 1), (2, 4)]),
    "concatenate_axis1": (lambda: layers.Concatenate(axis=1), [(2, 2, 3), (2, 1, 3)]),
    "dot": (lambda: layers.Dot(axes=1), [(3, 4), (3, 4)]),
    "dot_normalize": (lambda: layers.Dot(axes=-1, normalize=True), [(3, 4), (3, 4)]),
    "dot_higher": (lambda: layers.Dot(axes=(-2, -1)), [(2, 3, 2), (2, 1, 2, 3)]),
    "dot_matrix": (lambda: layers.Dot(axes=(2, 1)), [(2, 3, 4), (2, 4, 5)]),
    "dot_2d_3d": (lambda: layers.Dot(axes=(1, 2)), [(2, 4), (2, 3, 4)]),
}


@pytest.mark.parametrize("case", sorted(SLOPE_CASES))
def test_slopes_of_every_input_match_finite_differences(case, rng, float64):
    make, shapes = SLOPE_CASES[case]
    layer = make()
    layer.build([(None, *s[1:]) for s in shapes])
    xs = [rng.normal(size=s) for s in shapes]
    if case in ("maximum", "minimum"):  # keep the inputs apart, where a slope exists
        xs = [x + 3 * i for i, x in enumerate(xs)]
        xs[0][0, :2] += 10  # the first input wins some places
    check_merge_slopes(layer, xs, rng)
    assert layer.output_shape == layer.forward(tuple(xs))[0].shape[1:]


def test_ties_send_the_slope_to_the_first_input():
    a, b = np.array([[1.0, 2.0]]), np.array([[1.0, 3.0]])
    for cls in (layers.Maximum, layers.Minimum):
        layer = cls()
        out, records = layer.forward((a, b))
        ga, gb = layer.backward(records, np.ones((1, 2)))
        assert ga[0, 0] == 1 and gb[0, 0] == 0


def test_values_computed_by_hand():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[10.0, 20.0], [30.0, 40.0]])
    assert layers.Add().forward((a, b))[0].tolist() == [[11, 22], [33, 44]]
    assert layers.Subtract().forward((b, a))[0].tolist() == [[9, 18], [27, 36]]
    assert layers.Multiply().forward((a, b))[0].tolist() == [[10, 40], [90, 160]]
    assert layers.Average().forward((a, b))[0].tolist() == [[5.5, 11], [16.5, 22]]
    assert layers.Maximum().forward((a, b[:, ::-1] / 10))[0].tolist() == [[2, 2], [4, 4]]
    assert layers.Minimum().forward((a, b[:, ::-1] / 10))[0].tolist() == [[1, 1], [3, 3]]
    assert layers.Concatenate().forward((a, b))[0].tolist() == [[1, 2, 10, 20], [3, 4, 30, 40]]
    assert layers.Concatenate(axis=0 + 1).forward((a[:, None], b[:, None]))[0].shape == (2, 2, 2)
    assert layers.Dot(axes=1).forward((a, b))[0].tolist() == [[50], [250]]
    cosine = layers.Dot(axes=1, normalize=True).forward((a, a))[0]
    np.testing.assert_allclose(cosine, [[1.0], [1.0]], rtol=1e-6)


@pytest.mark.parametrize(
    "layer, shapes, expected",
    [
        (layers.Add(), [(4, 5), (4, 5)], (4, 5)),
        (layers.Add(), [(3, 4), (4,)], (3, 4)),
        (layers.Multiply(), [(1, 5), (3, 1)], (3, 5)),
        (layers.Concatenate(), [(4, 5), (4, 3)], (4, 8)),
        (layers.Concatenate(axis=1), [(4, 5), (2, 5)], (6, 5)),
        (layers.Concatenate(axis=-2), [(4, 5), (2, 5)], (6, 5)),
        (layers.Dot(axes=1), [(4,), (4,)], (1,)),
        (layers.Dot(axes=(1, 2)), [(4,), (3, 4)], (3,)),
        (layers.Dot(axes=(-2, -1)), [(3, 2), (1, 2, 3)], (2, 1, 2)),
    ],
)
def test_output_shapes_follow_keras(layer, shapes, expected):
    assert layer.compute_output_shape(shapes) == expected
    layer.build([(None, *s) for s in shapes])
    assert layer.output_shape == expected
    xs = tuple(np.ones((2, *s)) for s in shapes)
    assert layer.forward(xs)[0].shape == (2, *expected)


@pytest.mark.parametrize(
    "layer, shapes, match",
    [
        (layers.Add(), [(4, 5), (4, 6)], "Inputs have incompatible shapes"),
        (layers.Subtract(), [(3,), (3,), (3,)], "exactly 2 inputs"),
        (layers.Concatenate(), [(4, 5), (3, 6)], "matching shapes except for the concat"),
        (layers.Concatenate(), [(4, 5), (5,)], "matching shapes except for the concat"),
        (layers.Concatenate(axis=3), [(4, 5), (4, 5)], "out of range"),
        (layers.Dot(axes=1), [(4,), (5,)], "Incompatible input shapes: axis values 4"),
        (layers.Dot(axes=0), [(4,), (4,)], "Cannot perform batch_dot over axis 0"),
        (layers.Dot(axes=1), [(4,), (4,), (4,)], "exactly 2 inputs"),
        (layers.Add(), (4, 5), "should be called on a list of inputs"),
    ],
)
def test_shapes_that_do_not_fit_are_refused(layer, shapes, match):
    with pytest.raises(ValueError, match=match):
        layer.build(shapes)


def test_forward_refuses_batches_of_different_sizes():
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add().forward((np.ones((2, 3)), np.ones((3, 3))))
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add().forward(np.ones((2, 3)))


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: layers.Dot(axes="x"), TypeError, "Invalid type for argument `axes`"),
        (lambda: layers.Dot(axes=[1, 2, 3]), ValueError, "should contain two elements"),
        (lambda: layers.Dot(axes=[1, "a"]), ValueError, "list elements should be integers"),
        (lambda: layers.Concatenate(axis=1.5), TypeError, "`axis` must be an integer"),
        (lambda: layers.Concatenate(axis=0), ValueError, "batch axis"),
    ],
)
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    "layer",
    [
        layers.Concatenate(axis=1),
        layers.Add(),
        layers.Subtract(),
        layers.Multiply(),
        layers.Average(),
        layers.Maximum(),
        layers.Minimum(),
        layers.Dot(axes=(1, 2)),
        layers.Dot(axes=-1, normalize=True),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    assert layers.LAYER_CLASSES[type(layer).__name__] is type(layer)


def test_the_tape_adds_the_slopes_of_a_value_merged_twice(rng, float64):
    """``x`` feeds both inputs of a ``Multiply``: its slope is the sum of both, ``2x``."""
    x = rng.normal(size=(3, 2))
    layer = layers.Multiply()
    with recording() as tape:
        out, records = layer.forward((x, x))
        tape.record(layer, (x, x), out, records)
    slopes = tape.backward(out, np.ones_like(out))
    np.testing.assert_allclose(slopes[id(x)], 2 * x)


# --- function forms (they call the layer on a list) -----------------------------------------


@pytest.mark.parametrize(
    "function, expected",
    [
        (layers.add, [[4.0, 6.0]]),
        (layers.subtract, [[-2.0, -2.0]]),
        (layers.multiply, [[3.0, 8.0]]),
        (layers.average, [[2.0, 3.0]]),
        (layers.maximum, [[3.0, 4.0]]),
        (layers.minimum, [[1.0, 2.0]]),
        (layers.concatenate, [[1.0, 2.0, 3.0, 4.0]]),
        (lambda xs: layers.dot(xs, axes=1), [[11.0]]),
    ],
)
def test_function_forms_merge_like_their_layers(function, expected):
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])
    np.testing.assert_allclose(function([a, b]), expected)


def test_function_forms_pass_the_layer_arguments():
    a, b = np.ones((2, 3, 1)), np.ones((2, 3, 2))
    assert layers.concatenate([a, b], axis=-1, name="joined").shape == (2, 3, 3)
