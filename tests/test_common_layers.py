"""The common layers of Keras 3 beyond Dense: hand-computed values, Keras's shape rules and
argument checks (from ``keras/src/layers/**/*_test.py``), slopes against central differences
in float64, and config round trips. Keras itself is the oracle in
``test_common_layers_keras.py``."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import away_from, check_layer_slopes, numerical_gradient

from glassnet import layers
from glassnet._scatter import add_rows_at
from glassnet.models import Sequential

# --- slopes against finite differences ------------------------------------------------------

SLOPE_CASES = {
    "softmax": (lambda: layers.Softmax(), (4, 5)),
    "softmax_axis1_of_3d": (lambda: layers.Softmax(axis=1), (2, 3, 4)),
    "relu": (lambda: layers.ReLU(), (4, 5)),
    "relu_options": (lambda: layers.ReLU(max_value=1.0, negative_slope=0.2, threshold=0.3), (4, 5)),
    "leaky_relu": (lambda: layers.LeakyReLU(), (4, 5)),
    "elu": (lambda: layers.ELU(alpha=0.7), (4, 5)),
    "prelu": (lambda: layers.PReLU(alpha_initializer="random_normal"), (3, 4)),
    "prelu_shared": (lambda: layers.PReLU("random_normal", shared_axes=[1]), (3, 2, 4)),
    "layer_norm": (lambda: layers.LayerNormalization(gamma_initializer="random_normal"), (3, 5)),
    "layer_norm_axes": (
        lambda: layers.LayerNormalization(axis=[1, 2], beta_initializer="random_normal"),
        (2, 3, 4),
    ),
    "layer_norm_no_center": (lambda: layers.LayerNormalization(center=False), (3, 4)),
    "group_norm": (
        lambda: layers.GroupNormalization(
            2, gamma_initializer="random_normal", beta_initializer="random_normal"
        ),
        (3, 4),
    ),
    "group_norm_3d_axis1": (lambda: layers.GroupNormalization(3, axis=1), (2, 6, 3)),
    "group_norm_instance": (lambda: layers.GroupNormalization(-1, center=False), (2, 3, 4)),
    "unit_norm": (lambda: layers.UnitNormalization(), (3, 4)),
    "unit_norm_axes": (lambda: layers.UnitNormalization(axis=[1, 2]), (2, 3, 2)),
    "dense_3d": (lambda: layers.Dense(3, activation="tanh"), (2, 4, 5)),
    "identity": (lambda: layers.Identity(), (3, 2)),
    "repeat_vector": (lambda: layers.RepeatVector(3), (2, 4)),
    "permute": (lambda: layers.Permute((2, 3, 1)), (2, 3, 4, 2)),
    "activity_regularization": (lambda: layers.ActivityRegularization(l1=0.1, l2=0.3), (4, 3)),
}
# The kinks of each function, kept away from so that a finite difference exists.
KINKS = {
    "relu": [0.0],
    "leaky_relu": [0.0],
    "prelu": [0.0],
    "prelu_shared": [0.0],
    "relu_options": [0.3, 1.0],
    "activity_regularization": [0.0],
}


@pytest.mark.parametrize("case", sorted(SLOPE_CASES))
def test_slopes_match_finite_differences(case, rng, float64):
    make, shape = SLOPE_CASES[case]
    layer = make()
    layer.build(shape[1:])
    x = away_from(rng.normal(size=shape), KINKS.get(case, []), margin=1e-3)
    if case == "activity_regularization":  # its slope includes the penalty's
        penalty = layer.activity_penalty
        grad_out = rng.normal(size=shape)

        def objective():
            out, records = layer.forward(x)
            return float(np.sum(grad_out * out)) + penalty(records)

        _, records = layer.forward(x)
        analytic = layer.backward(records, grad_out)
        np.testing.assert_allclose(analytic, numerical_gradient(objective, x), rtol=1e-6, atol=1e-8)
        return
    checked = check_layer_slopes(layer, x, rng)
    assert checked == sorted(layer.grads)


@pytest.mark.parametrize(
    "layer",
    [layers.GaussianNoise(0.5, seed=3), layers.GaussianDropout(0.4, seed=3)],
    ids=["noise", "dropout"],
)
def test_gaussian_layers_pass_the_slope_of_their_noise(layer, rng, float64):
    layer.build((4,))
    x = rng.normal(size=(3, 4))
    out, records = layer.forward(x, training=True)
    grad = rng.normal(size=out.shape)
    # the slope of sum(grad * out) for this draw of the noise, by finite differences
    if records is None:  # added noise
        noise = out - x

        def value():
            return float(np.sum(grad * (x + noise)))
    else:  # multiplied noise
        noise = out / x

        def value():
            return float(np.sum(grad * x * noise))

    np.testing.assert_allclose(
        layer.backward(records, grad), numerical_gradient(value, x), rtol=1e-6, atol=1e-8
    )


def test_embedding_slope_sums_over_every_lookup(rng, float64):
    layer = layers.Embedding(5, 3)
    layer.build((4,))
    ids = np.array([[0, 2, 2, 4], [1, 2, 0, 0]])
    grad_out = rng.normal(size=(2, 4, 3))
    _, records = layer.forward(ids)
    assert np.all(layer.backward(records, grad_out) == 0)
    numeric = numerical_gradient(
        lambda: float(np.sum(grad_out * layer.forward(ids)[0])), layer.embeddings
    )
    np.testing.assert_allclose(layer.grad_embeddings, numeric, rtol=1e-6, atol=1e-8)
    assert np.all(layer.grad_embeddings[3] == 0)  # id 3 was not looked up


@pytest.mark.parametrize("contiguous", [True, False], ids=["table", "strided table"])
def test_embedding_slope_adds_what_add_at_adds_in_the_same_order(rng, contiguous):
    """Many lookups of few ids in float32: every addition in the order np.add.at makes it,
    so the sums are equal to the last bit."""
    ids = rng.integers(0, 7, 3000)
    rows = rng.normal(size=(3000, 5)).astype(np.float32)
    start = rng.normal(size=(7, 5)).astype(np.float32)
    np.add.at(want := start.copy(), ids, rows)
    target = np.zeros((7, 10), np.float32)[:, :5] if not contiguous else np.empty_like(start)
    target[...] = start
    add_rows_at(target, ids, rows)
    np.testing.assert_array_equal(target, want)


# --- values computed by hand ----------------------------------------------------------------


def test_softmax_over_any_axis():
    x = np.array([[[0.0, np.log(3.0)], [np.log(2.0), np.log(2.0)]]])
    np.testing.assert_allclose(layers.Softmax()(x), [[[0.25, 0.75], [0.5, 0.5]]], rtol=1e-6)
    np.testing.assert_allclose(layers.Softmax(axis=1)(x)[0, :, 0], [1 / 3, 2 / 3], rtol=1e-6)


def test_relu_options_follow_keras_examples():
    # keras/src/activations/activations.py, relu's docstring
    x = np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]])
    assert layers.ReLU()(x).tolist() == [[0, 0, 0, 5, 10]]
    assert layers.ReLU(negative_slope=0.5)(x).tolist() == [[-5, -2.5, 0, 5, 10]]
    assert layers.ReLU(max_value=5.0)(x).tolist() == [[0, 0, 0, 5, 5]]
    assert layers.ReLU(threshold=5.0)(x).tolist() == [[0, 0, 0, 0, 10]]


def test_leaky_relu_default_slope_is_keras_layer_default():
    assert layers.LeakyReLU().negative_slope == 0.3
    np.testing.assert_allclose(layers.LeakyReLU()(np.array([[-1.0, 2.0]])), [[-0.3, 2.0]])
    with pytest.warns(UserWarning, match="alpha"):
        assert layers.LeakyReLU(alpha=0.1).negative_slope == 0.1


def test_prelu_starts_as_relu_and_learns_its_slope():
    layer = layers.PReLU()
    assert layer(np.array([[-2.0, 3.0]])).tolist() == [[0.0, 3.0]]
    layer.set_weights([np.array([0.5, 0.5])])
    assert layer(np.array([[-2.0, 3.0]])).tolist() == [[-1.0, 3.0]]


def test_layer_normalization_normalizes_each_row():
    out = layers.LayerNormalization(epsilon=0.0)(np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 5.0]]))
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(out.var(axis=1), 1, rtol=1e-5)


def test_unit_normalization_scales_rows_to_unit_length():
    np.testing.assert_allclose(layers.UnitNormalization()(np.array([[3.0, 4.0]])), [[0.6, 0.8]])
    assert layers.UnitNormalization()(np.zeros((1, 2))).tolist() == [[0.0, 0.0]]


def test_gaussian_layers_change_nothing_at_inference():
    x = np.arange(6.0).reshape(2, 3)
    for layer in (layers.GaussianNoise(0.3), layers.GaussianDropout(0.3)):
        assert np.array_equal(layer(x), x)
        assert not np.array_equal(layer(x, training=True), x)


def test_gaussian_dropout_noise_has_keras_variance():
    layer = layers.GaussianDropout(0.2, seed=1)
    out = layer(np.ones((200, 500)), training=True)
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert out.var() == pytest.approx(0.2 / 0.8, rel=0.02)


def test_repeat_vector_and_permute_follow_keras_shapes():
    x = np.arange(6.0).reshape(2, 3)
    out = layers.RepeatVector(4)(x)
    assert out.shape == (2, 4, 3) and np.array_equal(out[:, 2], x)
    y = np.arange(24.0).reshape(2, 3, 4)
    assert np.array_equal(layers.Permute((2, 1))(y), y.transpose(0, 2, 1))
    assert layers.Permute((2, 1)).compute_output_shape((10, 64)) == (64, 10)


def test_embedding_looks_ids_up_whatever_their_number_type():
    layer = layers.Embedding(4, 2, weights=np.arange(8.0).reshape(4, 2))
    ids = [[0, 3], [1, 1]]
    expected = [[[0, 1], [6, 7]], [[2, 3], [2, 3]]]
    assert layer(np.array(ids)).tolist() == expected
    assert layer(np.array(ids, dtype=np.float32)).tolist() == expected
    assert layers.Embedding(4, 2, mask_zero=True).compute_mask(np.array(ids)).tolist() == [
        [False, True],
        [True, True],
    ]


def test_embedding_in_a_model_trains_on_integer_ids(rng):
    model = Sequential(
        [layers.Input((3,)), layers.Embedding(6, 4), layers.Dense(2), layers.Softmax()]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = rng.integers(0, 6, size=(8, 3))
    y = np.eye(2)[rng.integers(0, 2, size=(8, 3))]
    before = model.get_weights()[0].copy()
    model.fit(x, y, epochs=2, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 3, 2)
    assert not np.array_equal(model.get_weights()[0], before)


# --- Dense on rows of higher rank -----------------------------------------------------------


def test_dense_maps_the_last_axis_and_is_not_chained(rng):
    model = Sequential([layers.Input((3, 4)), layers.Dense(5, activation="relu"), layers.Dense(2)])
    x = rng.normal(size=(6, 3, 4)).astype(np.float32)
    kernel, bias, kernel2, bias2 = model.get_weights()
    expected = np.maximum(x @ kernel + bias, 0) @ kernel2 + bias2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert model.plan.steps == model.layers  # each on its own: the chain takes vector rows


def test_dense_of_higher_rank_with_fused_softmax_has_true_slopes(rng, float64):
    model = Sequential([layers.Input((3, 4)), layers.Dense(5, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = rng.normal(size=(2, 3, 4))
    y = np.eye(5)[rng.integers(0, 5, size=(2, 3))]
    model.build()

    def loss():
        return float(model.loss.reduced(y, model.forward(x, training=True))[0])

    _, grads = model.compute_gradients(x, y)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        np.testing.assert_allclose(grad, numerical_gradient(loss, weight), rtol=1e-5, atol=1e-8)


# --- configs and arguments ------------------------------------------------------------------

CONFIG_CASES = [
    layers.Softmax(axis=1),
    layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
    layers.LeakyReLU(0.1),
    layers.PReLU(shared_axes=[1, 2]),
    layers.ELU(alpha=0.5),
    layers.Embedding(10, 3, mask_zero=True),
    layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False),
    layers.UnitNormalization(axis=[1, 2]),
    layers.GroupNormalization(groups=4, axis=1, epsilon=1e-4, center=False),
    layers.AlphaDropout(0.2, seed=1),
    layers.GaussianNoise(0.2, seed=3),
    layers.GaussianDropout(0.3, seed=4),
    layers.ActivityRegularization(l1=0.1, l2=0.2),
    layers.CategoryEncoding(5, output_mode="count"),
    layers.IntegerLookup(vocabulary=[3, 7], mask_token=0),
    layers.StringLookup(vocabulary=["a", "b"], output_mode="one_hot"),
    layers.Identity(),
    layers.RepeatVector(3),
    layers.Permute((2, 1)),
]


@pytest.mark.parametrize("layer", CONFIG_CASES, ids=lambda layer: type(layer).__name__)
def test_config_round_trips(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    assert type(layer).__name__ in layers.LAYER_CLASSES


def test_every_new_layer_accepts_input_shape():
    model = Sequential(
        [
            layers.Dense(4, input_shape=(3, 2)),
            layers.LayerNormalization(),
            layers.ReLU(),
            layers.PReLU(),
            layers.UnitNormalization(),
            layers.Permute((2, 1)),
            layers.ELU(),
            layers.LeakyReLU(),
            layers.GaussianNoise(0.1),
            layers.GaussianDropout(0.1),
            layers.ActivityRegularization(),
            layers.Identity(),
            layers.Softmax(),
        ]
    )
    model.summary(print_fn=lambda text: None)
    assert model.output_shape == (4, 3)
    for cls in (layers.Softmax, layers.Identity, layers.UnitNormalization):
        assert cls(input_shape=(3,)).declared_input_shape == (3,)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: layers.ReLU(max_value=-1), ValueError, "max_value of a ReLU layer"),
        (lambda: layers.ReLU(negative_slope=-1), ValueError, "negative_slope of a ReLU"),
        (lambda: layers.ReLU(threshold=None), ValueError, "threshold of a ReLU"),
        (lambda: layers.LeakyReLU(-0.1), ValueError, "negative_slope value of a Leaky"),
        (lambda: layers.Embedding(0, 2), ValueError, "`input_dim` must be a positive"),
        (lambda: layers.Embedding(3, 2.5), ValueError, "`output_dim` must be a positive"),
        (lambda: layers.GaussianNoise(1.5), ValueError, "Expected a float value between 0"),
        (lambda: layers.GaussianDropout(-0.5), ValueError, "Expected a float value between 0"),
        (lambda: layers.RepeatVector(2.0), TypeError, "Expected an integer value for `n`"),
        (lambda: layers.RepeatVector(0), ValueError, "positive integer"),
        (lambda: layers.Permute((1, 3)), ValueError, "must be consecutive and start from 1"),
        (lambda: layers.LayerNormalization(axis="x"), TypeError, "int or a list/tuple"),
        (lambda: layers.UnitNormalization(axis=1.5), TypeError, "int or a list/tuple"),
        (lambda: layers.CategoryEncoding(), ValueError, "num_tokens must be set"),
        (lambda: layers.CategoryEncoding(0), ValueError, "`num_tokens` must be >= 1"),
        (lambda: layers.CategoryEncoding(3, "tf_idf"), ValueError, "Unknown arg for output_mode"),
        (lambda: layers.ActivityRegularization(l1=-1), ValueError, "non-negative"),
        (lambda: layers.Lambda(3), TypeError, "Lambda expects a function"),
        (lambda: layers.Softmax(axis="last"), ValueError, "`axis` must be an integer"),
    ],
)
def test_bad_arguments_are_refused_as_keras_refuses_them(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_shapes_that_do_not_fit_are_named():
    with pytest.raises(ValueError, match="out of bounds"):
        layers.LayerNormalization(axis=3).build((None, 4))
    with pytest.raises(ValueError, match="expects inputs of rank 2"):
        layers.RepeatVector(2).build((None, 3, 4))
    with pytest.raises(ValueError, match="expects rows of rank 2"):
        layers.Permute((2, 1)).build((None, 3))
    with pytest.raises(ValueError, match=r"id 7 is not in \[0, 5\)"):
        layers.Embedding(5, 2)(np.array([[1, 7]]))


# --- CategoryEncoding and the lookups -------------------------------------------------------


def test_category_encoding_modes_follow_keras_examples():
    # keras/src/layers/preprocessing/category_encoding.py, docstring examples
    one_hot = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    assert one_hot([3, 2, 0, 1]).tolist() == np.eye(4)[[3, 2, 0, 1]].tolist()
    multi = layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
    assert multi([[0, 1], [0, 0], [1, 2], [3, 1]]).tolist() == [
        [1, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 1, 1, 0],
        [0, 1, 0, 1],
    ]
    count = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    assert count([[0, 1], [0, 0], [1, 2], [3, 1]]).tolist() == [
        [1, 1, 0, 0],
        [2, 0, 0, 0],
        [0, 1, 1, 0],
        [0, 1, 0, 1],
    ]
    weighted = count.forward(
        np.array([[0, 1], [0, 0]]), count_weights=np.array([[0.1, 0.2], [0.1, 0.1]])
    )[0]
    np.testing.assert_allclose(weighted, [[0.1, 0.2, 0, 0], [0.2, 0, 0, 0]], rtol=1e-6)
    with pytest.raises(ValueError, match="range 0 <= values < num_tokens"):
        multi([[4, 1]])
    assert multi.compute_output_shape((3,)) == (4,)
    assert one_hot.compute_output_shape((3,)) == (3, 4)
    assert one_hot.compute_output_shape((1,)) == (4,)


def test_string_lookup_follows_keras_examples():
    # keras/src/layers/preprocessing/string_lookup.py, docstring examples
    vocab = ["a", "b", "c", "d"]
    data = [["a", "c", "d"], ["d", "z", "b"]]
    assert layers.StringLookup(vocabulary=vocab)(data).tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = layers.StringLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    masked = layers.StringLookup(vocabulary=vocab, mask_token="")
    assert masked([["a", "c", ""], ["d", "z", "b"]]).tolist() == [[2, 4, 0], [5, 1, 3]]
    one_hot = layers.StringLookup(vocabulary=vocab, output_mode="one_hot")
    assert one_hot(["a", "b", "c", "d", "z"]).tolist() == np.eye(5)[[1, 2, 3, 4, 0]].tolist()
    multi = layers.StringLookup(vocabulary=vocab, output_mode="multi_hot")
    assert multi(data).tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = layers.StringLookup(vocabulary=vocab, output_mode="count")
    assert count([["a", "c", "d", "d"], ["d", "z", "b", "z"]]).tolist() == [
        [0, 1, 0, 1, 2],
        [2, 0, 1, 0, 1],
    ]
    inverse = layers.StringLookup(vocabulary=vocab, invert=True)
    assert inverse([[1, 3, 4], [4, 0, 2]]).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_integer_lookup_follows_keras_examples():
    # keras/src/layers/preprocessing/integer_lookup.py, docstring examples
    vocab = [12, 36, 1138, 42]
    data = [[12, 1138, 42], [42, 1000, 36]]
    assert layers.IntegerLookup(vocabulary=vocab)(data).tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = layers.IntegerLookup()
    layer.adapt(np.array(data))
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    two_oov = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    assert two_oov(data).tolist() == [[2, 4, 5], [5, 0, 3]]
    masked = layers.IntegerLookup(vocabulary=vocab, mask_token=0)
    assert masked([[12, 1138, 0], [42, 1000, 36]]).tolist() == [[2, 4, 0], [5, 1, 3]]
    assert layers.IntegerLookup(vocabulary=vocab, invert=True)([[1, 3, 4], [4, 0, 2]]).tolist() == [
        [12, 1138, 42],
        [42, -1, 36],
    ]
    assert layers.IntegerLookup(vocabulary=vocab).vocabulary_size() == 5


def test_lookups_refuse_what_they_cannot_map():
    with pytest.raises(ValueError, match="all inputs should be in vocabulary, found OOV value"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)([["b"]])
    with pytest.raises(ValueError, match="repeated term"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="reserved OOV token"):
        layers.StringLookup(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="`output_mode` must be `'int'` when `invert`"):
        layers.StringLookup(invert=True, output_mode="one_hot")
    with pytest.raises(ValueError, match="integer tokens"):
        layers.IntegerLookup(vocabulary=[1])([["x"]])
    with pytest.raises(ValueError, match="no slope"):
        layers.StringLookup(vocabulary=["a"]).backward(None, np.ones(1))


def test_lookup_keeps_string_inputs_as_strings():
    layer = layers.StringLookup(vocabulary=["10", "20"])
    assert layer(np.array([["20", "10"]])).tolist() == [[2, 1]]  # never cast to float


# --- Lambda ---------------------------------------------------------------------------------


def test_lambda_slope_comes_from_the_glassnet_layers_it_calls(rng, float64):
    inner = layers.Softmax()
    layer = layers.Lambda(lambda x: inner(x))
    layer.build((4,))
    check_layer_slopes(layer, rng.normal(size=(3, 4)), rng)
    passthrough = layers.Lambda(lambda x: x)
    x = rng.normal(size=(2, 3))
    out, records = passthrough.forward(x)
    assert passthrough.backward(records, out) is out


def test_lambda_of_numpy_arithmetic_gets_its_slope_from_the_recorded_ops():
    layer = layers.Lambda(lambda x, factor: x * factor, arguments={"factor": 3.0})
    out = layer(np.array([[1.0, 2.0]]))
    assert out.tolist() == [[3.0, 6.0]]
    assert layer.compute_output_shape((2,)) == (2,)
    _, records = layer.forward(np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(records, np.ones((1, 2))), [[3.0, 3.0]])


def test_lambda_whose_output_bypasses_the_tape_has_no_slope():
    layer = layers.Lambda(lambda x: np.array(np.asarray(x).tolist()))
    _, records = layer.forward(np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="slope is unknown"):
        layer.backward(records, np.ones((1, 2)))


def test_lambda_output_shape_and_training_argument():
    layer = layers.Lambda(
        lambda x, training=False: x[:, :1] * (2 if training else 1), output_shape=(1,)
    )
    assert layer.compute_output_shape((5,)) == (1,)
    assert layer(np.ones((2, 5)), training=True).tolist() == [[2.0], [2.0]]


# --- Normalization(axis=None) ---------------------------------------------------------------


def test_normalization_with_input_shape_and_axis_none_builds_the_model():
    # TensorFlow's regression tutorial: Normalization(input_shape=[1,], axis=None)
    norm = layers.Normalization(input_shape=[1], axis=None)
    norm.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    model = Sequential([norm, layers.Dense(units=1)])
    lines = []
    model.summary(print_fn=lines.append)
    assert model.built and "normalization" in lines[0]
    np.testing.assert_allclose(norm(np.array([[1.0], [3.0]])).ravel(), [-1.4142135, 0.0], rtol=1e-6)


def test_normalization_axis_none_keeps_one_mean_and_variance():
    norm = layers.Normalization(axis=None)
    norm.adapt(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert norm.mean.shape == () and float(norm.mean) == 2.5
    np.testing.assert_allclose(
        norm(np.array([[2.5, 3.75]])), [[0.0, 1.25 / np.sqrt(1.25)]], rtol=1e-6
    )
    again = layers.Normalization.from_config(norm.get_config())
    assert again.axis is None and norm.get_config()["axis"] == []
    given = layers.Normalization(axis=None, mean=1.0, variance=4.0)
    assert given(np.array([[3.0, 5.0]])).tolist() == [[1.0, 2.0]]
