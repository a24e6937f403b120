"""The common and merging layers against real Keras 3 (skipped where keras is not installed,
a failure under CI=true): the same weights give the same outputs (1e-5 relative, float32),
models Keras saves with these layers load in glassnet and predict Keras's numbers, Keras
loads glassnet's files of them in its default safe mode, and a ``Lambda`` in a Keras file is
refused as Keras refuses it in safe mode."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from glassnet import layers  # noqa: E402
from glassnet.models import Sequential, load_model  # noqa: E402
from glassnet.saving.errors import ModelFileError  # noqa: E402

pytestmark = [pytest.mark.keras, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
TOL = {"rtol": 1e-5, "atol": 1e-6}

# (name, Keras layer, glassnet layer, row shape); the glassnet twin gets Keras's weights.
SINGLE = [
    ("softmax", lambda k: k.Softmax(), (5,)),
    ("softmax_axis1", lambda k: k.Softmax(axis=1), (3, 4)),
    ("relu", lambda k: k.ReLU(), (5,)),
    ("relu_options", lambda k: k.ReLU(max_value=1.0, negative_slope=0.2, threshold=0.3), (5,)),
    ("relu6", lambda k: k.ReLU(max_value=6.0), (5,)),
    ("leaky_relu", lambda k: k.LeakyReLU(), (5,)),
    ("leaky_relu_slope", lambda k: k.LeakyReLU(negative_slope=0.05), (5,)),
    ("prelu", lambda k: k.PReLU(alpha_initializer="random_normal"), (5,)),
    ("prelu_shared", lambda k: k.PReLU(alpha_initializer="random_normal", shared_axes=[1]), (3, 4)),
    ("elu", lambda k: k.ELU(), (5,)),
    (
        "layer_norm",
        lambda k: k.LayerNormalization(
            gamma_initializer="random_normal", beta_initializer="random_normal"
        ),
        (5,),
    ),
    (
        "layer_norm_axes",
        lambda k: k.LayerNormalization(axis=[1, 2], gamma_initializer="random_normal"),
        (3, 4),
    ),
    ("unit_norm", lambda k: k.UnitNormalization(), (5,)),
    ("unit_norm_axes", lambda k: k.UnitNormalization(axis=[1, 2]), (3, 4)),
    ("dense_3d", lambda k: k.Dense(3, activation="tanh"), (4, 5)),
    ("identity", lambda k: k.Identity(), (5,)),
    ("repeat_vector", lambda k: k.RepeatVector(3), (5,)),
    ("permute", lambda k: k.Permute((2, 1)), (3, 4)),
    ("activity_regularization", lambda k: k.ActivityRegularization(l1=0.1), (5,)),
    ("gaussian_noise", lambda k: k.GaussianNoise(0.3), (5,)),
    ("gaussian_dropout", lambda k: k.GaussianDropout(0.3), (5,)),
    ("alpha_dropout", lambda k: k.AlphaDropout(0.3), (5,)),
    (
        "group_norm",
        lambda k: k.GroupNormalization(
            groups=2, gamma_initializer="random_normal", beta_initializer="random_normal"
        ),
        (3, 4),
    ),
    ("group_norm_axis", lambda k: k.GroupNormalization(groups=3, axis=1), (6, 2)),
    ("instance_norm", lambda k: k.GroupNormalization(groups=-1), (4,)),
]


def _twin(keras_layer):
    """A glassnet layer of the same class and config (read the way a file is read)."""
    config = keras_layer.get_config()
    return layers.LAYER_CLASSES[type(keras_layer).__name__].from_config(
        {k: v for k, v in config.items() if k not in ("dtype",)}
    )


@pytest.mark.parametrize("case", SINGLE, ids=[c[0] for c in SINGLE])
def test_same_weights_give_keras_outputs(case, rng):
    _, make, shape = case
    keras.utils.set_random_seed(1)
    reference = make(keras.layers)
    x = rng.normal(size=(6, *shape)).astype(np.float32)
    expected = np.asarray(reference(x))
    layer = make(layers)
    layer.build((None, *shape))
    layer.set_weights(reference.get_weights())
    np.testing.assert_allclose(layer(x), expected, **TOL)
    assert layer.output_shape == tuple(reference.compute_output_shape((None, *shape))[1:])


def test_embedding_and_category_encoding_give_keras_outputs(rng):
    reference = keras.layers.Embedding(7, 3)
    ids = rng.integers(0, 7, size=(4, 5))
    expected = np.asarray(reference(ids))
    layer = layers.Embedding(7, 3)
    layer.build((None, 5))
    layer.set_weights(reference.get_weights())
    np.testing.assert_array_equal(layer(ids), expected)
    for mode in ("one_hot", "multi_hot", "count"):
        data = rng.integers(0, 6, size=(4, 3))
        ours = layers.CategoryEncoding(6, output_mode=mode)(data)
        np.testing.assert_array_equal(ours, keras.layers.CategoryEncoding(6, mode)(data))


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_lookups_give_keras_outputs(mode):
    data = np.array([["a", "c", "d", "d"], ["d", "z", "b", "z"], ["c", "c", "a", "q"]])
    ours, theirs = (
        layers.StringLookup(output_mode=mode),
        keras.layers.StringLookup(output_mode=mode),
    )
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    np.testing.assert_array_equal(ours(data), np.asarray(theirs(data)))
    ints = np.array([[12, 1138, 42, 7], [42, 1000, 36, 7], [7, 7, 12, 5]])
    ours_int, theirs_int = (
        layers.IntegerLookup(output_mode=mode, mask_token=5),
        (keras.layers.IntegerLookup(output_mode=mode, mask_token=5)),
    )
    ours_int.adapt(ints)
    theirs_int.adapt(ints)
    assert ours_int.get_vocabulary() == [int(v) for v in theirs_int.get_vocabulary()]
    np.testing.assert_array_equal(ours_int(ints), np.asarray(theirs_int(ints)))
    if mode == "int":
        two = dict(vocabulary=[12, 36, 1138, 42], num_oov_indices=2)
        np.testing.assert_array_equal(
            layers.IntegerLookup(**two)(ints), np.asarray(keras.layers.IntegerLookup(**two)(ints))
        )


MERGES = [
    ("add", lambda k: k.Add(), [(3, 4), (3, 4), (3, 4)]),
    ("add_broadcast", lambda k: k.Add(), [(3, 4), (4,)]),
    ("subtract", lambda k: k.Subtract(), [(4,), (4,)]),
    ("multiply", lambda k: k.Multiply(), [(2, 3), (2, 3)]),
    ("average", lambda k: k.Average(), [(4,), (4,), (4,)]),
    ("maximum", lambda k: k.Maximum(), [(4,), (4,)]),
    ("minimum", lambda k: k.Minimum(), [(4,), (4,)]),
    ("concatenate", lambda k: k.Concatenate(), [(3,), (2,)]),
    ("concatenate_axis1", lambda k: k.Concatenate(axis=1), [(2, 4), (3, 4)]),
    ("dot", lambda k: k.Dot(axes=1), [(4,), (4,)]),
    ("dot_normalize", lambda k: k.Dot(axes=-1, normalize=True), [(4,), (4,)]),
    ("dot_higher", lambda k: k.Dot(axes=(-2, -1)), [(3, 2), (1, 2, 3)]),
    ("dot_2d_3d", lambda k: k.Dot(axes=(1, 2)), [(4,), (3, 4)]),
]


@pytest.mark.parametrize("case", MERGES, ids=[c[0] for c in MERGES])
def test_merges_give_keras_outputs(case, rng):
    _, make, shapes = case
    xs = [rng.normal(size=(5, *s)).astype(np.float32) for s in shapes]
    expected = np.asarray(make(keras.layers)(xs))
    layer = make(layers)
    layer.build([(None, *s) for s in shapes])
    np.testing.assert_allclose(layer.forward(tuple(xs))[0], expected, **TOL)
    assert layer.output_shape == expected.shape[1:]


def test_keras_merge_configs_read_back():
    for reference in (
        keras.layers.Concatenate(axis=1),
        keras.layers.Dot(axes=[1, 2], normalize=True),
    ):
        twin = _twin(reference)
        for key in ("axis", "axes", "normalize"):
            if key in reference.get_config():
                assert twin.get_config()[key] == reference.get_config()[key]


# --- files ------------------------------------------------------------------------------------


def _keras_model():
    keras.utils.set_random_seed(4)
    return keras.Sequential(
        [
            keras.Input((6,), dtype="int32"),
            keras.layers.Embedding(12, 4, embeddings_initializer="random_normal"),
            keras.layers.LayerNormalization(gamma_initializer="random_normal"),
            keras.layers.Dense(5),
            keras.layers.PReLU(alpha_initializer="random_normal"),
            keras.layers.LeakyReLU(negative_slope=0.1),
            keras.layers.Permute((2, 1)),
            keras.layers.ReLU(max_value=2.0),
            keras.layers.ELU(),
            keras.layers.GaussianNoise(0.1),
            keras.layers.GaussianDropout(0.1),
            keras.layers.ActivityRegularization(l2=0.01),
            keras.layers.UnitNormalization(),
            keras.layers.Identity(),
            keras.layers.Flatten(),
            keras.layers.RepeatVector(2),
            keras.layers.Dense(3),
            keras.layers.Softmax(),
        ]
    )


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_models_keras_saves_load_and_predict_keras_numbers(tmp_path, fmt, rng):
    reference = _keras_model()
    reference.compile(optimizer="adam", loss="categorical_crossentropy")
    path = str(tmp_path / f"k.{fmt}")
    reference.save(path)
    model = load_model(path)
    ids = rng.integers(0, 12, size=(7, 6))
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), reference.predict(ids, verbose=0), **TOL
    )
    assert [type(layer).__name__ for layer in model.layers] == [
        type(layer).__name__ for layer in reference.layers
    ]


def test_a_category_encoding_model_from_keras_loads(tmp_path, rng):
    reference = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.CategoryEncoding(8, output_mode="multi_hot"),
            keras.layers.Dense(2),
        ]
    )
    path = str(tmp_path / "c.keras")
    reference.save(path)
    model = load_model(path)
    data = rng.integers(0, 8, size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        model.predict(data, verbose=0), reference.predict(data, verbose=0), **TOL
    )


def test_keras_loads_glassnet_files_of_these_layers(tmp_path, rng):
    model = Sequential(
        [
            layers.Input((6,)),
            layers.Embedding(12, 4),
            layers.LayerNormalization(),
            layers.Dense(5),
            layers.PReLU(),
            layers.LeakyReLU(),
            layers.Permute((2, 1)),
            layers.ReLU(max_value=2.0),
            layers.ELU(alpha=0.5),
            layers.UnitNormalization(),
            layers.Identity(),
            layers.GaussianNoise(0.1),
            layers.GaussianDropout(0.2),
            layers.Flatten(),
            layers.RepeatVector(2),
            layers.Dense(3),
            layers.Softmax(),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    ids = rng.integers(0, 12, size=(7, 6))
    model.fit(ids, np.eye(3)[rng.integers(0, 3, size=(7, 2))], epochs=1, verbose=0)
    for fmt in ("keras", "h5"):
        path = str(tmp_path / f"g.{fmt}")
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(
            loaded.predict(ids, verbose=0), model.predict(ids, verbose=0), **TOL
        )


def test_a_keras_file_with_a_lambda_is_refused(tmp_path):
    reference = keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(1)]
    )
    path = str(tmp_path / "lambda.keras")
    reference.save(path)
    with pytest.raises(ValueError, match="safe_mode"):  # Keras itself, in safe mode
        keras.models.load_model(path)
    with pytest.raises(ModelFileError, match="'Lambda'.*never runs code"):
        load_model(path)


@pytest.mark.parametrize("axis", [None, -1])
def test_normalization_axis_none_matches_keras_and_its_files(tmp_path, axis, rng):
    x = (rng.normal(size=(20, 3)) * [1.0, 5.0, 10.0]).astype(np.float32)
    reference = keras.layers.Normalization(axis=axis)
    reference.adapt(x)
    norm = layers.Normalization(axis=axis)
    norm.adapt(x)
    np.testing.assert_allclose(norm(x), np.asarray(reference(x)), **TOL)
    model = keras.Sequential([keras.Input((3,)), reference, keras.layers.Dense(1)])
    for fmt in ("keras", "h5"):
        model.save(str(tmp_path / f"k.{fmt}"))
        loaded = load_model(str(tmp_path / f"k.{fmt}"))
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), **TOL)
    # Keras reads glassnet's file back (its own .h5 reader cannot rebuild axis=None)
    loaded.save(str(tmp_path / "g.keras"))
    again = keras.models.load_model(str(tmp_path / "g.keras"))
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), **TOL)


def test_training_through_these_layers_takes_keras_steps(rng):
    """Three epochs of SGD without shuffling from the same weights: the slopes of every
    layer on the way agree with Keras's (1e-4 relative on the weights, as the parity
    tests allow for compounded float32 rounding)."""
    keras.utils.set_random_seed(2)
    reference = keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(9, 4),
            keras.layers.LayerNormalization(gamma_initializer="random_normal"),
            keras.layers.Dense(6),
            keras.layers.PReLU(alpha_initializer="random_normal"),
            keras.layers.Permute((2, 1)),
            keras.layers.UnitNormalization(),
            keras.layers.ELU(),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
            keras.layers.Softmax(),
        ]
    )
    model = Sequential(
        [
            layers.Input((5,)),
            layers.Embedding(9, 4),
            layers.LayerNormalization(),
            layers.Dense(6),
            layers.PReLU(),
            layers.Permute((2, 1)),
            layers.UnitNormalization(),
            layers.ELU(),
            layers.Flatten(),
            layers.Dense(3),
            layers.Softmax(),
        ]
    )
    model.build()
    model.set_weights(reference.get_weights())
    ids = rng.integers(0, 9, size=(32, 5))
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=32)]
    for net, optimizer in ((reference, keras.optimizers.SGD(0.5)), (model, "sgd")):
        net.compile(optimizer=optimizer, loss="categorical_crossentropy")
    model.optimizer.learning_rate = 0.5
    theirs = reference.fit(ids, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    ours = model.fit(ids, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-4)
    for mine, keras_weight in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-4, atol=1e-6)
