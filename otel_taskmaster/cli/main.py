"""``otel-taskmaster``: one argparse front door; each subcommand lives in its own module.

A subcommand module defines ``add_parser(subparsers)`` (which sets ``func`` on its parser)
and is imported only when the command line names it, so ``otel-taskmaster rules`` never
pays for the simulator's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from otel_taskmaster.version import __version__

# subcommand -> module under otel_taskmaster.cli
_SUBCOMMANDS = {
    "simulate": "simulate",
    "rules": "rules",
    "baseline": "baseline",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otel-taskmaster",
        description="OpenTelemetry distro for LLM services on Ollama: tools.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _SUBCOMMANDS.items():
        if only is not None and name != only:
            subparsers.add_parser(name, help=f"(see otel-taskmaster {name} --help)")
            continue
        importlib.import_module(f"otel_taskmaster.cli.{module}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(only=command if command in _SUBCOMMANDS else None)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
