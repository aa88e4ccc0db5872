"""Reconcile place names with the GB/T 2260 division table: the article's mentions, or your own list with --input."""

import argparse
import sys
from pathlib import Path

from kg.cli import EXIT_NONCONFORMING, EXIT_OK, UsageError
from kg.link.divisions import by_code
from kg.link.reconcile import Match, area_relations, reconcile
from kg.paths import ARTICLE
from kg.rdf.iris import DEFAULT_BASE

EPILOG = """\
--input FILE (or - for standard input): one place name per line; blank lines and lines starting with # are skipped.
Output, tab-separated, one line per name:
  NAME  CODE        LEVEL (province|prefecture|county)  OFFICIAL NAME  RULE
  NAME  area:KEY    area | macro-region                 NAME           RULE  not a division: where it lies
  NAME  not found   REASON                              closest candidates
Without --input the article's place mentions are checked and the linking report is printed.

exit status: 0 every name (or mention) matched; 1 some did not (they are listed); 2 usage error (unreadable file, no names).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `kg link`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--input", metavar="FILE", help="reconcile the names in FILE (one per line; - for stdin)")
    parser.add_argument("--article", type=Path, default=ARTICLE, help="the article whose mentions to link (default: the bundled one)")
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base IRI (default {DEFAULT_BASE})")


def run(args: argparse.Namespace) -> int:
    """Print one line per name or mention; 0 when all matched, 1 when some did not."""
    if args.input is not None:
        return _names(_read_names(args.input))
    return _article(args.article, args.base)


def _read_names(source: str) -> list[str]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such file: {source}") from None
    except (IsADirectoryError, PermissionError) as error:
        raise UsageError(f"cannot read {source}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{source}: not UTF-8 (byte {error.start})") from None
    names = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not names:
        raise UsageError(f"{source}: no names (one place name per line)")
    return names


def describe_match(found: Match) -> str:
    """The tab-separated columns after the name: code (or area:key), level, official name, rule and, for areas, where."""
    if found.kind == "division":
        return f"{found.key}\t{found.level}\t{found.official}\t{found.rule}"
    where = [f"{relation} {code} {by_code()[code].name}" for key, relation, code, _ in area_relations() if key == found.key]
    note = f"\tnot a division: {'; '.join(where)}" if where else "\tnot a division"
    return f"area:{found.key}\t{found.level}\t{found.official}\t{found.rule}{note}"


def _names(names: list[str]) -> int:
    missing = 0
    for name in names:
        found = reconcile(name)
        if isinstance(found, Match):
            print(f"{name}\t{describe_match(found)}")
        else:
            missing += 1
            print(f"{name}\tnot found\t{found.reason}\t{', '.join(found.candidates) or '-'}")
    if missing:
        print(f"kg link: {missing} of {len(names)} names not found", file=sys.stderr)
    return EXIT_NONCONFORMING if missing else EXIT_OK


def _article(path: Path, base: str) -> int:
    from rdflib import Dataset

    from kg.extract.article import extract
    from kg.link.places import link
    from kg.pipeline import InputError, read_article, slug_for
    from kg.rdf.iris import graph_iri
    from kg.text.normalize import normalize

    try:
        graph_iri(base, "links")  # checks the base IRI before any work
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        article = extract(normalize(read_article(path)), slug=slug_for(path))
    except InputError as error:
        raise UsageError(str(error)) from None
    report = link(Dataset(), article, base=base)
    print("\n".join(report.lines()))
    return EXIT_OK if report.ok else EXIT_NONCONFORMING
