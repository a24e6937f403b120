"""Model files on disk: written atomically, and read first in an isolated copy.

**Atomic writes**: a save never leaves a half-written file. The new file is written to a
temporary file in the same folder, flushed to disk, and renamed over the target with
``os.replace``, which is atomic on POSIX and Windows when both names are on the same file
system (hence the same folder). A crash or a kill during the save leaves the old file
untouched; at worst a stray ``.<name>.<random>.tmp`` file remains beside it.

**Isolated reads**: a damaged HDF5 file must not crash, hang or exhaust glassnet, so it is
read first in a copy. The HDF5 C library behind h5py trusts the bytes it reads. glassnet's
fuzzers (``tests/reliability/fuzz_model_files.py``) found damaged ``.h5`` files of a few
kilobytes on which reading an attribute crashes the process with a segmentation fault,
loops forever, or fills gigabytes of memory; no Python ``try`` can catch any of these. So
before a file is read for real, ``rehearse`` runs the same read in a forked copy of the
process, with a time limit and a memory limit. If the copy dies from a signal, runs out of
time or memory, or finds the file bad, the file is refused with ``ModelFileError`` and
this process never reads it. Otherwise the read runs again here, where it behaves the same
way (HDF5 reads the same bytes the same way).

The copy shares the parent's memory until it writes, writes nothing to disk, prints
nothing, and leaves with ``os._exit``. A rehearsal costs tens of milliseconds (more in a
process holding gigabytes, such as one that imported TensorFlow), so a file is rehearsed
only once while it stays the same, and never when this process wrote it itself
(``remember``). Where ``os.fork`` is missing (Windows) or unsafe with system libraries
(macOS), the rehearsal is skipped and a damaged file can still crash the process there.

This is protection against damage, not a sandbox: the copy runs with the same rights as
the parent, so a file crafted to exploit a memory bug of the HDF5 library could still do
harm there. Load files from strangers in a container or a separate account.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import re
import secrets
import select
import signal
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterator

from glassnet.saving.errors import ModelFileError

try:  # POSIX: a writer's lock on its temporary file tells a live save from a dead one
    import fcntl
except ImportError:  # Windows
    fcntl = None

# --- isolated reads -------------------------------------------------------------------------

#: Whether loads are rehearsed in a forked process (Linux and other fork-safe platforms).
ENABLED = hasattr(os, "fork") and sys.platform not in ("darwin", "win32", "cygwin")
#: Seconds a rehearsal may take, plus one second for every ``BYTES_PER_SECOND`` of file: a
#: guard against a copy that hangs without using the CPU.
TIMEOUT_S = 60.0
BYTES_PER_SECOND = 20 * 2**20
#: Seconds of CPU a rehearsal may use, plus one for every ``BYTES_PER_SECOND`` of file. A
#: model of ordinary size reads in well under a second (10,000 Dense layers in about 1.2 s);
#: a file that keeps the CPU busy longer is damaged or crafted. Raise it for a large file
#: you trust.
CPU_SECONDS = 5.0
#: Memory a rehearsal may add to the process, plus ``MEMORY_PER_FILE_BYTE`` per file byte
#: (a real model needs about twice its file: the bytes read, then the arrays).
MEMORY_BUDGET_BYTES = 2**30
MEMORY_PER_FILE_BYTE = 3

_OK, _REFUSED, _NO_MEMORY = b"ok", b"refused:", b"memory"


def rehearse(read: Callable[[], object], path: str, purpose: str | None = None) -> None:
    """Runs ``read()`` in a forked copy of this process and refuses the file if it fails.

    Args:
        read: the complete read of the file, as the caller is about to run it.
        path: the file (for the limits and for messages).
        purpose: names what ``read`` reads (such as ``"load_model compile=True"``) when
            every later read with the same purpose reads the same parts of the file; the
            file is then not rehearsed again for that purpose while it stays unchanged.

    Raises:
        ModelFileError: when the copy is killed by a signal (the HDF5 library crashed on
            the file), does not finish within the time limit (it looped), runs out of its
            memory budget, or raises ``ModelFileError`` itself (the same error, raised
            here without reading the file again). Other errors of ``read`` are left for
            the real read to raise.
    """
    if not ENABLED:
        return
    identity = _identity(path)
    if identity is not None and ({(identity, "any"), (identity, purpose)} & _known_good):
        return
    size = identity[2] if identity is not None else _folder_size(path)
    timeout = TIMEOUT_S + size / BYTES_PER_SECOND
    cpu_seconds = CPU_SECONDS + size / BYTES_PER_SECOND
    budget = MEMORY_BUDGET_BYTES + MEMORY_PER_FILE_BYTE * size
    report_r, report_w = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that fork in a process with threads (BLAS's) can deadlock the
        # copy; the copy runs no BLAS, and the time limit covers any deadlock.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the copy: whatever happens in it, it ends here
        try:
            os.close(report_r)
            _rehearse_in_copy(read, timeout, cpu_seconds, budget, report_w)
        finally:
            os._exit(0)
    os.close(report_w)
    try:
        report = _read_report(report_r, timeout)
    except BaseException:  # Ctrl-C while waiting: take the copy down too
        _kill(pid)
        raise
    finally:
        os.close(report_r)
    if report is None:
        _kill(pid)
        raise ModelFileError(
            f"{path!r} could not be read within {timeout:.0f} s: the HDF5 library loops on "
            "it, so the file is damaged (or crafted)"
        )
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == getattr(signal, "SIGXCPU", None):
        raise ModelFileError(
            f"{path!r} took more than {cpu_seconds:.0f} s of CPU to read, so it is damaged or "
            "crafted and glassnet refuses it. For a large file you trust, raise "
            "glassnet.saving.files.CPU_SECONDS"
        )
    if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
        name = (signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status)
                else f"exit status {os.WEXITSTATUS(status)}")
        raise ModelFileError(
            f"{path!r} is damaged: reading it crashed the HDF5 library ({name}), so "
            "glassnet refuses it"
        )
    if report.startswith(_REFUSED):
        raise ModelFileError(report[len(_REFUSED):].decode("utf-8", "replace"))
    if report == _NO_MEMORY:
        raise ModelFileError(
            f"{path!r} is damaged: reading it needs more than {budget:,} bytes of memory "
            "(glassnet.saving.files.MEMORY_BUDGET_BYTES)"
        )
    if report == _OK and purpose is not None and identity is not None:
        _remember(identity, purpose)


def _rehearse_in_copy(read: Callable[[], object], timeout: float, cpu_seconds: float,
                      budget: int, report_w: int) -> None:
    """The forked copy's part: limits, the read, and a one-line report on ``report_w``."""
    gc.disable()  # a collection would touch, and so copy, every page of the parent
    faulthandler.disable()  # a crash here is expected and reported by the parent
    for crash in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
        signal.signal(crash, signal.SIG_DFL)  # die of it, whatever handler the parent set
    # Should the parent die first, the copy must not loop forever: SIGALRM's default
    # action ends it even inside a C loop.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(timeout) + 5)
    _limit_cpu(cpu_seconds)
    _limit_memory(budget)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    report = b"error"  # any other error: the real read raises it again
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read()
        report = _OK
    except ModelFileError as error:
        report = _REFUSED + str(error).encode("utf-8", "replace")[:16384]
    except MemoryError:
        report = _NO_MEMORY
    except BaseException:  # reported as "error"
        pass
    while report:
        report = report[os.write(report_w, report):]


def _limit_cpu(seconds: float) -> None:
    """Lets the kernel stop the copy (SIGXCPU) once it has used ``seconds`` of CPU."""
    try:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime + seconds) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, OSError, ValueError, AttributeError):
        pass  # no limit where the system offers none


def _limit_memory(budget: int) -> None:
    """Caps the copy's address space at its current size plus ``budget`` (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * resource.getpagesize()
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + budget
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # no limit where the system offers none


def _read_report(fd: int, timeout: float) -> bytes | None:
    """Everything the copy writes until it exits; ``None`` if that takes too long."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:  # the copy has exited (or closed its end)
                return b"".join(chunks)
            chunks.append(chunk)


#: ``(file identity, purpose)`` of files that cannot crash a read: written by this process
#: (purpose ``"any"``), or rehearsed for that purpose and unchanged since.
_known_good: set[tuple] = set()
_KNOWN_GOOD_LIMIT = 4096


def _identity(path: str) -> tuple | None:
    """A regular file's device, inode, size, and modification and change times (ns)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None  # a folder's members can change without changing the folder
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _folder_size(path: str) -> int:
    """The bytes of the files directly in a folder (an unzipped ``.keras``), else 0."""
    with contextlib.suppress(OSError), os.scandir(path) as entries:
        return sum(e.stat().st_size for e in entries if e.is_file(follow_symlinks=False))
    return 0


def remember(path: str) -> None:
    """Marks a file this process has just written as safe to read without a rehearsal.

    Any later change to the file changes its identity, so it is rehearsed again.
    """
    identity = _identity(path)
    if identity is not None:
        _remember(identity, "any")


def _remember(identity: tuple, purpose: str) -> None:
    if len(_known_good) >= _KNOWN_GOOD_LIMIT:
        _known_good.clear()
    _known_good.add((identity, purpose))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


# --- atomic writes ---------------------------------------------------------------------------




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

    The temporary file ``.<name>.<12 hex digits>.tmp`` is created beside the target with
    the permissions a new file would get (``0o666`` minus the umask). On any exception it
    is removed and ``filepath`` is left as it was. A process killed mid-save cannot remove
    its temporary file; so, where ``fcntl`` exists, the writer holds an exclusive ``flock``
    on it for the whole save, and each save first removes the temporary files of the same
    target whose lock it can take: their writers are gone (a killed process's locks go
    with it). HDF5 files written here must be opened with ``locking=False``, since HDF5's
    own lock would clash with the writer's.

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
    if fcntl is None:
        os.close(fd)  # no lock to hold: stale files are left (Windows)
        fd = None
    else:
        fcntl.flock(fd, fcntl.LOCK_EX)
        remove_stale_temp_files(path, keep=tmp)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    finally:
        if fd is not None:
            os.close(fd)
    _fsync_folder(folder)
    remember(path)  # written by HDF5/zipfile here: loading it needs no rehearsal


def temp_file_pattern(name: str) -> re.Pattern:
    """The names of ``atomic_write``'s temporary files for a target named ``name``."""
    return re.compile(rf"^\.{re.escape(name)}\.[0-9a-f]{{12}}\.tmp$")


def remove_stale_temp_files(path: str, keep: str | None = None) -> list[str]:
    """Removes the temporary files of saves of ``path`` whose writers are gone (their
    ``flock`` can be taken); returns their names. Files still being written are kept."""
    if fcntl is None:
        return []
    folder = os.path.dirname(os.path.abspath(path))
    pattern = temp_file_pattern(os.path.basename(path))
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.path == keep or not pattern.match(entry.name):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live save holds it
            else:
                with contextlib.suppress(OSError):
                    os.remove(entry.path)
                    removed.append(entry.name)
            finally:
                os.close(fd)
    return removed


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
