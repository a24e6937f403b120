"""A trained model's files: the model itself, its columns file and its history file.

``glassnet train ... --output wages.keras`` writes three files side by side:

* ``wages.keras``: the model, as ``model.save`` writes it (``.keras``, or ``.h5`` for the
  legacy HDF5 format); Keras's ``load_model`` and glassnet's read it. Its first layer is a
  ``Normalization`` holding the training data's means and variances (unless training ran
  with ``--no-standardize``).
* ``wages.columns.json``: which columns of the data feed the model and how (numbers as
  they are, text categories one-hot), the target column and its classes, and the validation
  scores. ``predict``, ``evaluate`` and ``explain`` read it to encode new data the same way.
  It is plain JSON, never pickle: reading it runs no code.
* ``wages.history.json``: ``history.history`` from ``fit`` (loss and metrics per epoch),
  which ``glassnet plot`` draws.

A model file without a columns file (one trained in Python, say) still works: the data's
columns other than the target are used as they are, and must all be numbers.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from glassnet.cli.encoding import InputEncoding
from glassnet.cli.errors import CommandError
from glassnet.cli.target import Target

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
COLUMNS_FORMAT = "glassnet-columns"
COLUMNS_VERSION = 1


@dataclass
class ModelInfo:
    """What the columns file records about a model trained by ``glassnet train``.

    Attributes:
        target: the target column and how it is predicted.
        inputs: the input columns and how they are encoded.
        standardized: whether the model starts with a ``Normalization`` layer.
        data: the data the model was trained on, as given on the command line.
        model_file: the model file's name when it was written.
        scores: validation scores (``{"loss": ..., "mae": ...}``), possibly empty.
        notes: extra facts for ``summary`` (rows used, epochs run, ...).
    """

    target: Target
    inputs: InputEncoding
    standardized: bool = True
    data: str = ""
    model_file: str = ""
    scores: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The columns file's content."""
        return {
            "format": COLUMNS_FORMAT,
            "version": COLUMNS_VERSION,
            "model_file": self.model_file,
            "data": self.data,
            "target": self.target.to_dict(),
            "inputs": self.inputs.to_dict(),
            "standardized": self.standardized,
            "validation_scores": self.scores,
            "training": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict, source: Path) -> ModelInfo:
        """Reads a columns file's content.

        Raises:
            CommandError: if it is not a glassnet columns file of a version this glassnet reads.
        """
        if not isinstance(data, dict) or data.get("format") != COLUMNS_FORMAT:
            raise CommandError(f"{source} is not a glassnet columns file")
        if data.get("version") != COLUMNS_VERSION:
            raise CommandError(
                f"{source} is a columns file of version {data.get('version')!r}; this "
                f"glassnet reads version {COLUMNS_VERSION}"
            )
        try:
            return cls(
                target=Target.from_dict(data["target"]),
                inputs=InputEncoding.from_dict(data["inputs"]),
                standardized=bool(data.get("standardized", True)),
                data=str(data.get("data", "")),
                model_file=str(data.get("model_file", "")),
                scores=dict(data.get("validation_scores") or {}),
                notes=dict(data.get("training") or {}),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CommandError(f"{source} is a damaged columns file ({error!r})") from None


def companion_paths(model_path: Path) -> tuple[Path, Path]:
    """The columns file and the history file that go with a model file.

    Example:
        >>> [p.name for p in companion_paths(Path("out/wages.keras"))]
        ['wages.columns.json', 'wages.history.json']
    """
    stem = model_path.name[: -len(model_path.suffix)] if model_path.suffix else model_path.name
    return (model_path.with_name(f"{stem}.columns.json"),
            model_path.with_name(f"{stem}.history.json"))


def check_model_path(path: Path) -> Path:
    """Raises a :class:`CommandError` unless ``path`` ends in ``.keras``, ``.h5`` or ``.hdf5``."""
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise CommandError(
            f"a model file's name must end in .keras (Keras 3's format) or .h5 (the legacy "
            f"HDF5 format); received {str(path)!r}"
        )
    return path


def write_json(path: Path, data: object) -> None:
    """Writes JSON atomically: to a temporary file in the same folder, then renamed.

    The file gets the permissions of any new file (``0o666`` less the umask), as the model
    file beside it does; ``tempfile.mkstemp`` would make it readable by its owner only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(data), indent=2, allow_nan=False) + "\n"
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _finite(data: object) -> object:
    """``data`` with NaN and infinities replaced by ``None`` (JSON has no such numbers)."""
    if isinstance(data, dict):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if hasattr(data, "item"):  # NumPy scalars
        return _finite(data.item())
    return data


def read_json(path: Path, what: str) -> object:
    """Reads a JSON file, turning a missing or malformed file into a :class:`CommandError`."""
    if not path.is_file():
        raise CommandError(f"no such {what}: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CommandError(f"{path} is not a JSON {what} ({error})") from None


def save_trained(model, path: Path, info: ModelInfo, history: dict) -> list[Path]:
    """Saves the model, its columns file and its history file; returns the three paths."""
    check_model_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns_path, history_path = companion_paths(path)
    info.model_file = path.name
    model.save(str(path))
    write_json(columns_path, info.to_dict())
    write_json(history_path, history)
    return [path, columns_path, history_path]


def _model_file_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "this file is not a model glassnet can read"."""
    from glassnet.saving.errors import ModelFileError

    return (ModelFileError, OSError)


def load_trained(path_text: str) -> tuple[object, ModelInfo | None, list[str]]:
    """Loads a model file and, if there is one, its columns file.

    Returns:
        ``(model, info, notes)``: the model, what its columns file says (``None`` without
        one), and remarks for the user.

    Raises:
        CommandError: for a missing file, a file that is not a model, or a columns file that
            does not fit the model.
    """
    path = Path(path_text)
    if not path.exists():
        raise CommandError(f"no such model file: {path_text}")
    if not path.is_file():
        raise CommandError(f"{path_text} is a directory, not a model file")
    from glassnet.models import load_model

    try:
        model = load_model(str(path))
    except _model_file_errors() as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandError(
            f"{path_text} is not a model file glassnet can read: {message}") from None
    columns_path, _ = companion_paths(path)
    notes: list[str] = []
    if not columns_path.is_file():
        return model, None, [f"no columns file {columns_path.name} next to the model: using "
                             "the data's columns as they are"]
    info = ModelInfo.from_dict(read_json(columns_path, "columns file"), columns_path)
    if info.model_file and info.model_file != path.name:
        notes.append(f"{columns_path.name} was written for {info.model_file}; using it for "
                     f"{path.name}")
    expected = model.input_shape[-1] if model.input_shape else None
    if expected is not None and expected != len(info.inputs.feature_names):
        raise CommandError(
            f"{columns_path.name} describes {len(info.inputs.feature_names)} model inputs, "
            f"but {path.name} takes {expected}; it belongs to another model"
        )
    return model, info, notes
