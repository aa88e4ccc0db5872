"""The one write after the gate: dumps, their description (meta graph, void.ttl), SHA256SUMS, then the store."""

from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from kg import paths
from kg.describe import describe
from kg.dump import write_checksums, write_description, write_dumps
from kg.oxi import Data, to_quads
from kg.store import write_store


def publish(dataset: Data, *, base: str, build_time: datetime, store: Path = paths.STORE,
            dumps: Path = paths.DUMPS) -> list[Path]:
    """Write the dumps, describe them in {base}graph/meta, write SHA256SUMS and the store; returns the files written.

    Call only with a dataset that passed kg.validate.validate(): nothing here checks it again.
    """
    quads = to_quads(dataset)
    written = write_dumps(quads, dumps, base=base)  # leaves the meta graph out
    meta = describe(quads, written, base=base, build_time=build_time)  # keeps what the linker put in meta
    written += write_description(meta, dumps, base=base)
    written.append(write_checksums(written, dumps))
    meta_name = ox.NamedNode(f"{base}graph/meta")
    write_store([q for q in quads if q.graph_name != meta_name] + to_quads(meta), store)
    return written
