"""Images from files: ``image_dataset_from_directory``, ``load_img``, ``img_to_array`` and
``array_to_img``, as in ``keras.utils`` (``keras/src/utils/image_dataset_utils.py``,
``image_utils.py``). Reading image files needs Pillow (``pip install pillow``, or the
``images`` extra).

``image_dataset_from_directory`` lists a folder with one sub-folder per class and returns a
re-iterable ``ImageBatches``: each pass reads the files of one batch at a time (never the
whole folder), resized to ``image_size``, as float32 ``(x, y)`` batches that ``fit``,
``evaluate`` and ``predict`` take directly. The files are listed and split as Keras lists
and splits them (sub-folders and files in sorted order, shuffled with
``numpy.random.RandomState(seed)``, the last ``validation_split`` share for validation), so
the same seed puts the same files in each subset. Pixels are resized with Pillow's
bilinear filter, not TensorFlow's, so resized pixel values differ slightly from Keras's.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_COLOR_MODES = {"rgb": ("RGB", 3), "grayscale": ("L", 1), "rgba": ("RGBA", 4)}
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Reading images needs Pillow. Install it with pip install pillow (from a clone of "
            "glassnet: pip install '.[images]')"
        ) from None
    return Image


def _size_pair(value, what: str):
    if value is None:
        return None
    try:
        pair = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or min(pair) <= 0:
        raise ValueError(
            f"`{what}` must be (height, width), two positive integers. Received: {what}={value!r}"
        )
    return pair


def load_img(
    path,
    color_mode: str = "rgb",
    target_size=None,
    interpolation="nearest",
    keep_aspect_ratio: bool = False,
):
    """Loads an image file as a Pillow image (``keras.utils.load_img``).

    Args:
        path: the file.
        color_mode: ``"rgb"``, ``"grayscale"`` or ``"rgba"``.
        target_size: ``(height, width)`` to resize to, or ``None``.
        interpolation: Pillow's resampling filter by name (Keras's default ``"nearest"``).

    Raises:
        ValueError: for a file that is not a readable image, naming it.
    """
    image_module = _pil()
    if color_mode not in _COLOR_MODES:
        raise ValueError(
            f"`color_mode` must be 'rgb', 'grayscale' or 'rgba'. "
            f"Received: color_mode={color_mode!r}"
        )
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {', '.join(_INTERPOLATIONS)}. "
            f"Received: interpolation={interpolation!r}"
        )
    target_size = _size_pair(target_size, "target_size")
    try:
        with image_module.open(path) as opened:
            image = opened.convert(_COLOR_MODES[color_mode][0])
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"Cannot read the image file {str(path)!r}: {error}") from None
    if target_size is not None and image.size != (target_size[1], target_size[0]):
        if keep_aspect_ratio:
            width, height = image.size
            scale = min(width / target_size[1], height / target_size[0])
            crop_w, crop_h = int(target_size[1] * scale), int(target_size[0] * scale)
            left, top = (width - crop_w) // 2, (height - crop_h) // 2
            image = image.crop((left, top, left + crop_w, top + crop_h))
        resample = getattr(image_module.Resampling, interpolation.upper())
        image = image.resize((target_size[1], target_size[0]), resample)
    return image


def img_to_array(img, data_format=None, dtype="float32") -> np.ndarray:
    """A Pillow image as an array ``(height, width, channels)`` (``channels_first``:
    ``(channels, height, width)``)."""
    array = np.asarray(img, dtype=dtype)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"Unsupported image shape: {array.shape}")
    return np.moveaxis(array, -1, 0).copy() if data_format == "channels_first" else array


def array_to_img(x, data_format=None, scale: bool = True, dtype=None):
    """An array ``(height, width, channels)`` with 1, 3 or 4 channels as a Pillow image;
    with ``scale``, values are stretched to 0-255 first (as Keras does)."""
    image_module = _pil()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(
            f"Expected an image array of rank 3 (height, width, channels); "
            f"received an array of shape {x.shape}"
        )
    if data_format == "channels_first":
        x = np.moveaxis(x, 0, -1)
    if scale:
        x = x - x.min()
        top = x.max()
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[-1]
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if channels not in modes:
        raise ValueError(f"An image needs 1, 3 or 4 channels; received {channels}")
    pixels = np.clip(np.round(x), 0, 255).astype(np.uint8)
    return image_module.fromarray(pixels[:, :, 0] if channels == 1 else pixels, modes[channels])


def _list_files(directory: Path, follow_links: bool) -> list[Path]:
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links)):
        for name in sorted(files):
            if name.lower().endswith(ALLOWED_FORMATS):
                found.append(Path(root) / name)
    return found


class ImageBatches:
    """``(x, y)`` batches of images read from files, one batch at a time.

    Iterate it for one epoch (reshuffled each epoch when ``shuffle``); ``len()`` is the
    number of batches; ``class_names`` and ``file_paths`` describe what it holds.
    """

    def __init__(
        self,
        files,
        labels,
        class_names,
        label_mode,
        color_mode,
        batch_size,
        image_size,
        shuffle,
        seed,
        interpolation,
        crop_to_aspect_ratio,
    ):
        self.file_paths = [str(f) for f in files]
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.class_names = class_names
        self.label_mode = label_mode
        self.color_mode = color_mode
        self.batch_size = batch_size
        self.image_size = image_size
        self.shuffle = shuffle
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.file_paths) // self.batch_size)

    def _targets(self, index):
        labels = self.labels[index]
        if self.label_mode == "int":
            return labels
        if self.label_mode == "binary":
            return labels.astype(np.float32).reshape(-1, 1)
        return np.eye(len(self.class_names), dtype=np.float32)[labels]

    def _images(self, index) -> np.ndarray:
        images = []
        for i in index:
            path = self.file_paths[i]
            image = img_to_array(
                load_img(
                    path,
                    self.color_mode,
                    self.image_size,
                    self.interpolation,
                    self.crop_to_aspect_ratio,
                )
            )
            if images and image.shape != images[0].shape:
                raise ValueError(
                    f"Images of different sizes in one batch: {path!r} is "
                    f"{image.shape[1]}x{image.shape[0]}, {self.file_paths[index[0]]!r} is "
                    f"{images[0].shape[1]}x{images[0].shape[0]}. Give image_size=(height, "
                    "width) to resize them all"
                )
            images.append(image)
        return np.stack(images)

    def __iter__(self):
        order = (
            self._rng.permutation(len(self.file_paths))
            if self.shuffle
            else np.arange(len(self.file_paths))
        )
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            x = self._images(index)
            if self.labels is None or self.label_mode is None:
                yield (x,)
            else:
                yield x, self._targets(index)

    def __repr__(self) -> str:
        return (
            f"<ImageBatches {len(self.file_paths)} files, {len(self)} batches of "
            f"{self.batch_size}, classes {self.class_names}>"
        )


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    verbose=True,
    **kwargs,
):
    """Batches of images from a folder with one sub-folder per class
    (``keras.utils.image_dataset_from_directory``).

    Args:
        directory: the folder; with ``labels="inferred"``, its sub-folders are the classes
            (in sorted order, or the order of ``class_names``).
        labels: ``"inferred"``, ``None`` (no labels) or one integer label per file, in
            the sorted order of the file paths.
        label_mode: ``"int"`` (class indices), ``"categorical"`` (one-hot), ``"binary"``
            (0/1, for two classes) or ``None``.
        color_mode: ``"rgb"``, ``"grayscale"`` or ``"rgba"``.
        batch_size: images per batch.
        image_size: ``(height, width)`` every image is resized to; ``None`` keeps sizes
            (then they must all be equal).
        shuffle, seed: the file order (and a fresh order every epoch).
        validation_split, subset: hold out the last ``validation_split`` of the files;
            ``subset`` is ``"training"``, ``"validation"`` or ``"both"`` (a pair).

    Returns:
        An ``ImageBatches`` (a pair for ``subset="both"``).

    Raises:
        ValueError: for a missing folder, no images, or arguments Keras refuses.
    """
    kwargs.pop("data_format", None)
    kwargs.pop("pad_to_aspect_ratio", None)
    kwargs.pop("format", None)
    if kwargs:
        raise TypeError(
            f"image_dataset_from_directory got unexpected argument(s): {', '.join(sorted(kwargs))}"
        )
    _pil()
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"image_dataset_from_directory: {str(directory)!r} is not a folder")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f"`label_mode` must be 'int', 'categorical', 'binary' or None. "
            f"Received: label_mode={label_mode!r}"
        )
    if color_mode not in _COLOR_MODES:
        raise ValueError(
            f"`color_mode` must be 'rgb', 'grayscale' or 'rgba'. "
            f"Received: color_mode={color_mode!r}"
        )
    image_size = _size_pair(image_size, "image_size")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size!r}")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(
            f"`subset` must be 'training', 'validation', 'both' or None. "
            f"Received: subset={subset!r}"
        )
    if (validation_split is None) != (subset is None):
        raise ValueError("`validation_split` and `subset` must be given together")
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be in (0, 1). Received: {validation_split}")
    if validation_split is not None and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide "
            "a `seed` argument, to make sure that there is no overlap between "
            "the training and validation subset."
        )
    if labels == "inferred":
        folders = sorted(p.name for p in directory.iterdir() if p.is_dir())
        if class_names is not None:
            missing = set(class_names) - set(folders)
            if missing:
                raise ValueError(
                    f"`class_names` {sorted(missing)} are not sub-folders of "
                    f"{str(directory)!r} (found: {folders})"
                )
            folders = list(class_names)
        files, file_labels = [], []
        for index, name in enumerate(folders):
            found = _list_files(directory / name, follow_links)
            files += found
            file_labels += [index] * len(found)
        class_names = folders
    else:
        if class_names is not None:
            raise ValueError("`class_names` is only valid with labels='inferred'")
        files = _list_files(directory, follow_links)
        file_labels = None
        if labels is not None:
            file_labels = [int(v) for v in labels]
            if len(file_labels) != len(files):
                raise ValueError(
                    f"`labels` has {len(file_labels)} values, but "
                    f"{str(directory)!r} holds {len(files)} image files"
                )
            class_names = [str(v) for v in sorted(set(file_labels))]
    if not files:
        raise ValueError(
            f"No images found in {str(directory)!r}. Allowed formats: {ALLOWED_FORMATS}"
        )
    if label_mode == "binary" and class_names is not None and len(class_names) != 2:
        raise ValueError(
            f"label_mode='binary' needs exactly 2 classes; found {len(class_names)}: {class_names}"
        )
    files = [str(f) for f in files]
    if shuffle:  # Keras's index_directory: the same seed shuffles paths and labels alike
        seed_used = np.random.randint(1_000_000) if seed is None else seed
        np.random.RandomState(seed_used).shuffle(files)
        if file_labels is not None:
            np.random.RandomState(seed_used).shuffle(file_labels)
    if verbose:
        classes = f" belonging to {len(class_names)} classes" if class_names else ""
        print(f"Found {len(files)} files{classes}.")
    labels_or_none = None if labels is None else file_labels

    def part(start, stop):
        chosen = slice(start, stop)
        return ImageBatches(
            files[chosen],
            None if labels_or_none is None else labels_or_none[chosen],
            class_names,
            label_mode,
            color_mode,
            batch_size,
            image_size,
            shuffle,
            seed,
            interpolation,
            crop_to_aspect_ratio,
        )

    if validation_split is None:
        return part(None, None)
    held = int(validation_split * len(files))
    if verbose and subset in ("training", "both"):
        print(f"Using {len(files) - held} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {held} files for validation.")
    training, validation = part(None, len(files) - held), part(len(files) - held, None)
    return {"training": training, "validation": validation, "both": (training, validation)}[subset]
