"""``otel-taskmaster rules``: write (or check) the Prometheus rule files.

otel-taskmaster rules                    # writes prometheus/rules/*.yml
otel-taskmaster rules --output -         # prints them
otel-taskmaster rules --check            # exit 1 if the files on disk are stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUTPUT = Path("prometheus") / "rules"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="write the Prometheus alerting and recording rules",
        description="Write the alerting and recording rules defined in otel_taskmaster.alerts.",
    )
    parser.add_argument(
        "--output",
        "-o",
        default=str(DEFAULT_OUTPUT),
        help="directory for the rule files, or - for stdout (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in --output differ from the generated ones",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from otel_taskmaster.alerts.rules import rule_files

    files = rule_files()
    if args.output == "-":
        if args.check:
            print("--check needs a directory, not -", file=sys.stderr)
            return 2
        sys.stdout.write("---\n".join(files.values()))
        return 0
    out_dir = Path(args.output)
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (out_dir / name).is_file() or (out_dir / name).read_text() != text
        ]
        for name in stale:
            print(f"{out_dir / name} is out of date; run: otel-taskmaster rules", file=sys.stderr)
        return 1 if stale else 0
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text)
        print(out_dir / name)
    return 0
