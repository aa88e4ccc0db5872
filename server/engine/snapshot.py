"""A private, immutable view of a built store for one run of the server, and the dataset version it holds.

`kg build` swaps a new store in with renames and never rewrites a file in place, so hard links to the
store's files, taken when the server starts, keep that build's bytes for as long as the server runs. Every
query worker (including one started long after a rebuild) opens the snapshot, so a rebuild under a running
server is served not at all until a restart, never half: no answer mixes builds, and the version in every
ETag is the version of the data the workers hold.

The version is the content digest the build wrote (DATASET_VERSION in the store folder); for a store made by
other tools, a digest of its files' bytes. Either way it depends only on content, so replicas serving
byte-identical copies of one store answer with the same ETags.
"""

import hashlib
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from kg.publish.step import dataset_version
from server.process import alive

PREFIX = ".serving-"  # snapshot folders beside the store: .serving-<pid>-<random>-<store name>
VOLATILE = ("LOCK", "LOG")  # RocksDB's lock and info logs: not content


def content_version(store: Path) -> str:
    """The build's digest, or a digest of the store's files' bytes (sorted by name)."""
    written = dataset_version(store)
    if written is not None:
        return written
    sha = hashlib.sha256()
    for path in sorted(store.iterdir()):
        if path.is_file() and not path.name.startswith(VOLATILE):
            sha.update(path.name.encode() + b"\0")
            with path.open("rb") as data:
                while block := data.read(1 << 20):
                    sha.update(block)
    return sha.hexdigest()[:32]


def _remove_stale(parent: Path, name: str) -> None:
    """Snapshots left by servers that were killed (their pid is gone)."""
    for folder in parent.glob(f"{PREFIX}*-{name}"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _remove_if_owner(folder: str, owner: int) -> None:
    # Forked server processes inherit this finaliser; only the process that made the snapshot removes it.
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


class Snapshot:
    """Hard links to a store's files in a folder beside it; removed when the owning process lets go of it."""

    def __init__(self, store: Path):
        store = store.resolve()
        _remove_stale(store.parent, store.name)
        # One folder per snapshot (two apps of one process may serve the same store): .serving-<pid>-<random>-<name>
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", suffix=f"-{store.name}", dir=store.parent))
        self._finalizer = weakref.finalize(self, _remove_if_owner, str(self.path), os.getpid())
        for entry in store.iterdir():
            if entry.is_file() and entry.name != "LOCK":
                os.link(entry, self.path / entry.name)

    def close(self) -> None:
        """Remove the snapshot now (the owning process only)."""
        self._finalizer()


def take(store: Path) -> Snapshot | None:
    """A snapshot of `store`, or None where its folder takes no links (read-only media: nothing can rebuild it)."""
    try:
        return Snapshot(store)
    except OSError:
        return None
