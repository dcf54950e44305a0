"""The command line: ``fairautoml fit | report | worker | leaderboard | dashboard | predict |
audit | update | datasets | bench``: the flags (:mod:`.parser`), what each command does
(:mod:`.commands`, the only module that prints), and :func:`main`, the ``fairautoml``
script's entry point.

May import every layer below it.
"""

from __future__ import annotations

import logging
import sys

from fairautoml.cli.commands import PYTHON_TO_CLI, cli_words
from fairautoml.cli.inputs import parse_sensitive
from fairautoml.cli.parser import build_parser
from fairautoml.exceptions import FairAutoMLError


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (2 on a fairautoml error, said in one line)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", 0) else logging.WARNING,
        format="%(message)s",
    )
    try:
        return int(args.func(args))
    except FairAutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


__all__ = ["PYTHON_TO_CLI", "build_parser", "cli_words", "main", "parse_sensitive"]
