"""The `kg` command: parses options and hands each subcommand to its module.

Exit codes, the same for every subcommand:
  0  done
  1  the data does not conform to the shapes (kg build, kg validate) or some names were not found (kg link)
  2  usage error: bad option, unreadable input, no store (one line on stderr)
  3  the output could not be written (disk full, permissions, I/O); the previous output is unchanged (one line)
"""

import argparse
import importlib
import sys
from importlib.metadata import entry_points

from kg.publish.staging import OutputError

# One module per subcommand, each with add_arguments(parser) and run(args) -> int: kg's own in kg/commands/, and
# those other packages declare in the entry-point group below (`kg serve` is server/cli.py), so kg imports no server.
COMMANDS = ("build", "validate", "dump", "link", "query", "load")
ENTRY_POINTS = "policykg.commands"

EXIT_OK, EXIT_NONCONFORMING, EXIT_USAGE, EXIT_OUTPUT = 0, 1, 2, 3


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg", description="Build, check and serve the policykg knowledge graph.",
                                     epilog="exit status: 0 ok; 1 does not conform; 2 usage error; "
                                            "3 could not write the output (nothing changed)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = [(name, f"kg.commands.{name}") for name in COMMANDS]
    modules += sorted((entry.name, entry.value) for entry in entry_points(group=ENTRY_POINTS))
    for name, path in modules:
        module = importlib.import_module(path)
        sub = subparsers.add_parser(name, help=module.__doc__.strip().splitlines()[0])
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        print(f"kg {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as error:
        print(f"kg {args.command}: error: {error}", file=sys.stderr)
        return EXIT_OUTPUT

