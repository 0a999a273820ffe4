"""``otel-taskmaster baseline``: fit a drift baseline from a reference period, or show one.

    otel-taskmaster baseline fit --input scores.jsonl --output baseline.json [--per-model]
    otel-taskmaster baseline show baseline.json

The input is JSON lines, one observation each: ``{"metric": "overall_quality", "model":
"llama3.2", "value": 0.91}`` (``model`` optional). Yes/no checks are 0 or 1. ``-`` reads
standard input. Kinds default to lognormal for ``latency_seconds``, bernoulli for
``refusal``/``truncated``/``empty`` and gaussian otherwise; ``--kind metric=kind`` overrides.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from typing import IO, Any

from otel_taskmaster.drift.baseline import (
    ANY_MODEL,
    KINDS,
    LOGNORMAL,
    Baseline,
    BaselineError,
    fit,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "baseline",
        help="fit or show a drift-detection baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="baseline_command", metavar="{fit,show}")
    fit_parser = commands.add_parser("fit", help="fit a baseline from JSON-lines observations")
    fit_parser.add_argument("--input", required=True, help="JSON-lines file, or - for stdin")
    fit_parser.add_argument("--output", required=True, help="baseline JSON file to write")
    fit_parser.add_argument(
        "--per-model", action="store_true", help="also fit one entry per model (n >= --min-n)"
    )
    fit_parser.add_argument("--min-n", type=int, default=30, help="least n for a model entry")
    fit_parser.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="METRIC=KIND",
        help=f"kind of a metric ({', '.join(KINDS)}); repeatable",
    )
    show_parser = commands.add_parser("show", help="print a baseline file as a table")
    show_parser.add_argument("file")
    parser.set_defaults(func=run, baseline_usage=parser.format_usage())


def run(args: argparse.Namespace) -> int:
    if args.baseline_command == "fit":
        return run_fit(args)
    if args.baseline_command == "show":
        return run_show(args)
    print(args.baseline_usage, end="", file=sys.stderr)
    return 2


def run_fit(args: argparse.Namespace) -> int:
    kinds = {}
    for item in args.kind:
        metric, sep, kind = item.partition("=")
        if not sep or not metric or kind not in KINDS:
            message = f"baseline fit: --kind {item!r}: want METRIC=KIND, KIND in {KINDS}"
            print(message, file=sys.stderr)
            return 2
        kinds[metric] = kind
    try:
        if args.input == "-":
            baseline = fit(_read(sys.stdin, "<stdin>"), kinds, args.per_model, args.min_n)
        else:
            with open(args.input, encoding="utf-8") as stream:
                baseline = fit(_read(stream, args.input), kinds, args.per_model, args.min_n)
    except OSError as exc:
        print(f"baseline fit: {args.input}: {exc.strerror}", file=sys.stderr)
        return 2
    except BaselineError as exc:
        print(f"baseline fit: {exc}", file=sys.stderr)
        return 2
    if not len(baseline):
        print(f"baseline fit: {args.input}: no observations", file=sys.stderr)
        return 2
    baseline.save(args.output)
    print(f"wrote {len(baseline)} entries to {args.output}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        baseline = Baseline.load(args.file)
    except BaselineError as exc:
        print(f"baseline show: {exc}", file=sys.stderr)
        return 2
    rows = [("metric", "model", "kind", "n", "mean", "std", "rate/tail", "centre")]
    for entry in sorted(baseline, key=lambda e: (e.metric, e.model != ANY_MODEL, e.model)):
        centre = entry.rate if entry.rate is not None else entry.mean
        if entry.kind == LOGNORMAL and entry.mean is not None:
            centre = math.exp(entry.mean)  # the median, in the metric's own units
        rows.append(
            (
                entry.metric,
                entry.model,
                entry.kind,
                str(entry.n),
                _num(entry.mean),
                _num(entry.std),
                _num(entry.rate if entry.rate is not None else entry.tail_rate),
                _num(centre),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _read(stream: IO[str], name: str) -> Iterator[tuple[str, str, float]]:
    for number, line in enumerate(stream, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{name}:{number}: not valid JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise BaselineError(f"{name}:{number}: want a JSON object")
        metric = record.get("metric")
        if not isinstance(metric, str) or not metric:
            raise BaselineError(f"{name}:{number}: metric: want a non-empty string")
        model = record.get("model") or "unknown"
        if not isinstance(model, str):
            raise BaselineError(f"{name}:{number}: model: want a string")
        value = record.get("value")
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float):
            raise BaselineError(f"{name}:{number}: value: want a number, got {value!r}")
        yield metric, model, float(value)
