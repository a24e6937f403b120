"""Image layers run on chunks of rows (``glassnet.engine.row_chunks``) compute what the
plain layer-by-layer code computes.

A ``Sequential`` plan runs each maximal run of row-independent layers holding an image
layer (convolutions, poolings, padding, ``Flatten``...) as one ``RowChunkRun``: each chunk
of rows goes through every layer of the run in a worker thread, and the chunks' weight
slopes are added in chunk order. The reference is ``Plan(..., chains=False)``, which runs
every layer's own ``forward``/``backward`` on the whole batch. The slopes differ from it
only in the order of a sum over rows, so they agree to float64 rounding; the records the
glass box reads are the same numbers, joined from the chunks.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from plan_reference import check_against_layer_by_layer, records_by_layer

import glassnet as keras
from glassnet import layers
from glassnet.engine import row_chunks
from glassnet.engine.plan import Plan
from glassnet.engine.row_chunks import RowChunkRun
from glassnet.explain import last_pass


@pytest.fixture
def small_chunks(monkeypatch, float64):
    """Chunks of a few rows, so that a batch of a test splits into several (float64
    models, to compare with the reference to float64 rounding)."""
    monkeypatch.setattr(row_chunks, "CHUNK_BYTES", 2_000)


def _compiled(stack, input_shape, loss="sparse_categorical_crossentropy"):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(shape=input_shape), *stack])
    model.compile(optimizer="sgd", loss=loss)
    return model


def _runs(model):
    return [step for step in model.plan.steps if isinstance(step, RowChunkRun)]


def _images(rows, shape=(10, 10, 2), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, *shape))
    y = rng.integers(0, 3, rows)
    return x, y


def test_a_convnet_runs_its_image_layers_as_one_chunked_step(small_chunks):
    model = _compiled(
        [
            layers.Conv2D(4, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(2),
            layers.Conv2D(5, 3, strides=1, activation="tanh"),
            layers.AveragePooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ],
        (10, 10, 2),
    )
    (run,) = _runs(model)
    assert [type(layer).__name__ for layer in run.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "AveragePooling2D", "Flatten"
    ]
    assert len(run.chunks(13)) > 3  # the test's batches really split
    x, y = _images(13)
    check_against_layer_by_layer(model, x, y)


@pytest.mark.parametrize("rows", [1, 2, 7])
def test_batches_of_any_size_split_and_join_in_order(small_chunks, rows):
    model = _compiled(
        [
            layers.Conv2D(3, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ],
        (10, 10, 2),
    )
    x, y = _images(rows, seed=rows)
    check_against_layer_by_layer(model, x, y)


def test_every_convolution_kind_writes_its_slopes_per_chunk(small_chunks):
    model = _compiled(
        [
            layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
            layers.SeparableConv2D(3, 3, padding="same"),
            layers.Conv2DTranspose(2, 3, strides=2),
            layers.Conv2D(3, 3, groups=1, use_bias=False),
            layers.ZeroPadding2D(1),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax"),
        ],
        (8, 8, 2),
    )
    assert len(_runs(model)[0].layers) == 6
    x, y = _images(9, shape=(8, 8, 2))
    check_against_layer_by_layer(model, x, y)


def test_joined_patches_are_those_of_a_pass_on_the_whole_batch(small_chunks):
    """The glass box reads the patches of a convolution's record (each row's share of a
    kernel slope): every layer keeps them rows first, so the chunks' records join along
    the rows into what one pass on the whole batch keeps."""
    model = _compiled(
        [
            layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
            layers.SeparableConv2D(3, 3, depth_multiplier=2, padding="same"),
            layers.Conv2DTranspose(2, 3, strides=2),
            layers.Conv2D(4, 3, groups=2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax"),
        ],
        (8, 8, 2),
    )
    x, y = _images(9, shape=(8, 8, 2))
    assert len(_runs(model)[0].chunks(len(x))) > 1

    def patches():
        model.compute_gradients(x, y)
        taken = {}
        for lp in last_pass(model).layers:
            kept = getattr(lp.record, "patches", None)
            if kept is not None:
                parts = kept if isinstance(kept, tuple) else (kept,)
                taken[lp.layer.name] = [np.array(part) for part in parts]
        return taken

    fast = patches()
    model._plan_cache = (model.storage, Plan(model.layers, model.storage, chains=False))
    reference = patches()
    assert fast.keys() == reference.keys() and len(fast) == 4
    for name, parts in reference.items():
        for part_fast, part_ref in zip(fast[name], parts, strict=True):
            assert part_fast.shape == part_ref.shape, name
            np.testing.assert_allclose(part_fast, part_ref, rtol=1e-12, atol=1e-14,
                                       err_msg=name)


def test_a_run_after_other_layers_passes_its_input_slope_back(small_chunks):
    """A chunked run that does not start the model must hand back the slope at its
    input (for the Dense layer before it); a frozen convolution writes no slope."""
    model = _compiled(
        [
            layers.Dense(50, activation="relu"),
            layers.Reshape((5, 5, 2)),
            layers.Conv2D(3, 2, activation="relu"),
            layers.Conv2D(2, 2, trainable=False),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ],
        (6,),
    )
    assert len(_runs(model)) == 1
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((11, 6)), rng.integers(0, 3, 11)
    check_against_layer_by_layer(model, x, y)


def test_one_dimensional_convolutions_run_in_chunks(small_chunks):
    model = _compiled(
        [
            layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
            layers.MaxPooling1D(2),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, activation="softmax"),
        ],
        (12, 3),
    )
    assert _runs(model)
    x, y = _images(10, shape=(12, 3))
    check_against_layer_by_layer(model, x, y)


def test_padding_cropping_and_resizing_layers_run_in_chunks(small_chunks):
    model = _compiled(
        [
            layers.Resizing(7, 9, crop_to_aspect_ratio=True),
            layers.Conv2D(3, 3, activation="relu"),
            layers.CenterCrop(4, 6),
            layers.Reshape((24, 3)),
            layers.ZeroPadding1D((1, 2)),
            layers.Cropping1D((2, 0)),
            layers.UpSampling1D(2),
            layers.Conv1D(2, 3),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, activation="softmax"),
        ],
        (10, 8, 2),
    )
    assert _runs(model)
    x, y = _images(9, shape=(10, 8, 2))
    check_against_layer_by_layer(model, x, y)


def test_random_layers_and_the_output_layer_stay_out_of_runs(small_chunks):
    model = _compiled(
        [
            layers.RandomFlip(seed=1),
            layers.Conv2D(3, 3, activation="relu"),
            layers.SpatialDropout2D(0.2, seed=1),
            layers.Conv2D(3, 3),
            layers.GlobalAveragePooling2D(),
        ],
        (10, 10, 2),
        loss="mse",
    )
    steps = model.plan.steps
    assert [type(step).__name__ for step in steps] == [
        "RandomFlip", "RowChunkRun", "SpatialDropout2D", "RowChunkRun", "GlobalAveragePooling2D"
    ]


def test_a_chunked_pass_is_the_same_every_time(small_chunks):
    model = _compiled(
        [
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ],
        (10, 10, 2),
    )
    x, y = _images(16)
    first = model.compute_gradients(x, y)[1]
    for _ in range(3):
        again = model.compute_gradients(x, y)[1]
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a, b)


def test_predict_from_several_threads_gives_each_its_own_rows(small_chunks):
    model = _compiled(
        [layers.Conv2D(3, 3, activation="relu"), layers.Flatten(), layers.Dense(3)],
        (10, 10, 2),
        loss="mse",
    )
    batches = [_images(9, seed=s)[0] for s in range(4)]
    expected = [model.predict(b, verbose=0) for b in batches]
    found = [None] * len(batches)

    def work(i):
        for _ in range(5):
            found[i] = model.predict(batches[i], verbose=0)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(found, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_blas_gets_its_thread_count_back_after_training():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if row_chunks.WORKERS.size < 2:
        pytest.skip("one core: the chunks run in the calling thread and BLAS is not touched")
    before = [info["num_threads"] for info in threadpoolctl.threadpool_info()
              if info["user_api"] == "blas"]
    model = _compiled(
        [layers.Conv2D(8, 3, activation="relu"), layers.Flatten(), layers.Dense(3)],
        (28, 28, 1),
        loss="mse",
    )
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    seen = []
    forward = model.layers[0].forward

    def spy(x, training=False):
        seen.append([info["num_threads"] for info in threadpoolctl.threadpool_info()
                     if info["user_api"] == "blas"])
        return forward(x, training)

    model.layers[0].forward = spy
    model.fit(x, np.zeros((64, 3)), batch_size=64, epochs=1, verbose=0)
    after = [info["num_threads"] for info in threadpoolctl.threadpool_info()
             if info["user_api"] == "blas"]
    assert after == before
    assert seen and all(counts == [1] * len(before) for counts in seen)


def test_a_functional_convnet_chunks_its_image_layers_too(small_chunks):
    """A graph with two image branches joined by ``Add``: each branch's run of image layers
    is one chunked step; slopes and records equal the layer-by-layer tape's."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input(shape=(9, 9, 2))
    left = layers.Conv2D(3, 3, activation="relu", padding="same")(inputs)
    left = layers.MaxPooling2D(3)(left)
    right = layers.Conv2D(3, 3, strides=3, activation="tanh")(inputs)
    joined = layers.Add()([left, right])
    flat = layers.Flatten()(layers.Conv2D(2, 2, activation="relu")(joined))
    outputs = layers.Dense(3, activation="softmax")(flat)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    from glassnet.engine.graph_plan import CompiledGraphPlan, GraphPlan

    plan = model.plan
    assert isinstance(plan, CompiledGraphPlan)
    runs = [step[0] for step in plan._steps if isinstance(step[0], RowChunkRun)]
    assert [[type(layer).__name__ for layer in run.layers] for run in runs] == [
        ["Conv2D", "MaxPooling2D"], ["Conv2D"], ["Conv2D", "Flatten"]
    ]
    x, y = _images(11, shape=(9, 9, 2))
    loss_fast, grads_fast = model.compute_gradients(x, y)
    fast = records_by_layer(model)
    model._plan_cache = (model.storage, GraphPlan(model))
    loss_ref, grads_ref = model.compute_gradients(x, y)
    ref = records_by_layer(model)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-12)
    for g_fast, g_ref in zip(grads_fast, grads_ref, strict=True):
        np.testing.assert_allclose(g_fast, g_ref, rtol=1e-9, atol=1e-12)
    by_name = {name: (out, rec) for name, out, rec in ref}
    for name, out, rec in fast:
        np.testing.assert_allclose(out, by_name[name][0], rtol=1e-12, atol=1e-14, err_msg=name)
        for field, value in rec.items():
            if value is not None and by_name[name][1].get(field) is not None:
                np.testing.assert_allclose(
                    value, by_name[name][1][field], rtol=1e-10, atol=1e-13,
                    err_msg=f"{name}.{field}",
                )


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_gradient_tape_slopes_equal_fits_bit_for_bit_through_chunked_runs(style, monkeypatch):
    monkeypatch.setattr(row_chunks, "CHUNK_BYTES", 3_000)
    keras.utils.set_random_seed(1)
    stack = [layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
             layers.Dense(3)]
    if style == "sequential":
        model = keras.Sequential([keras.Input(shape=(10, 10, 2)), *stack])
    else:
        inputs = keras.Input(shape=(10, 10, 2))
        value = inputs
        for layer in stack:
            value = layer(value)
        model = keras.Model(inputs, value)
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.random((13, 10, 10, 2)).astype("float32")
    y = rng.random((13, 3)).astype("float32")
    _, from_fit = model.compute_gradients(x, y)
    with keras.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    from_tape = tape.gradient(loss, model.trainable_weights)
    for a, b in zip(from_fit, from_tape, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))
