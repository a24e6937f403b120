"""Atomic file writes: a save never leaves a half-written file.

The new file is written to a temporary file in the same folder, flushed to disk, and
renamed over the target with ``os.replace``, which is atomic on POSIX and Windows when
both names are on the same file system (hence the same folder). A crash or a kill during
the save leaves the old file untouched; at worst a stray ``.<name>.<random>.tmp`` file
remains beside it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from glassnet.saving import isolation


def prepare_target(filepath, overwrite: bool) -> str:
    """Checks the target of a save and creates its folder if needed.

    Args:
        filepath: where the file will go (``str`` or ``os.PathLike``).
        overwrite: whether an existing file may be replaced.

    Returns:
        The path as a string.

    Raises:
        FileExistsError: when the file exists and ``overwrite`` is false. (Keras asks on
            the terminal instead; a library should not wait for input.)
        IsADirectoryError: when the path is an existing folder.
    """
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to {path!r}: it is a folder, not a file name")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{path!r} already exists and overwrite=False. Pass overwrite=True to replace it"
        )
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_write(filepath) -> Iterator[str]:
    """Yields a temporary path to write; on success it replaces ``filepath`` atomically.

    The temporary file is created with the permissions a new file would get (``0o666``
    minus the umask). On any exception, the temporary file is removed and ``filepath``
    is left as it was.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> target = os.path.join(folder, "notes.txt")
        >>> with atomic_write(target) as tmp:
        ...     with open(tmp, "w") as f:
        ...         _ = f.write("hello")
        >>> open(target).read()
        'hello'
    """
    path = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 lets the umask decide permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    os.close(fd)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)
    isolation.remember(path)  # written by HDF5/zipfile here: loading it needs no rehearsal


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: str) -> None:
    """Makes the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
