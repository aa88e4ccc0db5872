"""Re-write the dumps (Turtle, N-Triples, JSON-LD, TriG, N-Quads, void.ttl, SHA256SUMS) from the built store."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from kg import paths
from kg.cli import EXIT_OK, UsageError
from kg.publish.step import publish_dumps

MODIFIED = ox.NamedNode("http://purl.org/dc/terms/modified")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `kg dump`."""
    parser.add_argument("--store", type=Path, default=paths.STORE, help=f"the built store (default {paths.STORE})")
    parser.add_argument("--out", type=Path, default=paths.DUMPS, help=f"where to write (default {paths.DUMPS})")


def _base(store: ox.Store) -> str:
    """The base IRI the store was built with: its facts graph is {base}graph/kg."""
    bases = [g.value.removesuffix("graph/kg") for g in store.named_graphs() if g.value.endswith("/graph/kg")]
    if len(bases) != 1:
        raise UsageError("the store has no single {base}graph/kg graph: is it a policykg store? run `kg build` first")
    return bases[0]


def _build_time(store: ox.Store, base: str) -> datetime:
    """When the store's data was built, as recorded in its meta graph, so a re-dump describes the same build."""
    catalog = ox.NamedNode(f"{base}id/catalog")
    for quad in store.quads_for_pattern(catalog, MODIFIED, None, ox.NamedNode(f"{base}graph/meta")):
        return datetime.fromisoformat(quad.object.value)
    return datetime.now(UTC)


def run(args: argparse.Namespace) -> int:
    """Read the store read-only and write every dump, the description and the checksums, swapped in whole."""
    if not (args.store / "CURRENT").is_file():
        raise UsageError(f"no store at {args.store}: run `kg build` first")
    store = ox.Store.read_only(str(args.store))
    base = _base(store)
    quads = list(store.quads_for_pattern(None, None, None))
    written = publish_dumps(quads, base=base, build_time=_build_time(store, base), folder=args.out)
    for path in written:
        print(path, file=sys.stderr)
    return EXIT_OK
