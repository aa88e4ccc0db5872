"""Writes the dumps: sorted, byte-reproducible files serialised by Oxigraph, with gzip twins and SHA256SUMS.

These functions write into a folder; kg.publish has them write into a staging folder and swaps it in whole.

Which graphs go where (the meta graph describes the dumps' sizes and checksums, so it cannot be inside them):
  kg.ttl, kg.nt, kg.jsonld         the facts graph {base}graph/kg only: no build time, so it can be committed
  policykg.trig, policykg.nq       every graph except {base}graph/meta, names kept
  void.ttl                         {base}graph/meta: the VoID/DCAT description of the files above
  context.jsonld                   the JSON-LD @context that kg.jsonld embeds
  *.gz                             deterministic gzip (mtime 0, no file name) of each data file
  SHA256SUMS                       `sha256sum -c` format, over every file above
"""

import gzip
import hashlib
import io
import json
from pathlib import Path

import pyoxigraph as ox

from kg.publish.staging import write_file
from kg.rdf.oxi import Data, normalised, to_quads
from kg.rdf.prefixes import prefixes

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CHECKSUMS = "SHA256SUMS"
CONTEXT = "context.jsonld"


def gzip_bytes(data: bytes) -> bytes:
    """Gzip that depends only on the input: mtime 0 and no file name in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buffer.getvalue()


def canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads with blank nodes renamed by RDFC-1.0, so the same graph always gets the same labels."""
    if not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object, q.graph_name)):
        return quads
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return list(dataset)


def _order(quad: ox.Quad) -> tuple:
    # Named subjects before blank ones, rdf:type first in each block: one readable block per resource.
    return (
        str(quad.graph_name),
        isinstance(quad.subject, ox.BlankNode),
        getattr(quad.subject, "value", ""),
        quad.predicate.value != RDF_TYPE,
        str(quad.predicate),
        str(quad.object),
    )


def _iris(quads: list[ox.Quad]) -> set[str]:
    terms = (t for q in quads for t in (q.subject, q.object) + (() if q.predicate.value == RDF_TYPE else (q.predicate,)))
    iris = {t.value for t in terms if isinstance(t, ox.NamedNode)}  # rdf:type is written `a`: no rdf: prefix for it
    return iris | {q.object.datatype.value for q in quads if isinstance(q.object, ox.Literal) and not q.object.language}


def _trig_prefixes(quads: list[ox.Quad], *, base: str) -> dict[str, str]:
    names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    return prefixes(base, _iris(quads) | names, only_used=True)


def _triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in quads]


def _sorted_lines(data: bytes) -> bytes:
    return b"".join(sorted(data.splitlines(keepends=True)))


def turtle(quads: list[ox.Quad], *, base: str) -> bytes:
    """Readable Turtle of the triples: used prefixes declared, one block per subject, sorted."""
    quads = sorted(canonical(quads), key=_order)
    used = prefixes(base, _iris(quads), only_used=True)
    return ox.serialize(_triples(quads), format=ox.RdfFormat.TURTLE, prefixes=used)


def jsonld_context(quads: list[ox.Quad], *, base: str) -> dict:
    """The @context kg.jsonld embeds and context.jsonld publishes: one term per prefix."""
    return {"@context": prefixes(base, _iris(quads))}


def _compact(value, namespaces: list[tuple[str, str]], key: str | None = None):
    if isinstance(value, list):
        return [_compact(item, namespaces, key) for item in value]
    if isinstance(value, dict):
        return {(k if k.startswith("@") else _compact(k, namespaces, "@id")): _compact(v, namespaces, k) for k, v in value.items()}
    if isinstance(value, str) and key in ("@id", "@type"):
        for name, ns in namespaces:
            if value.startswith(ns) and len(value) > len(ns) and not value[len(ns):].startswith("//"):
                return f"{name}:{value[len(ns):]}"
    return value


def jsonld(quads: list[ox.Quad], *, base: str) -> bytes:
    """JSON-LD written by Oxigraph (expanded form), compacted against the published context's prefixes."""
    quads = sorted(canonical(quads), key=_order)
    expanded = json.loads(ox.serialize(_triples(quads), format=ox.RdfFormat.JSON_LD))
    context = jsonld_context(quads, base=base)["@context"]
    namespaces = sorted(context.items(), key=lambda item: -len(item[1]))  # longest namespace wins
    document = {"@context": context, "@graph": _compact(expanded, namespaces)}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


def _graph(quads: list[ox.Quad], name: str) -> list[ox.Quad]:
    return [q for q in quads if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == name]


def write_dumps(dataset: Data, out_dir: Path, *, base: str) -> list[Path]:
    """Write kg.ttl/.nt/.jsonld (facts graph), policykg.trig/.nq (all but meta), context.jsonld and .gz twins."""
    out_dir = Path(out_dir)
    quads = normalised(dataset)
    facts = canonical(_graph(quads, f"{base}graph/kg"))
    published = canonical([q for q in quads if q.graph_name != ox.NamedNode(f"{base}graph/meta")])
    published.sort(key=_order)
    files = {
        "kg.ttl": turtle(facts, base=base),
        "kg.nt": _sorted_lines(ox.serialize(_triples(facts), format=ox.RdfFormat.N_TRIPLES)),
        "kg.jsonld": jsonld(facts, base=base),
        "policykg.trig": ox.serialize(published, format=ox.RdfFormat.TRIG, prefixes=_trig_prefixes(published, base=base)),
        "policykg.nq": _sorted_lines(ox.serialize(published, format=ox.RdfFormat.N_QUADS)),
    }
    written = []
    for name, data in files.items():
        written.append(write_file(out_dir / name, data))
        written.append(write_file(out_dir / f"{name}.gz", gzip_bytes(data)))
    context = json.dumps(jsonld_context(facts, base=base), ensure_ascii=False, indent=1) + "\n"
    written.append(write_file(out_dir / CONTEXT, context.encode()))
    return written


def write_description(meta: Data, out_dir: Path, *, base: str) -> list[Path]:
    """Write the meta graph (VoID/DCAT) as void.ttl and its gzip twin.

    Not passed through an Oxigraph store: the store would turn dcat:byteSize's xsd:nonNegativeInteger (which
    DCAT-AP requires) into xsd:integer. describe() is deterministic, so the file is reproducible all the same.
    """
    data = turtle(to_quads(meta), base=base)
    return [write_file(Path(out_dir) / "void.ttl", data), write_file(Path(out_dir) / "void.ttl.gz", gzip_bytes(data))]


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_checksums(paths: list[Path], out_dir: Path) -> Path:
    """Write SHA256SUMS (`sha256sum -c` format, sorted by name) for the given files in out_dir."""
    lines = sorted(f"{sha256(p)}  {Path(p).name}\n" for p in paths if Path(p).name != CHECKSUMS)
    return write_file(Path(out_dir) / CHECKSUMS, "".join(lines).encode())
