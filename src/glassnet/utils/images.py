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
the same seed puts the same files in each subset; sub-folders whose names start with ``.``
(``.ipynb_checkpoints``) are not classes.

The pixels are the ones Keras's ``tf.data`` pipeline gives (``_load_image_tf`` there):
``"bilinear"`` (the default) and ``"nearest"`` resizing compute TensorFlow's
``tf.image.resize`` (half-pixel centres, no antialiasing, float32), and
``crop_to_aspect_ratio``/``pad_to_aspect_ratio`` cut or pad as Keras's ``smart_resize`` and
TensorFlow's ``resize_with_pad`` do; a colour PNG read with ``color_mode="grayscale"`` is
turned grey by libpng's rule, as TensorFlow's PNG decoder does. The other interpolations
use Pillow's filter of that kind, and JPEG files are decoded by Pillow's libjpeg, so their
pixels can differ from Keras's by a few levels. ``load_img`` is Pillow-based, as Keras's is.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from glassnet.config import image_data_format

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


# image_dataset_from_directory's interpolations (Keras's list): the two TensorFlow computes
# here exactly, and the Pillow filter standing in for each of the others.
_TF_EXACT = ("bilinear", "nearest")
_PILLOW_STAND_INS = {
    "bicubic": "BICUBIC",
    "area": "BOX",
    "lanczos3": "LANCZOS",
    "lanczos5": "LANCZOS",
}
_NOT_OFFERED = ("gaussian", "mitchellcubic")
# Colour modes whose grey TensorFlow's PNG decoder computes with libpng's rule.
_COLOUR_MODES = ("RGB", "RGBA", "RGBX", "P", "PA")


def _decode(path, color_mode: str) -> np.ndarray:
    """A file's pixels, uint8 ``(height, width, channels)``, as ``tf.image.decode_image``
    gives them: for ``"grayscale"``, a colour PNG goes grey by libpng's
    ``png_set_rgb_to_gray(png, 1, 0.299, 0.587)`` in its 15-bit fixed point,
    ``(9797 R + 19234 G + 3737 B) >> 15`` (alpha dropped), where Pillow would round
    ``0.299 R + 0.587 G + 0.114 B``."""
    image_module = _pil()
    try:
        with image_module.open(path) as opened:
            if (
                color_mode == "grayscale"
                and opened.format == "PNG"
                and opened.mode in _COLOUR_MODES
            ):
                rgb = np.asarray(opened.convert("RGB"), dtype=np.uint32)
                grey = (9797 * rgb[..., 0] + 19234 * rgb[..., 1] + 3737 * rgb[..., 2]) >> 15
                return grey.astype(np.uint8)[:, :, None]
            pixels = np.asarray(opened.convert(_COLOR_MODES[color_mode][0]))
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"Cannot read the image file {str(path)!r}: {error}") from None
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _source_points(out_size: int, in_size: int, shift: bool = True) -> np.ndarray:
    """Where TensorFlow's resize reads each output row or column: half-pixel centres,
    ``(i + 0.5) * (in / out) - 0.5`` (``HalfPixelScaler`` in TensorFlow's
    ``image_resizer_state.h``; without the ``- 0.5`` for nearest, its
    ``HalfPixelScalerForNN``), in float32."""
    scale = np.float32(in_size) / np.float32(out_size)
    points = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale
    return points - np.float32(0.5) if shift else points


def _tf_resize(pixels: np.ndarray, size, interpolation: str) -> np.ndarray:
    """``tf.image.resize(pixels, size, method=interpolation)`` (no antialiasing), float32.

    ``"bilinear"``: each output pixel mixes its four neighbours as TensorFlow's
    ``resize_bilinear_op.cc`` does (``top + (bottom - top) * y_lerp``, each row
    ``left + (right - left) * x_lerp``, in float32); ``"nearest"``: the pixel at
    ``floor((i + 0.5) * in / out)``. Other interpolations use Pillow's filter of that kind.
    """
    height, width = pixels.shape[:2]
    if interpolation == "nearest":
        rows, cols = (
            np.minimum(np.floor(_source_points(o, n, shift=False)), n - 1).astype(np.int64)
            for o, n in zip(size, (height, width), strict=True)
        )
        return pixels[rows][:, cols].astype(np.float32)
    if interpolation == "bilinear":
        image = pixels.astype(np.float32)
        (top, bottom, y_lerp), (left, right, x_lerp) = (
            _lerp_ends(o, n) for o, n in zip(size, (height, width), strict=True)
        )
        x_lerp, y_lerp = x_lerp[None, :, None], y_lerp[:, None, None]
        upper, lower = image[top], image[bottom]
        upper = upper[:, left] + (upper[:, right] - upper[:, left]) * x_lerp
        lower = lower[:, left] + (lower[:, right] - lower[:, left]) * x_lerp
        return upper + (lower - upper) * y_lerp
    if (height, width) == tuple(size):
        return pixels.astype(np.float32)
    image_module = _pil()
    channels = pixels.shape[-1]
    image = image_module.fromarray(pixels[:, :, 0] if channels == 1 else pixels)
    resample = getattr(image_module.Resampling, _PILLOW_STAND_INS[interpolation])
    return img_to_array(image.resize((size[1], size[0]), resample))


def _lerp_ends(out_size: int, in_size: int):
    """TensorFlow's ``compute_interpolation_weights``: the lower and upper source index of
    each output row or column (clipped to the image) and the share of the upper one."""
    points = _source_points(out_size, in_size)
    floor = np.floor(points)
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(points), in_size - 1).astype(np.int64)
    return lower, upper, (points - floor).astype(np.float32)


def _crop_box(height: int, width: int, size):
    """Keras's ``smart_resize`` crop: the largest centred box of the target's aspect ratio
    (its float32 branch, the one ``tf.data`` runs)."""
    target_height, target_width = size
    f32 = np.float32
    crop_height = int(f32(width * target_height) / f32(target_width))
    crop_height = max(min(height, crop_height), 1)
    crop_width = int(f32(height * target_width) / f32(target_height))
    crop_width = max(min(width, crop_width), 1)
    top = int(f32(height - crop_height) / f32(2))
    left = int(f32(width - crop_width) / f32(2))
    return top, left, crop_height, crop_width


def _resize_with_pad(pixels: np.ndarray, size, interpolation: str) -> np.ndarray:
    """TensorFlow's ``resize_with_pad``: resized to fit inside ``size`` with its aspect
    ratio kept (float32 arithmetic, as in ``_resize_image_with_pad_common``), then padded
    with zeros, centred."""
    f32 = np.float32
    height, width = f32(pixels.shape[0]), f32(pixels.shape[1])
    target_height, target_width = f32(size[0]), f32(size[1])
    ratio = max(width / target_width, height / target_height)
    new_height, new_width = height / ratio, width / ratio
    top = max(0, int(np.floor((target_height - new_height) / f32(2))))
    left = max(0, int(np.floor((target_width - new_width) / f32(2))))
    resized = _tf_resize(
        pixels, (int(np.floor(new_height)), int(np.floor(new_width))), interpolation
    )
    out = np.zeros((size[0], size[1], pixels.shape[-1]), dtype=np.float32)
    out[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return out


def _dataset_image(path, color_mode, image_size, interpolation, crop, pad) -> np.ndarray:
    """One image as Keras's ``_load_image_tf`` makes it: decoded, then resized (after a
    crop, or with padding), float32 ``(height, width, channels)``."""
    pixels = _decode(path, color_mode)
    if image_size is None:
        return pixels.astype(np.float32)
    if crop:
        top, left, crop_height, crop_width = _crop_box(*pixels.shape[:2], image_size)
        pixels = pixels[top : top + crop_height, left : left + crop_width]
    elif pad:
        return _resize_with_pad(pixels, image_size, interpolation)
    return _tf_resize(pixels, image_size, interpolation)


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
        pad_to_aspect_ratio=False,
        data_format="channels_last",
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
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format
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
            image = _dataset_image(
                path,
                self.color_mode,
                self.image_size,
                self.interpolation,
                self.crop_to_aspect_ratio,
                self.pad_to_aspect_ratio,
            )
            if images and image.shape != images[0].shape:
                raise ValueError(
                    f"Images of different sizes in one batch: {path!r} is "
                    f"{image.shape[1]}x{image.shape[0]}, {self.file_paths[index[0]]!r} is "
                    f"{images[0].shape[1]}x{images[0].shape[0]}. Give image_size=(height, "
                    "width) to resize them all"
                )
            images.append(image)
        batch = np.stack(images)
        return np.moveaxis(batch, -1, 1).copy() if self.data_format == "channels_first" else batch

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
    pad_to_aspect_ratio=False,
    data_format=None,
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
            ``subset`` is ``"training"``, ``"validation"`` or ``"both"`` (a pair; its
            validation part is not reshuffled, as in Keras).
        interpolation: ``"bilinear"`` or ``"nearest"`` (TensorFlow's numbers), or
            ``"bicubic"``, ``"area"``, ``"lanczos3"``, ``"lanczos5"`` (Pillow's filters).
        crop_to_aspect_ratio: cut the largest centred box of ``image_size``'s aspect ratio
            out of each image before resizing.
        pad_to_aspect_ratio: resize keeping the aspect ratio and pad with zeros.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default:
            ``keras.config.image_data_format()``).

    Returns:
        An ``ImageBatches`` (a pair for ``subset="both"``).

    Raises:
        ValueError: for a missing folder, no images, or arguments Keras refuses.
    """
    kwargs.pop("format", None)  # "tf" or "grain": which pipeline Keras builds
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
    if interpolation in _NOT_OFFERED or interpolation not in (*_TF_EXACT, *_PILLOW_STAND_INS):
        offered = ", ".join(repr(v) for v in (*_TF_EXACT, *_PILLOW_STAND_INS))
        raise ValueError(
            f"`interpolation` must be one of {offered} (Keras's {', '.join(_NOT_OFFERED)} "
            f"are not offered by glassnet). Received: interpolation={interpolation!r}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
        )
    if data_format is None:
        data_format = image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
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
        # Keras's index_directory: sub-folders in sorted order, hidden ones (".name") left out
        folders = sorted(
            p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
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

    def part(start, stop, reshuffle=shuffle):
        chosen = slice(start, stop)
        return ImageBatches(
            files[chosen],
            None if labels_or_none is None else labels_or_none[chosen],
            class_names,
            label_mode,
            color_mode,
            batch_size,
            image_size,
            reshuffle,
            seed,
            interpolation,
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
            data_format,
        )

    if validation_split is None:
        return part(None, None)
    held = int(validation_split * len(files))
    if verbose and subset in ("training", "both"):
        print(f"Using {len(files) - held} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {held} files for validation.")
    training = part(None, len(files) - held)
    if subset == "training":
        return training
    if subset == "validation":  # shuffled each pass when `shuffle`, as Keras's is
        return part(len(files) - held, None)
    # subset="both": Keras leaves the validation part in its (once shuffled) file order
    return training, part(len(files) - held, None, reshuffle=False)
