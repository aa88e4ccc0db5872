"""Run one SPARQL query against the built store and print the answer, serialised by Oxigraph."""

import sys
from pathlib import Path

from kg.cli import EXIT_OK, UsageError
from kg.paths import STORE

RESULTS = {"json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV"}
GRAPHS = {"turtle": "TURTLE", "ntriples": "N_TRIPLES", "xml": "RDF_XML", "jsonld": "JSON_LD", "trig": "TRIG", "nquads": "N_QUADS"}


def add_arguments(parser) -> None:
    """Options of `kg query`."""
    parser.add_argument("query", help="the SPARQL query text, or - to read it from standard input")
    parser.add_argument("--format", choices=sorted(set(RESULTS) | set(GRAPHS)),
                        help="json, xml, csv or tsv for SELECT/ASK (default json); turtle, ntriples, xml, jsonld, "
                             "trig or nquads for CONSTRUCT/DESCRIBE (default turtle)")
    parser.add_argument("--store", type=Path, default=STORE, help=f"the Oxigraph store (default: {STORE})")


def run(args) -> int:
    """Open the store read-only; the default graph is the union of all graphs, as on the endpoint."""
    import pyoxigraph as ox

    text = sys.stdin.read() if args.query == "-" else args.query
    if not (args.store / "CURRENT").is_file():
        raise UsageError(f"no store at {args.store} (run `kg build` first)")
    store = ox.Store.read_only(str(args.store))
    try:
        results = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise UsageError(f"SPARQL syntax error: {error}") from None
    if isinstance(results, ox.QueryTriples):
        name = GRAPHS.get(args.format or "turtle")
        if name is None:
            raise UsageError(f"--format {args.format} is for SELECT/ASK; CONSTRUCT/DESCRIBE take {', '.join(GRAPHS)}")
        body = results.serialize(format=getattr(ox.RdfFormat, name))
    else:
        name = RESULTS.get(args.format or "json")
        if name is None:
            raise UsageError(f"--format {args.format} is for CONSTRUCT/DESCRIBE; SELECT/ASK take {', '.join(RESULTS)}")
        body = results.serialize(format=getattr(ox.QueryResultsFormat, name))
    sys.stdout.buffer.write(body)
    if not body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    return EXIT_OK
