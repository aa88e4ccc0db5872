"""Replace entries of a folder together: write them into a staging folder inside it, then rename them into place.

The swap. `staged(folder, names)` yields `folder/.staging-<pid>/`, a fresh folder on the same file system as the
entries it will replace. The caller writes every entry named in `names` there (a build: `store/` and `dumps/`).
When the caller's block ends without an error, each existing `folder/<name>` is renamed to
`folder/.previous-<pid>/<name>` and the staged entry is renamed to `folder/<name>` (two renames per entry, no
copying), then the previous entries are deleted. If anything fails, in the writing or in a rename, the entries
already swapped are renamed back: the folder holds what it held before, byte for byte, and neither the staging
nor the previous folder is left. A process that opened a previous file keeps reading it (POSIX: an open or
hard-linked file outlives its name); one that opens by name sees a whole old or a whole new entry.

Between the renames of two entries (microseconds) a reader can see the new `dumps/` beside the old `store/`;
the server's dataset version lives inside `store/` and so switches with the store. A process killed during
the swap (SIGKILL, power loss) can leave a `.previous-*` folder: the next publish into that folder puts its
entries back where the new ones are missing and removes stale staging folders. One publisher per folder at a
time (an advisory lock on the folder itself).
"""

import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STAGING, PREVIOUS = ".staging-", ".previous-"


class OutputError(Exception):
    """The output could not be written (disk full, permissions, I/O): what was there before is unchanged."""


def write_file(path: Path, data: bytes) -> Path:
    """Write `data` to a new file at `path` and flush it to disk (it is renamed into place later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return path


def _sync(folder: Path) -> None:
    """Make the renames in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _recover(folder: Path) -> None:
    """Undo what a killed publisher left: previous entries back where they are missing, staging folders removed."""
    for previous in folder.glob(f"{PREVIOUS}*"):
        for entry in previous.iterdir():
            if not (folder / entry.name).exists():
                entry.rename(folder / entry.name)
        shutil.rmtree(previous)
    for stage in folder.glob(f"{STAGING}*"):
        shutil.rmtree(stage)


def _swap(folder: Path, stage: Path, previous: Path, names: tuple[str, ...]) -> None:
    moved, placed = [], []
    try:
        for name in names:
            if not (stage / name).exists():
                raise FileNotFoundError(errno.ENOENT, "nothing was staged", str(stage / name))
            if (folder / name).exists():
                previous.mkdir(exist_ok=True)
                (folder / name).rename(previous / name)
                moved.append(name)
            (stage / name).rename(folder / name)
            placed.append(name)
    except BaseException:
        for name in reversed(placed):
            (folder / name).rename(stage / name)
        for name in reversed(moved):
            (previous / name).rename(folder / name)
        with suppress(OSError):
            previous.rmdir()  # empty once every entry is back
        raise


@contextmanager
def staged(folder: Path, names: tuple[str, ...]) -> Iterator[Path]:
    """Yield a staging folder inside `folder`; when the block succeeds, its entries `names` replace folder/<name>.

    An OSError while writing or swapping becomes OutputError (one line); any failure leaves `folder` as it was.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise OutputError(_describe(folder, error)) from error
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stage, previous = folder / f"{STAGING}{os.getpid()}", folder / f"{PREVIOUS}{os.getpid()}"
        try:
            _recover(folder)
            stage.mkdir()
            try:
                yield stage
                _swap(folder, stage, previous, names)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(previous, ignore_errors=True)  # reached only when every entry is back or swapped
            _sync(folder)
        except OSError as error:
            raise OutputError(_describe(folder, error)) from error
    finally:
        os.close(lock)


def _describe(folder: Path, error: OSError) -> str:
    return f"could not write {folder}: {error.strerror or error}".replace("\n", " ")
