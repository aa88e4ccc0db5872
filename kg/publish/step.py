"""The one write after the gate: dumps, their description, SHA256SUMS, the store and its DATASET_VERSION, all at once.

An output folder OUT (`kg build --out`, default ./build) holds:
  OUT/store/                   the Oxigraph store the server opens read-only
  OUT/store/DATASET_VERSION    one line: the hex SHA-256 of OUT/dumps/SHA256SUMS (RocksDB ignores the file)
  OUT/dumps/                   the dumps, void.ttl and SHA256SUMS (kg/dump.py)
Both entries are written into a staging folder inside OUT and swapped in with renames (kg/staging.py): a build
that fails at any point leaves the previous store, dumps and SHA256SUMS byte for byte as they were.

The version is a digest of content only: SHA256SUMS lists the digest of every dump, and the dumps (with
void.ttl, which describes them) hold every quad of the store. Two builds of one checkout get the same version;
so do two copies of one build.
"""

import hashlib
import re
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from kg.publish.describe import describe
from kg.publish.dump import CHECKSUMS, write_checksums, write_description, write_dumps
from kg.publish.staging import staged, write_file
from kg.publish.store import fill_store
from kg.rdf.oxi import Data, to_quads

VERSION_FILE = "DATASET_VERSION"
STORE, DUMPS = "store", "dumps"
_HEX = re.compile(r"[0-9a-f]{64}")


def _write_dumps(quads: list[ox.Quad], folder: Path, *, base: str, build_time: datetime) -> tuple[list[Path], Data]:
    written = write_dumps(quads, folder, base=base)  # leaves the meta graph out
    meta = describe(quads, written, base=base, build_time=build_time)  # keeps what the linker put in meta
    written += write_description(meta, folder, base=base)
    written.append(write_checksums(written, folder))
    return written, meta


def publish(dataset: Data, *, base: str, build_time: datetime, out: Path) -> list[Path]:
    """Write OUT/store (with DATASET_VERSION) and OUT/dumps together; returns the dump files, as named in OUT.

    Call only with a dataset that passed kg.publish.validate.validate(): nothing here checks it again. Raises
    kg.publish.staging.OutputError when the output cannot be written; OUT is then unchanged.
    """
    out = Path(out)
    quads = to_quads(dataset)
    with staged(out, (DUMPS, STORE)) as stage:
        written, meta = _write_dumps(quads, stage / DUMPS, base=base, build_time=build_time)
        meta_name = ox.NamedNode(f"{base}graph/meta")
        fill_store([q for q in quads if q.graph_name != meta_name] + to_quads(meta), stage / STORE)
        version = hashlib.sha256((stage / DUMPS / CHECKSUMS).read_bytes()).hexdigest()
        write_file(stage / STORE / VERSION_FILE, f"{version}\n".encode())
    return [out / DUMPS / path.name for path in written]


def publish_dumps(quads: list[ox.Quad], *, base: str, build_time: datetime, folder: Path) -> list[Path]:
    """Rewrite the dumps folder `folder` alone (`kg dump`), swapped in whole; returns its files."""
    folder = Path(folder)
    with staged(folder.parent, (folder.name,)) as stage:
        written, _ = _write_dumps(quads, stage / folder.name, base=base, build_time=build_time)
    return [folder / path.name for path in written]


def dataset_version(store: Path) -> str | None:
    """The version `kg build` wrote into the store folder, or None when there is none (a store made otherwise)."""
    try:
        text = (Path(store) / VERSION_FILE).read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return text if _HEX.fullmatch(text) else None
