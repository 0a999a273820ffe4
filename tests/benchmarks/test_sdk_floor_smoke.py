"""benchmarks/sdk_floor.py: the floor variants emit again exactly what ours emitted for a call.

The script captures one instrumented call of each shape, replays it with the instrumentor
removed, captures the replay the same way and compares the two; it exits non-zero on any
difference. Here it must agree for every shape, and the outputs must be the ones each ours
variant makes: everything on (events, a request log) or traces and metrics only.
"""

from __future__ import annotations

import json

import pytest

from tests.benchmarks.scripts import run_script

SHAPES = ("chat", "stream16", "stream64", "stream256")


def _rows(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells and cells[0] in SHAPES:
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize(
    ("variant", "events", "logs"),
    [("floor", "5", "1"), ("floor-lean", "0", "0")],
)
def test_replay_emits_what_the_instrumented_call_emitted(
    variant: str, events: str, logs: str
) -> None:
    rows = _rows(run_script("sdk_floor.py", "--variant", variant))

    assert set(rows) == set(SHAPES)
    for shape, (attributes, span_events, log_records, measurements, same) in rows.items():
        assert same == "yes", shape
        assert int(attributes) >= 15, shape  # the GenAI and Ollama attributes at least
        assert (span_events, log_records) == (events, logs), shape
        assert int(measurements) >= 5, shape


def test_overhead_run_reports_the_floor_beside_openllmetry() -> None:
    out = run_script(
        "overhead.py",
        *("--variants", "ours,floor,openllmetry", "--scenarios", "chat,async8"),
        *("--repeats", "1", "--calls", "8", "--rounds", "1", "--warmup", "2", "--ab-pairs", "0"),
    )

    for scenario in ("chat", "async8"):
        # One replayed span per call, as the instrumented variant makes one call span.
        assert f"| {scenario} | floor |" in out
        row = next(line for line in out.splitlines() if line.startswith(f"| {scenario} | floor |"))
        assert row.endswith("| 1.00 |"), row
        assert f"- {scenario}: floor (the SDK alone, emitting what ours emits) adds" in out
        assert "; our code in ours " in out


def test_paired_calls_compare_ours_its_floor_and_openllmetry_in_one_process_each() -> None:
    # Each block checks its spans (one per call on and with the floor or a part of it, none
    # off): a switch that did not switch fails the run.
    report = json.loads(
        run_script(
            "paired_calls.py",
            *("--scenarios", "chat,stream64", "--rounds", "2", "--calls", "4", "--json"),
            "--breakdown",
        )
    )

    assert set(report) == {"chat", "stream64"}
    for row in report.values():
        assert row["none_cpu_us"] > 0
        for key in ("ours", "floor", "our_code", "openllmetry"):
            low, high = row[key]["quartiles"]
            assert low <= row[key]["median"] <= high, key
        # --breakdown: one price per part of the floor.
        assert set(row["parts"]) == {"attributes", "events", "logs", "measurements"}
