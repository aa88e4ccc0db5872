"""Which store the server serves: the built one, or RDF files loaded into a fresh on-disk store."""

import gc
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from server.engine import snapshot

# Formats `--data` accepts, by file extension; triple formats go to a named graph per file.
DATA_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
                ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML,
                ".owl": ox.RdfFormat.RDF_XML}
QUAD_FORMATS = {ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD}


@dataclass(frozen=True)
class Served:
    """The store a server serves: its path, a version for ETags, and how workers open it."""

    path: str
    version: str
    writable: bool = False
    tmp: object = None  # keeps a TemporaryDirectory alive as long as the app
    files: tuple[str, ...] = ()  # the RDF files the store was loaded from (--data): parsed faster than a dump

    def spec(self, *, in_memory: bool) -> dict:
        """The picklable description a worker process opens the store from."""
        return {"path": self.path, "in_memory": in_memory and not self.writable, "writable": self.writable,
                "files": list(self.files)}


def graph_for(path: Path) -> ox.NamedNode:
    """The named graph a plain triple file is loaded into: the file's own file:// IRI."""
    return ox.NamedNode(path.resolve().as_uri())


def _digest(items) -> str:
    sha = hashlib.sha256()
    for item in items:
        sha.update(repr(item).encode())
    return sha.hexdigest()[:16]


def load_files(files: list[str | Path], *, writable: bool = False, directory: str | Path | None = None,
               on_disk: bool = True) -> Served:
    """Load RDF files into a new on-disk store (named graphs kept), in `directory` or a temporary one.

    Pass `directory` in a process that forks (gunicorn's master): a TemporaryDirectory would be removed
    by the first forked child that exits. on_disk=False (query workers parse the files into memory: the zygote,
    or a worker that loads them itself) only checks that each file is there and takes the version; no store.
    """
    for name in files:
        _format(Path(name))
    digests = [(str(Path(name).resolve()), hashlib.sha256(Path(name).read_bytes()).hexdigest()) for name in files]
    resolved = tuple(str(Path(name).resolve()) for name in files)
    if not on_disk:
        return Served("", _digest(digests), writable=writable, files=resolved)
    tmp = None if directory else tempfile.TemporaryDirectory(prefix="kg-data-")
    path = Path(directory or tmp.name) / "store"
    store = ox.Store(str(path))
    load_into(store, files)
    store.flush()
    del store
    gc.collect()  # the RocksDB lock goes only when the Store object is freed
    return Served(str(path), _digest(digests), writable=writable, tmp=tmp, files=resolved)


def _format(file: Path) -> ox.RdfFormat:
    """The RDF format of a --data file by its extension; ValueError for an unknown one or a missing file."""
    fmt = DATA_FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise ValueError(f"{file}: unknown RDF file extension (known: {', '.join(sorted(DATA_FORMATS))})")
    if not file.is_file():
        raise ValueError(f"{file}: no such file")
    return fmt


def load_into(store: ox.Store, files) -> None:
    """Load RDF files into `store` (on disk or in memory): quad formats keep their graphs, a triple file goes to
    the named graph graph_for(file), relative IRIs resolve against the file."""
    for name in files:
        file = Path(name)
        fmt = _format(file)
        target = None if fmt in QUAD_FORMATS else graph_for(file)
        store.bulk_load(path=str(file), format=fmt, to_graph=target, base_iri=file.resolve().as_uri())


def open_built(path: str | Path, *, writable: bool = False) -> Served:
    """The store written by `kg build`; served read-only from a snapshot of this build (server/engine/snapshot.py)."""
    path = Path(path)
    if not (path / "CURRENT").is_file():
        raise FileNotFoundError(f"{path}: no Oxigraph store here (run `kg build`)")
    version = snapshot.content_version(path)
    held = None if writable else snapshot.take(path)
    return Served(str(held.path if held else path), version, writable=writable, tmp=held)


class StoreUnreadable(Exception):
    """The store cannot be opened or read in full (corrupt, truncated, unreadable files); the message says why."""


PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # where the server package is: the readers' working folder


def reader(path: str | Path, *, dump: bool = False) -> list[str]:
    """The command of a child that reads the store at `path`: every index (check_readable), or (dump) every quad
    written to its stdout as N-Quads. Children, because RocksDB's threads must stay out of processes that fork."""
    return [sys.executable, "-m", "server.engine.store", *(["--dump"] if dump else []), str(path)]


def failure(returncode: int, stderr: str) -> StoreUnreadable:
    """Why a reader child failed, in one line."""
    if returncode < 0:
        return StoreUnreadable(f"reading it killed the reader ({signal.Signals(-returncode).name})")
    lines = stderr.strip().splitlines() or [f"the reader exited with status {returncode}"]
    return StoreUnreadable(" ".join(lines[-1].split()))


def copy_in_memory(path: str | Path) -> ox.Store:
    """The store at `path`, copied into memory through a dump written by a child (reader): RocksDB checks every table
    file it opens and every block it reads, so a store that cannot be read in full raises StoreUnreadable with its
    reason, and what is copied is exactly what was read."""
    memory = ox.Store()
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(reader(path, dump=True), stdout=subprocess.PIPE, stderr=errors, cwd=PACKAGE_ROOT) as child:
            try:
                memory.load(child.stdout, format=ox.RdfFormat.N_QUADS)
            except (SyntaxError, ValueError, OSError):
                if child.wait() == 0:
                    raise
        if child.returncode:
            errors.seek(0)
            raise failure(child.returncode, errors.read().decode(errors="replace"))
    return memory


def check_readable(path: str | Path, *, timeout: float) -> None:
    """Open the store read-only and read every index of it, in a child process (a crash or hang there is ours to report).

    For workers that read the store on disk; in memory, the zygote's copy reads what is served (zygote.load).
    """
    try:
        result = subprocess.run(reader(path), capture_output=True, text=True, timeout=timeout, cwd=PACKAGE_ROOT)
    except subprocess.TimeoutExpired:
        raise StoreUnreadable(f"reading it took more than {timeout:g} s") from None
    if result.returncode:
        raise failure(result.returncode, result.stderr)


def read_fully(path: str | Path) -> int:
    """Read every index of the store once (RocksDB checks each block it reads); returns the number of quads.

    Iterating reads gspo (and dspo, the default graph's); a scan with one term bound reads the index led by that
    term, so binding each subject, predicate and object, then each graph with each of its predicates and objects,
    reads spog, posg, ospg, gpos and gosp (and dpos, dosp). About 5x the time a worker takes to copy the store.
    """
    store = ox.Store.read_only(str(path))
    subjects, predicates, objects, by_graph = set(), set(), set(), {}
    total = 0
    for quad in store:
        total += 1
        subjects.add(quad.subject)
        predicates.add(quad.predicate)
        objects.add(quad.object)
        terms = by_graph.setdefault(quad.graph_name, (set(), set()))
        terms[0].add(quad.predicate)
        terms[1].add(quad.object)
    patterns = [(s, None, None, None) for s in subjects] + [(None, p, None, None) for p in predicates]
    patterns += [(None, None, o, None) for o in objects]
    for graph, (graph_predicates, graph_objects) in by_graph.items():
        patterns += [(None, p, None, graph) for p in graph_predicates] + [(None, None, o, graph) for o in graph_objects]
    # Only quads equal to the pattern count: pyoxigraph 0.5.13's on-disk scan with a numeric object bound also yields
    # quads whose object merely shares its encoded prefix (e.g. 1023 brings 147 quads back, 2 of them equal).
    seen = sum(1 for pattern in patterns for quad in store.quads_for_pattern(*pattern) if _matches(quad, pattern))
    if seen != 5 * total:
        raise StoreUnreadable(f"its indexes disagree ({seen} index entries for {total} quads, expected {5 * total})")
    list(store.named_graphs())
    return total


def _matches(quad: ox.Quad, pattern: tuple) -> bool:
    """Whether every bound term of (subject, predicate, object, graph) `pattern` is the quad's."""
    return all(term is None or term == part for term, part in zip(pattern, quad, strict=True))


def data_files(config) -> list[str]:
    """The DATA files of a configuration (a list, or a string of paths joined by os.pathsep)."""
    data = config.get("DATA")
    if isinstance(data, str):
        data = data.split(os.pathsep) if data else []
    return list(data or [])


def served_from_config(config) -> Served:
    """DATA (a list of files, loaded into DATA_DIR or a temporary folder) wins over STORE (a built store directory)."""
    data = data_files(config)
    writable = bool(config.get("UPDATE_TOKEN"))
    if data:  # in memory, the workers parse the files: nothing reads a store on disk
        return load_files(data, writable=writable, directory=config.get("DATA_DIR"),
                          on_disk=writable or not config.get("IN_MEMORY", True))
    return open_built(config["STORE"], writable=writable)


if __name__ == "__main__":  # the child process of check_readable, or (--dump) of the zygote's copy
    try:
        if sys.argv[1] == "--dump":
            ox.Store.read_only(sys.argv[2]).dump(sys.stdout.buffer, format=ox.RdfFormat.N_QUADS)
        else:
            read_fully(sys.argv[1])
    except (OSError, RuntimeError, StoreUnreadable) as error:
        print(" ".join(str(error).split()), file=sys.stderr)
        sys.exit(1)
