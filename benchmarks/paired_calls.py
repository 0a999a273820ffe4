"""Added CPU per call from blocks of calls in one process: instrumentation on, off, and
replaced by its floor (what the SDK alone charges for the same outputs).

    .venv/bin/python benchmarks/paired_calls.py                        # chat, stream64, async8
    .venv/bin/python benchmarks/paired_calls.py --base ours-lean --rounds 100
    .venv/bin/python benchmarks/paired_calls.py --scenarios chat --calls 80

overhead.py compares fresh processes, one per variant: a process's memory layout alone moves a
chat by a few hundred µs, so its per-call differences range over ±500 µs from one repeat to
the next. Here every comparison is made inside one process, between blocks of calls run one
right after the other, in an order that rotates from round to round:

- ours (``--base``: ours, everything on, or ours-lean) in one process: a block with the
  instrumentor on, a block with it off and the floor replaying the call's telemetry (see
  ``sdk_floor.py``), and a block with it off;
- OpenLLMetry in another: a block with it on and one with it suppressed (its
  ``uninstrument()`` leaves a patch behind).

CPU is the whole process's (``time.process_time``) and each block ends with a flush of spans
and logs, so the exporters' work is paid for where it is caused. Each block checks its spans:
one per call with the instrumentation or the floor on, none with it off. The servers and the
variants' setup are those of ``overhead.py``; the model probe is off in both processes (it runs
on its own clock, not per call).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import overhead
import sdk_floor

SCENARIOS = ("chat", "stream64", "async8")
FLOOR_OF = {base: floor for floor, base in overhead.FLOORS.items()}
MODES = {"ours": ("on", "floor", "off"), "openllmetry": ("on", "off")}


def _ours_switch(floor: str, url: str) -> tuple[overhead._Calls, Callable[[str], None]]:
    """The calls, and a switch between the instrumentor on, the floor and nothing."""
    from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor

    calls = overhead._Calls.for_variant(floor, url)  # captures, then uninstruments
    replay = calls.after_call
    assert isinstance(replay, sdk_floor.Replayer)
    instrumentor = OllamaInstrumentor()  # the singleton _setup instrumented

    def switch(mode: str) -> None:
        # Only on a change: a second (un)instrument() logs a warning, which would be exported.
        on = mode == "on"
        if on and not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()
        elif not on and instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        # "floor-PART": the floor without that part of the telemetry.
        replay.without = frozenset([mode.removeprefix("floor-")]) if "-" in mode else frozenset()
        calls.after_call = replay if mode.startswith("floor") else None

    return calls, switch


def _openllmetry_switch(url: str) -> tuple[overhead._Calls, Callable[[str], None]]:
    on_off = overhead._switch("openllmetry")
    return overhead._Calls(url), lambda mode: on_off(mode == "on")


def _measure(variant: str, args: argparse.Namespace, url: str) -> dict[str, dict[str, list[float]]]:
    """Per scenario and mode, the CPU µs per call of each round's block."""
    setup = FLOOR_OF[args.base] if variant == "ours" else variant
    flush, counter = overhead._setup(setup)
    calls, switch = _ours_switch(setup, url) if variant == "ours" else _openllmetry_switch(url)
    modes = MODES[variant]
    if args.breakdown and variant == "ours":
        modes += tuple(f"floor-{part}" for part in sdk_floor.PARTS)
    scenarios, rounds, per_block = args.scenarios, args.rounds, args.calls
    for scenario in scenarios:  # warm-up
        for mode in modes:
            switch(mode)
            overhead._block(calls, scenario, 20, flush, counter)
    gc.collect()
    gc.freeze()
    cpu: dict[str, dict[str, list[float]]] = {s: {m: [] for m in modes} for s in scenarios}
    for done in range(rounds):
        shift = done % len(modes)
        for scenario in scenarios:
            for mode in modes[shift:] + modes[:shift]:
                switch(mode)
                gc.collect()
                block = overhead._block(calls, scenario, per_block, flush, counter)
                expected = 0.0 if mode == "off" else 1.0
                if block["spans_per_call"] != expected:
                    raise RuntimeError(f"{mode}: {block['spans_per_call']} spans per call")
                cpu[scenario][mode].append(block["cpu_us"])
    return cpu


def _worker(args: argparse.Namespace) -> int:
    env_variant = FLOOR_OF[args.base] if args.worker == "ours" else args.worker
    with overhead.in_this_process(env_variant) as url:
        cpu = _measure(args.worker, args, url)
    Path(args.out).write_text(json.dumps(cpu))
    return 0


def _run(variant: str, args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="paired-calls-") as tmp:
        out = Path(tmp, "cpu.json")
        command = [sys.executable, __file__, "--worker", variant, "--out", str(out)]
        flags = [f"--base={args.base}", f"--rounds={args.rounds}", f"--calls={args.calls}"]
        flags.append(f"--scenarios={','.join(args.scenarios)}")
        flags += ["--breakdown"] if args.breakdown else []
        proc = subprocess.run([*command, *flags], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{variant} worker failed:\n{proc.stderr[-4000:]}")
        result: dict[str, dict[str, list[float]]] = json.loads(out.read_text())
        return result


def _added(cpu: dict[str, list[float]], mode: str, than: str) -> dict[str, Any]:
    """The median and quartiles over rounds of (block in ``mode``) - (block in ``than``)."""
    diffs = [a - b for a, b in zip(cpu[mode], cpu[than], strict=True)]
    low, _, high = statistics.quantiles(diffs, n=4)
    return {"median": statistics.median(diffs), "quartiles": [low, high]}


def _summary(
    ours: dict[str, dict[str, list[float]]], theirs: dict[str, dict[str, list[float]]]
) -> dict[str, dict[str, Any]]:
    summary = {}
    for scenario, cpu in ours.items():
        summary[scenario] = {
            "none_cpu_us": statistics.median(cpu["off"]),
            "ours": _added(cpu, "on", "off"),
            "floor": _added(cpu, "floor", "off"),
            "our_code": _added(cpu, "on", "floor"),
            "openllmetry": _added(theirs[scenario], "on", "off"),
        }
        if "floor-events" in cpu:  # --breakdown: what each part adds to the floor
            summary[scenario]["parts"] = {
                part: _added(cpu, "floor", f"floor-{part}") for part in sdk_floor.PARTS
            }
    return summary


def _cell(added: dict[str, Any]) -> str:
    low, high = added["quartiles"]
    return f"{added['median']:+.0f} [{low:+.0f}, {high:+.0f}]"


def _report(summary: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    base = args.base
    lines = [
        f"Added CPU µs per call, median over {args.rounds} rounds of {args.calls}-call blocks "
        "[quartiles]; whole process, flush included:",
        "",
        f"| scenario | uninstrumented | {base} | floor: the SDK alone, the outputs of {base} | "
        f"our code in {base} ({base} - floor) | OpenLLMetry |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for scenario, row in summary.items():
        lines.append(
            f"| {scenario} | {row['none_cpu_us']:.0f} | {_cell(row['ours'])} | "
            f"{_cell(row['floor'])} | {_cell(row['our_code'])} | {_cell(row['openllmetry'])} |"
        )
    with_parts = {scenario: row["parts"] for scenario, row in summary.items() if "parts" in row}
    if with_parts:
        lines += [
            "",
            "What each part of the outputs costs the SDK (the floor minus the floor without it):",
            "",
            "| scenario | "
            + " | ".join(
                f"span {p}" if p in ("attributes", "events") else p for p in sdk_floor.PARTS
            )
            + " |",
            "|---|" + "---:|" * len(sdk_floor.PARTS),
        ]
        for scenario, parts in with_parts.items():
            cells = " | ".join(_cell(parts[part]) for part in sdk_floor.PARTS)
            lines.append(f"| {scenario} | {cells} |")
    lines += ["", "Target: ours with everything on adds less than OpenLLMetry:"]
    for scenario, row in summary.items():
        ours, floor, theirs = (row[k]["median"] for k in ("ours", "floor", "openllmetry"))
        verdict = "met" if ours < theirs else f"MISSED by {ours - theirs:.0f} µs"
        reach = "out of reach" if floor >= theirs else "within reach"
        lines.append(
            f"- {scenario}: {base} {ours:+.0f}, OpenLLMetry {theirs:+.0f}: {verdict}; the SDK "
            f"alone charges {floor:+.0f} for the outputs of {base}, so the target is {reach} for "
            "them on this SDK"
        )
    return "\n".join(lines)


def _scenario_names(value: str) -> list[str]:
    names = overhead._names(value)
    unknown = set(names) - set(overhead.SCENARIOS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="ours", choices=sorted(FLOOR_OF), help="[ours]")
    parser.add_argument("--scenarios", type=_scenario_names, default=list(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=150, help="rounds of blocks [150]")
    parser.add_argument("--calls", type=int, default=40, help="calls per block [40]")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also price each part of the floor (span attributes, events, logs, measurements)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    # Internal: the driver starts one worker per variant with these.
    parser.add_argument("--worker", choices=sorted(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (quartiles)")
    if args.worker:
        return _worker(args)
    summary = _summary(_run("ours", args), _run("openllmetry", args))
    print(json.dumps(summary, indent=2) if args.json else _report(summary, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
