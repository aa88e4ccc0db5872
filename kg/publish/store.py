"""Writes the on-disk Oxigraph store the server opens read-only."""

import gc
from pathlib import Path

import pyoxigraph as ox

from kg.publish.staging import staged
from kg.rdf.oxi import Data, to_quads


def fill_store(dataset: Data, path: Path) -> Path:
    """Write every graph of `dataset` to a new store at `path` (a folder that does not exist yet), then close it."""
    store = ox.Store(str(path))
    store.bulk_extend(to_quads(dataset))
    store.flush()
    store.optimize()
    del store
    gc.collect()  # the store is closed (RocksDB lock released) only when the Python object is freed
    return Path(path)


def write_store(dataset: Data, path: Path) -> Path:
    """Write a store at `path` on its own, replacing any store there only once complete (kg.staging)."""
    path = Path(path)
    with staged(path.parent, (path.name,)) as stage:
        fill_store(dataset, stage / path.name)
    return path
