"""``glassnet.utils.get_file``: Keras's cache layout and hashes, offline failures that say
what to do, and archives extracted without escaping their folder.

Downloads come from ``file://`` URLs of files the tests write, and the offline case points
at ``http://127.0.0.1:9/`` (the discard port, where nothing listens): no test uses the
network. Behaviour follows keras/src/utils/file_utils.py.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from glassnet.utils import get_file
from glassnet.utils.file_utils import DownloadError, extract_archive, keras_home

UNREACHABLE = "http://127.0.0.1:9/data.bin"


@pytest.fixture
def home(tmp_path, monkeypatch):
    folder = tmp_path / "keras_home"
    folder.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(folder))
    return folder


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def served(tmp_path, name: str, data: bytes) -> str:
    """A ``file://`` URL serving ``data``."""
    folder = tmp_path / "server"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return (folder / name).as_uri()


def test_keras_home_comes_from_the_environment(home):
    assert keras_home() == str(home)


def test_a_cached_file_with_the_right_hash_is_used_without_downloading(home):
    data = b"cached bytes"
    (home / "datasets").mkdir()
    (home / "datasets" / "data.bin").write_bytes(data)
    path = get_file("data.bin", origin=UNREACHABLE, file_hash=sha256(data))
    assert path == str(home / "datasets" / "data.bin")
    md5 = hashlib.md5(data).hexdigest()  # 32 digits: "auto" means md5
    assert get_file("data.bin", origin=UNREACHABLE, file_hash=md5) == path


def test_offline_the_error_names_the_url_the_cache_path_and_the_fix(home):
    with pytest.raises(DownloadError) as caught:
        get_file("data.bin", origin=UNREACHABLE, file_hash="ab" * 32)
    message = str(caught.value)
    target = str(home / "datasets" / "data.bin")
    assert UNREACHABLE in message
    assert target in message
    assert "place it by hand" in message and "sha256 hash must be " + "ab" * 32 in message
    assert isinstance(caught.value, OSError)
    assert os.listdir(home / "datasets") == []  # no partial file left behind


def test_download_then_cache(home, tmp_path, capsys):
    data = os.urandom(3000)
    url = served(tmp_path, "remote.bin", data)
    path = get_file(origin=url, file_hash=sha256(data))  # the name comes from the URL
    assert path == str(home / "datasets" / "remote.bin")
    assert Path(path).read_bytes() == data
    assert f"Downloading data from {url}" in capsys.readouterr().out
    os.remove(tmp_path / "server" / "remote.bin")  # the server is gone: the cache answers
    assert get_file(origin=url, file_hash=sha256(data)) == path


def test_a_stale_cached_file_is_downloaded_again(home, tmp_path, capsys):
    data = b"new version"
    url = served(tmp_path, "d.bin", data)
    (home / "datasets").mkdir()
    (home / "datasets" / "d.bin").write_bytes(b"old version")
    path = get_file("d.bin", origin=url, file_hash=sha256(data))
    assert Path(path).read_bytes() == data
    assert "hash does not match the original value" in capsys.readouterr().out


def test_a_download_with_the_wrong_hash_is_refused(home, tmp_path):
    url = served(tmp_path, "d.bin", b"tampered")
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        get_file("d.bin", origin=url, file_hash=sha256(b"genuine"))


def test_cache_dir_and_an_absolute_cache_subdir(tmp_path):
    url = served(tmp_path, "d.bin", b"x")
    assert get_file("d.bin", origin=url, cache_dir=tmp_path / "c") == str(
        tmp_path / "c" / "datasets" / "d.bin"
    )
    absolute = tmp_path / "elsewhere"
    assert get_file("d.bin", origin=url, cache_dir=tmp_path / "c", cache_subdir=absolute) == str(
        absolute / "d.bin"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fname": "d.bin"}, ValueError, "origin"),
        ({"fname": "sub/d.bin", "origin": UNREACHABLE}, ValueError, "Paths are no longer"),
        ({"origin": "http://127.0.0.1:9/"}, ValueError, "Can't parse the file name"),
        ({"fname": "d", "origin": UNREACHABLE, "hash_algorithm": "sha1"}, ValueError, "sha1"),
    ],
)
def test_bad_arguments(home, kwargs, error, match):
    with pytest.raises(error, match=match):
        get_file(**kwargs)


def tar_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


def test_extract_names_the_folder_as_keras_does(home, tmp_path):
    url = served(tmp_path, "a.tar.gz", tar_bytes({"inner/file.txt": b"hello"}))
    # a name without a dot is the folder; the archive is kept as <name>_archive
    folder = get_file("thing", origin=url, extract=True)
    assert folder == str(home / "datasets" / "thing")
    assert (home / "datasets" / "thing_archive").exists()
    assert (home / "datasets" / "thing" / "inner" / "file.txt").read_bytes() == b"hello"
    # a name with a dot is the archive, extracted into <stem>_extracted
    folder = get_file("other.tar.gz", origin=url, extract=True)
    assert folder == str(home / "datasets" / "other_extracted")
    assert (home / "datasets" / "other_extracted" / "inner" / "file.txt").exists()


def test_extraction_never_leaves_its_folder(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(
        tar_bytes(
            {"good.txt": b"ok", "../escaped.txt": b"bad", "/tmp/absolute-glassnet.txt": b"bad"},
            links={"link": "../../outside", "fine_link": "good.txt"},
        )
    )
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="Skipping invalid path") as caught:
        assert extract_archive(archive, out)
    skipped = " ".join(str(w.message) for w in caught)
    assert "../escaped.txt" in skipped and "'link'" in skipped
    assert (out / "good.txt").read_bytes() == b"ok"
    assert not (tmp_path / "escaped.txt").exists()
    assert not (out / "link").exists()
    assert not os.path.exists("/tmp/absolute-glassnet.txt")


def test_zip_extraction_never_leaves_its_folder(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("good.txt", b"ok")
        z.writestr("../escaped.txt", b"bad")
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="Skipping invalid path"):
        assert extract_archive(archive, out)
    assert (out / "good.txt").exists() and not (tmp_path / "escaped.txt").exists()


def test_a_file_that_is_no_archive_is_not_extracted(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"text")
    assert extract_archive(plain, tmp_path / "out") is False
