"""``get_file``: download a file once into Keras's cache, check its hash, extract archives.

Same arguments, cache layout and file names as ``keras.utils.get_file``
(``keras/src/utils/file_utils.py``): files land in ``$KERAS_HOME/<cache_subdir>`` (by default
``~/.keras/datasets``), so a machine where Keras already downloaded a dataset reuses it, and
a file put there by hand is used as it is once its hash matches. Archives are extracted
safely: a member whose path (or whose link's target) would land outside the extraction
folder is skipped with a warning, as Keras does.

Offline, the failure is a ``DownloadError`` (an ``OSError``) naming the URL, the path in the
cache, and how to put the file there by hand.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

#: Seconds to wait for a server before giving up.
TIMEOUT = 60.0


class DownloadError(OSError):
    """A file could not be downloaded; the message says where to put it by hand."""


def keras_home() -> str:
    """``$KERAS_HOME`` if set, else ``~/.keras`` (``/tmp/.keras`` when home is read-only).

    Read at each call (Keras reads it once at import), so tests and notebooks may change it.
    """
    if os.environ.get("KERAS_HOME"):
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def resolve_hasher(algorithm: str, file_hash: str | None = None):
    """The hashlib object for ``algorithm``; ``"auto"`` is sha256 for a 64-digit hash, else
    md5 (Keras's rule)."""
    if algorithm == "sha256" or (
        algorithm == "auto" and file_hash is not None and len(file_hash) == 64
    ):
        return hashlib.sha256()
    if algorithm not in ("auto", "md5"):
        raise ValueError(
            f"`hash_algorithm` must be 'auto', 'sha256' or 'md5'. Received: {algorithm!r}"
        )
    return hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size: int = 65535) -> str:
    """The hex digest of a file (``algorithm``: ``"sha256"``, ``"md5"`` or a hashlib object)."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535) -> bool:
    """Whether the file's sha256 or md5 digest is ``file_hash``."""
    return hash_file(fpath, resolve_hasher(algorithm, file_hash), chunk_size) == str(file_hash)


# --- safe extraction --------------------------------------------------------------------------


def _inside(base: str, relative: str) -> str | None:
    """The real path of ``base/relative`` if it stays inside ``base``, else ``None``."""
    path = os.path.realpath(os.path.join(base, relative))
    try:
        return path if os.path.commonpath([path, base]) == base else None
    except ValueError:  # different drives
        return None


def _safe_tar_members(members, base: str):
    for info in members:
        ok = _inside(base, info.name) is not None
        if ok and info.islnk():
            ok = _inside(base, info.linkname) is not None
        elif ok and info.issym():
            where = os.path.dirname(_inside(base, info.name))
            ok = _inside(base, os.path.join(where, info.linkname)) is not None
        elif ok and not (info.isfile() or info.isdir()):
            ok = False  # devices and fifos have no place in a dataset
        if ok:
            yield info
        else:
            warnings.warn(
                f"Skipping invalid path during archive extraction: '{info.name}'.", stacklevel=3
            )


def _safe_zip_members(members, base: str):
    for info in members:
        if _inside(base, info.filename) is not None:
            yield info
        else:
            warnings.warn(
                f"Skipping invalid path during archive extraction: '{info.filename}'.",
                stacklevel=3,
            )


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into ``path``, skipping members
    that would land outside it; returns whether the file was such an archive."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats)
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(f"`archive_format` must be 'auto', 'tar' or 'zip'. Received: {kind!r}")
        if kind == "tar" and tarfile.is_tarfile(file_path):
            os.makedirs(path, exist_ok=True)
            base = os.path.realpath(path)
            with tarfile.open(file_path) as archive:
                members = list(_safe_tar_members(archive.getmembers(), base))
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                _extract_or_clean(archive.extractall, path, members, kwargs)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            os.makedirs(path, exist_ok=True)
            base = os.path.realpath(path)
            with zipfile.ZipFile(file_path) as archive:
                members = list(_safe_zip_members(archive.infolist(), base))
                _extract_or_clean(archive.extractall, path, members, {})
            return True
    return False


def _extract_or_clean(extractall, path: str, members: list, kwargs: dict) -> None:
    """Runs ``extractall(path, members, **kwargs)``; a failure removes what was extracted."""
    try:
        extractall(path, members, **kwargs)
    except (tarfile.TarError, zipfile.BadZipFile, RuntimeError, KeyboardInterrupt):
        shutil.rmtree(path, ignore_errors=True)
        raise


# --- download ---------------------------------------------------------------------------------


def _download(origin: str, target: str) -> None:
    """Streams ``origin`` into ``target`` through a temporary file, so that an interrupted
    download never leaves a partial file under the final name."""
    folder = os.path.dirname(target)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".download-")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(origin, timeout=TIMEOUT) as r:
            shutil.copyfileobj(r, out, 1 << 20)
        os.replace(partial, target)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise


def _offline_message(origin: str, target: str, reason, file_hash, algorithm: str) -> str:
    check = ""
    if file_hash is not None:
        name = "sha256" if len(str(file_hash)) == 64 and algorithm == "auto" else algorithm
        check = f" Its {name} hash must be {file_hash}."
    return (
        f"URL fetch failure on {origin}: {reason}. The file could not be downloaded to "
        f"{target}. If this machine is offline, download {origin} elsewhere and place it "
        f"by hand at {target} (the cache folder is $KERAS_HOME, by default ~/.keras; a "
        f"copy that Keras downloaded is used as it is).{check}"
    )


def get_file(
    fname=None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format="auto",
    cache_dir=None,
    force_download: bool = False,
) -> str:
    """Downloads a file from a URL if it is not already in the cache; returns its path.

    Args:
        fname: the file's name in the cache (default: the last part of ``origin``'s path).
            With ``extract``, a name without a dot is the extraction folder (the archive is
            saved as ``<fname>_archive``); a name with a dot is the archive, extracted into
            ``<name before the first dot>_extracted``.
        origin: the URL.
        untar: deprecated: ``extract=True`` for a tar archive.
        md5_hash: deprecated: ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: the expected sha256 or md5 hex digest. A cached file that does not match
            is downloaded again; a download that does not match raises ``ValueError``.
        cache_subdir: the folder under the cache (``"datasets"``), or an absolute path.
        hash_algorithm: ``"auto"``, ``"sha256"`` or ``"md5"``.
        extract: extract a tar or zip archive; the extraction folder is returned.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or ``None``.
        cache_dir: the cache (default ``$KERAS_HOME`` or ``~/.keras``).
        force_download: download even when the file is cached.

    Returns:
        The path of the file, or of the extraction folder.

    Raises:
        DownloadError: the download failed (offline, 404...), naming the URL, the cache path
            and how to place the file by hand.
        ValueError: no ``origin``, a path as ``fname``, or a hash mismatch after download.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        cache_dir = keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    resolve_hasher(hash_algorithm, file_hash)  # refuses an unknown algorithm before any I/O
    base = os.path.expanduser(os.fspath(cache_dir))
    if not os.access(base, os.W_OK) and not os.path.exists(os.path.join(base, cache_subdir)):
        try:
            os.makedirs(base, exist_ok=True)
        except OSError:
            base = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    given = fname
    fname = os.fspath(fname) if fname is not None else ""
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. "
                "Please specify the `fname` argument."
            )
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={fname}"
        )

    extraction_dir = None
    if extract or untar:
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[: fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, f"{fname}_archive")
    else:
        target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(target)
    if (
        not download
        and file_hash is not None
        and not validate_file(target, file_hash, hash_algorithm)
    ):
        print(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{hash_algorithm} file hash does not match the original value of {file_hash} so "
            "we will re-download the data."
        )
        download = True
    if download:
        print(f"Downloading data from {origin}")
        try:
            _download(origin, target)
        except urllib.error.HTTPError as error:
            reason = f"{error.code} -- {error.msg}"
            raise DownloadError(
                _offline_message(origin, target, reason, file_hash, hash_algorithm)
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise DownloadError(
                _offline_message(origin, target, reason, file_hash, hash_algorithm)
            ) from None
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hash_algorithm} file hash does "
                f"not match the provided value of {file_hash}."
            )

    if extraction_dir is not None:
        stale = download or not os.path.isdir(extraction_dir) or not os.listdir(extraction_dir)
        fmt = "tar" if untar else archive_format
        if stale and not extract_archive(target, extraction_dir, fmt):
            warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return target
