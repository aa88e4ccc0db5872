"""Writes the on-disk Oxigraph store the server opens read-only."""

import gc
from pathlib import Path

import pyoxigraph as ox

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
