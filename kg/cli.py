"""The `kg` command: parses options and hands each subcommand to its module in kg.commands."""

import argparse
import importlib
import sys

# One module per subcommand (kg/commands/<name>.py), each with add_arguments(parser) and run(args) -> int.
COMMANDS = ("build", "validate", "dump", "link", "query", "serve")

EXIT_OK, EXIT_NONCONFORMING, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg", description="Build, check and serve the policykg knowledge graph.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"kg.commands.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"kg.commands.{name}":
                raise
            continue  # a subcommand whose module is not written yet is simply not offered
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

