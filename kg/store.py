"""Writes the on-disk Oxigraph store the server opens read-only, swapping it in whole."""

import gc
import os
import shutil
from pathlib import Path

import pyoxigraph as ox

from kg.oxi import Data, to_quads


def write_store(dataset: Data, path: Path) -> Path:
    """Write every graph of `dataset` to a fresh store at `path`, replacing any store there only once complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    store = ox.Store(str(tmp))
    store.bulk_extend(to_quads(dataset))
    store.flush()
    store.optimize()
    del store
    gc.collect()  # the store is closed (RocksDB lock released) only when the Python object is freed
    # Two renames: readers of the old store keep their open files (POSIX), new readers see only the full store.
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return path
