"""Reads RDF files of any common syntax with Oxigraph, turning syntax errors into a message with line and column."""

import re
from pathlib import Path

import pyoxigraph as ox

FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}


_POSITION = re.compile(r"^Parser error at (line|between)[^:]*: ")  # pyoxigraph repeats the position we print


class RdfSyntaxError(ValueError):
    """A file that does not parse: where (path, line, column) and why."""

    def __init__(self, path: Path, line: int | None, column: int | None, reason: str):
        self.path, self.line, self.column, self.reason = path, line, column, reason
        where = f"{path}, line {line}, column {column}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


def load(path: Path, *, base_iri: str | None = None) -> list[ox.Quad]:
    """Every quad in the file; the syntax is chosen by the file's extension."""
    path = Path(path)
    rdf_format = FORMATS.get(path.suffix.lower())
    if rdf_format is None:
        raise RdfSyntaxError(path, None, None, f"unknown RDF syntax for extension {path.suffix!r} (use one of {', '.join(FORMATS)})")
    try:
        return list(ox.parse(path=str(path), format=rdf_format, base_iri=base_iri or path.resolve().as_uri()))
    except SyntaxError as error:
        # pyoxigraph reports 1-based line and column in (lineno, offset); its message repeats them
        raise RdfSyntaxError(path, error.lineno, error.offset, _POSITION.sub("", error.msg)) from None
