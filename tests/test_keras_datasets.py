"""Keras's dataset loaders (``glassnet.datasets.mnist`` ...): small files of each real format
are put in a temporary ``KERAS_HOME`` under the names Keras uses, and each module's hash is
pointed at them (the real hashes are those of keras/src/datasets/*.py, checked below). No
test uses the network. Where Keras is installed, its own loaders read the same files (their
``get_file`` pointed at them) and must return the same arrays.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
from ci_tools import require_tool

import glassnet
from glassnet import config
from glassnet.datasets import (
    _keras_files,
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def put(home, name: str, data: bytes, module, monkeypatch, attr: str = "SHA256") -> None:
    """Writes ``data`` as the cached file ``name`` and makes ``module`` expect its hash."""
    path = home / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = hashlib.md5 if attr == "WORD_INDEX_MD5" else hashlib.sha256
    monkeypatch.setattr(module, attr, digest(data).hexdigest())


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def ragged(rng, rows: int, longest: int, vocabulary: int) -> np.ndarray:
    out = np.empty(rows, dtype=object)
    for i in range(rows):
        out[i] = list(rng.integers(1, vocabulary, size=int(rng.integers(2, longest))).tolist())
    return out


def keras_loader(module_name: str, path: str, monkeypatch):
    """Keras's own loader, its ``get_file`` returning ``path`` (Keras skipped if missing)."""
    require_tool("keras", "compares the loaders with keras.datasets")
    import importlib

    module = importlib.import_module(f"keras.src.datasets.{module_name}")
    monkeypatch.setattr(module, "get_file", lambda *a, **k: path)
    return module


# --- mnist, fashion_mnist ----------------------------------------------------------------------


def test_mnist(home, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    put(home, "mnist.npz", npz_bytes(**arrays), mnist, monkeypatch)
    (x_train, y_train), (x_test, y_test) = glassnet.datasets.mnist.load_data()
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28)
    for got, key in zip((x_train, y_train, x_test, y_test), arrays, strict=True):
        np.testing.assert_array_equal(got, arrays[key])


def test_fashion_mnist_reads_the_idx_files(home, monkeypatch):
    rng = np.random.default_rng(1)
    images = {"train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "t10k": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)}  # fmt: skip
    labels = {"train": np.array([0, 9, 3, 3, 1], np.uint8), "t10k": np.array([7, 2], np.uint8)}
    folder = home / "fashion-mnist"
    folder.mkdir()
    for part in ("train", "t10k"):
        header = b"\x00\x00\x08\x03" + b"\x00" * 12
        (folder / f"{part}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(header + images[part].tobytes())
        )
        (folder / f"{part}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 4 + labels[part].tobytes())
        )
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, images["train"])
    np.testing.assert_array_equal(y_test, labels["t10k"])
    assert x_test.shape == (2, 28, 28) and y_train.dtype == np.uint8


# --- cifar -------------------------------------------------------------------------------------


def cifar_pickle(rng, rows: int, label_keys=("labels",)) -> tuple[bytes, np.ndarray, dict]:
    data = rng.integers(0, 256, (rows, 3072), dtype=np.uint8)
    labels = {key: rng.integers(0, 10, rows).tolist() for key in label_keys}
    content = {b"batch_label": b"x", b"data": data, **{k.encode(): v for k, v in labels.items()}}
    return pickle.dumps(content, protocol=4), data, labels


def tar_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def cifar10_files(home, monkeypatch):
    rng = np.random.default_rng(2)
    members, datas, labels = {}, [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        blob, data, lab = cifar_pickle(rng, 2)
        members[f"cifar-10-batches-py/{name}"] = blob
        datas.append(data)
        labels.append(lab["labels"])
    put(home, "cifar-10-batches-py-target_archive", tar_of(members), cifar10, monkeypatch)
    return datas, labels


def test_cifar10_channels_last_and_first(cifar10_files, monkeypatch):
    datas, labels = cifar10_files
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8 and y_test.shape == (2, 1)
    expected = np.concatenate(datas[:5]).reshape(10, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(x_train, expected)
    np.testing.assert_array_equal(y_train[:, 0], sum(labels[:5], []))
    monkeypatch.setattr(config, "_IMAGE_DATA_FORMAT", "channels_first")
    (x_first, _), _ = cifar10.load_data()  # the archive is already extracted
    assert x_first.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(x_first.transpose(0, 2, 3, 1), x_train)


def test_cifar100_label_modes(home, monkeypatch):
    rng = np.random.default_rng(3)
    train, data, labels = cifar_pickle(rng, 4, ("fine_labels", "coarse_labels"))
    test, _, _ = cifar_pickle(rng, 2, ("fine_labels", "coarse_labels"))
    archive = tar_of({"cifar-100-python/train": train, "cifar-100-python/test": test})
    put(home, "cifar-100-python-target_archive", archive, cifar100, monkeypatch)
    (x_train, y_fine), _ = cifar100.load_data()
    (_, y_coarse), (x_test, _) = cifar100.load_data(label_mode="coarse")
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(y_fine[:, 0], labels["fine_labels"])
    np.testing.assert_array_equal(y_coarse[:, 0], labels["coarse_labels"])
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    evil = tmp_path / "data_batch_1"
    evil.write_bytes(pickle.dumps({b"data": Boom(), b"labels": [1]}, protocol=4))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to deserialize `posix.system`"):
        _keras_files.load_cifar_batch(evil)
    npz = tmp_path / "evil.npz"
    bad = np.empty(1, dtype=object)
    bad[0] = Boom()
    np.savez(npz, x=bad)
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        _keras_files.load_npz(npz)


@pytest.mark.keras
def test_cifar_batches_read_as_keras_reads_them(cifar10_files, home):
    # Keras's cifar10.load_data fixes 50,000 rows, so the oracle is its load_batch.
    require_tool("keras", "compares with keras.datasets")
    from keras.src.datasets.cifar import load_batch

    cifar10.load_data()  # extracts the archive
    batch = home / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "data_batch_3"
    ours, theirs = _keras_files.load_cifar_batch(batch), load_batch(str(batch))
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]


# --- imdb, reuters -----------------------------------------------------------------------------


@pytest.fixture
def imdb_file(home, monkeypatch):
    rng = np.random.default_rng(4)
    arrays = {
        "x_train": ragged(rng, 12, 9, 40),
        "y_train": rng.integers(0, 2, 12),
        "x_test": ragged(rng, 8, 9, 40),
        "y_test": rng.integers(0, 2, 8),
    }
    put(home, "imdb.npz", npz_bytes(**arrays), imdb, monkeypatch)
    return home / "imdb.npz"


IMDB_CASES = [
    {},
    {"num_words": 20, "skip_top": 3},
    {"maxlen": 7},
    {"start_char": None, "oov_char": None, "num_words": 25, "index_from": 0},
    {"seed": 7, "index_from": 5},
]


@pytest.mark.parametrize("kwargs", IMDB_CASES)
def test_imdb_shapes(imdb_file, kwargs):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**kwargs)
    assert x_train.dtype == object and x_train.ndim == 1 and len(x_train) == len(y_train)
    if kwargs.get("start_char", 1) is not None and not kwargs.get("skip_top"):
        assert all(row[0] == kwargs.get("start_char", 1) for row in x_train)
    if "maxlen" in kwargs:
        assert all(len(row) < kwargs["maxlen"] for row in x_test)
    if kwargs.get("num_words"):
        assert max(max(row) for row in x_train) < kwargs["num_words"]


@pytest.mark.keras
@pytest.mark.parametrize("kwargs", IMDB_CASES)
def test_imdb_equals_keras(imdb_file, kwargs, monkeypatch):
    ours = imdb.load_data(**kwargs)
    theirs = keras_loader("imdb", str(imdb_file), monkeypatch).load_data(**kwargs)
    for (ox, oy), (tx, ty) in zip(ours, theirs, strict=True):
        assert [list(r) for r in ox] == [list(r) for r in tx]
        np.testing.assert_array_equal(oy, ty)


def test_imdb_maxlen_that_keeps_nothing(imdb_file):
    with pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(maxlen=1)


@pytest.fixture
def reuters_file(home, monkeypatch):
    rng = np.random.default_rng(5)
    arrays = {"x": ragged(rng, 20, 10, 50), "y": rng.integers(0, 46, 20)}
    put(home, "reuters.npz", npz_bytes(**arrays), reuters, monkeypatch)
    return home / "reuters.npz"


@pytest.mark.keras
@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "num_words": 30}, {"maxlen": 8}])
def test_reuters_equals_keras(reuters_file, kwargs, monkeypatch):
    ours = reuters.load_data(**kwargs)
    theirs = keras_loader("reuters", str(reuters_file), monkeypatch).load_data(**kwargs)
    for (ox, oy), (tx, ty) in zip(ours, theirs, strict=True):
        assert [list(r) for r in ox] == [list(r) for r in tx]
        np.testing.assert_array_equal(oy, ty)


def test_reuters_split_and_label_names(reuters_file):
    (x_train, y_train), (x_test, y_test) = reuters.load_data()
    assert (len(x_train), len(x_test)) == (16, 4)  # int(20 * 0.8)
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:3] == ("cocoa", "grain", "veg-oil") and names[-1] == "lead"


@pytest.mark.parametrize("module", [imdb, reuters])
def test_word_index(home, monkeypatch, module):
    name = f"{module.__name__.rsplit('.', 1)[1]}_word_index.json"
    put(home, name, b'{"the": 1, "and": 2}', module, monkeypatch, attr="WORD_INDEX_MD5")
    assert module.get_word_index() == {"the": 1, "and": 2}


@pytest.mark.keras
def test_reuters_label_names_are_keras_s():
    require_tool("keras", "compares with keras.datasets.reuters")
    import keras

    assert reuters.get_label_names() == tuple(keras.datasets.reuters.get_label_names())


# --- boston_housing, california_housing -------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name", "columns", "kwargs"),
    [
        (boston_housing, "boston_housing.npz", 13, {}),
        (boston_housing, "boston_housing.npz", 13, {"test_split": 0.3, "seed": 1}),
        (california_housing, "california_housing.npz", 8, {}),
        (california_housing, "california_housing.npz", 8, {"version": "small"}),
    ],
)
def test_housing_split_like_keras(home, monkeypatch, module, name, columns, kwargs):
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(700, columns)), rng.normal(size=700)
    put(home, name, npz_bytes(x=x, y=y), module, monkeypatch)
    (x_train, y_train), (x_test, y_test) = module.load_data(**kwargs)
    rows = 600 if kwargs.get("version") == "small" else 700
    cut = int(rows * (1 - kwargs.get("test_split", 0.2)))
    order = np.arange(rows)
    np.random.RandomState(kwargs.get("seed", 113)).shuffle(order)
    np.testing.assert_array_equal(x_train, x[:rows][order][:cut])
    np.testing.assert_array_equal(y_test, y[:rows][order][cut:])
    assert x_train.dtype == np.float64 and len(x_test) == rows - cut
    if require_keras_quietly():
        k = keras_loader(module.__name__.rsplit(".", 1)[1], str(home / name), monkeypatch)
        (kx, ky), (kxt, kyt) = k.load_data(**kwargs)
        np.testing.assert_array_equal(kx, x_train)
        np.testing.assert_array_equal(kyt, y_test)


def require_keras_quietly() -> bool:
    try:
        import keras  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("split", [1.0, -0.1, 2])
def test_bad_test_split(home, split):
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=split)
    with pytest.raises(ValueError, match="test_split"):
        california_housing.load_data(test_split=split)


def test_bad_version_is_refused_before_any_download(home):
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")


# --- offline -----------------------------------------------------------------------------------


def test_offline_loader_names_the_url_and_the_cache_path(home, monkeypatch):
    from glassnet.utils.file_utils import DownloadError

    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", "http://127.0.0.1:9/")
    with pytest.raises(DownloadError) as caught:
        mnist.load_data()
    message = str(caught.value)
    assert "http://127.0.0.1:9/mnist.npz" in message
    assert str(home / "mnist.npz") in message and "place it by hand" in message


def test_the_hashes_and_urls_are_keras_s():
    # keras/src/datasets/*.py (3.15)
    assert _keras_files.ORIGIN_FOLDER == (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    )
    assert mnist.SHA256.startswith("731c5ac6") and imdb.SHA256.startswith("69664113")
    assert reuters.SHA256.startswith("d6586e69") and boston_housing.SHA256.startswith("f553886a")
    assert california_housing.SHA256.startswith("1a2e3a52")
    assert cifar10.SHA256.startswith("6d958be0") and cifar100.SHA256.startswith("85cd44d0")
    assert cifar10.ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def test_the_bundled_datasets_api_is_unchanged():
    from glassnet import datasets

    assert "mnist_sample" in datasets.names() and callable(datasets.load)
    assert datasets.ALIASES["mnist"] == "mnist_sample"
    assert datasets.mnist is mnist
