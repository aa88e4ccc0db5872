"""Validate an RDF file (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML) against the policykg SHACL shapes."""

import argparse
import sys
from pathlib import Path

from kg.cli import EXIT_NONCONFORMING, EXIT_OK, UsageError
from kg.publish.validate import terminal_language, validate
from kg.rdf.rdffile import RdfSyntaxError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `kg validate`."""
    parser.add_argument("file", type=Path, help="the data to check")
    parser.add_argument("--shapes", type=Path, help="SHACL shapes to use instead of shapes/policykg.ttl")
    parser.add_argument("--ontology", type=Path, help="ontology whose class hierarchy sh:class sees (default ontology/policykg.ttl)")
    parser.add_argument("--format", choices=("text", "turtle", "json"), default="text", help="report format (default text)")
    parser.add_argument("--lang", choices=("zh", "en"), help="language shown first in text reports (default: the terminal's)")


def run(args: argparse.Namespace) -> int:
    """Print the report; exit 0 when the data conforms, 1 when it does not, 2 on unreadable input."""
    for path in (args.file, args.shapes, args.ontology):
        if path is not None and not path.is_file():
            raise UsageError(f"no such file: {path}")
    try:
        validation = validate(args.file, shapes=args.shapes, ontology=args.ontology)
    except RdfSyntaxError as error:
        raise UsageError(f"cannot parse {error}") from None
    if args.format == "turtle":
        sys.stdout.write(validation.turtle())
    elif args.format == "json":
        sys.stdout.write(validation.json())
    else:
        sys.stdout.write(validation.text(lang=args.lang or terminal_language()))
    return EXIT_OK if validation.conforms else EXIT_NONCONFORMING
