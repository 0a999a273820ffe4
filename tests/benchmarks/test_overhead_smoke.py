"""benchmarks/overhead.py end to end, with a handful of calls: it runs, traces and reports.

No timing is asserted (timings belong to the benchmark's output, not to a test); what is
asserted is that every variant ran every scenario against the real servers, that the
instrumented variants made exactly one chat span per call, and that telemetry reached the sink.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

import pytest

from tests.benchmarks.scripts import BENCHMARKS, run_script

SCRIPT = BENCHMARKS / "overhead.py"
SCENARIOS = ("chat", "stream64", "stream16", "stream256", "async8")
TINY = [
    *("--repeats", "1", "--calls", "8", "--rounds", "1", "--warmup", "2"),
    *("--ab-pairs", "2"),
]


def _run(*args: str) -> str:
    return run_script("overhead.py", *args)


def test_json_run_measures_every_variant_and_scenario_with_one_span_per_call() -> None:
    report: dict[str, Any] = json.loads(_run(*TINY, "--json"))

    summary = report["summary"]
    assert set(summary) == {"none", "ours", "openllmetry"}
    for variant, expected_spans in (("none", 0.0), ("ours", 1.0), ("openllmetry", 1.0)):
        for scenario in SCENARIOS:
            row = summary[variant][scenario]
            assert row["spans_per_call"] == expected_spans, (variant, scenario)
            assert row["wall_us"] > 0 and row["cpu_us"] > 0, (variant, scenario)
        assert set(summary[variant]["per_chunk"]) >= {"cpu_us", "wall_us", "added_cpu_us"}
        # The slope spans the widest pair of streams: 240 chunks, not 48.
        assert summary[variant]["per_chunk"]["between"] == ["stream16", "stream256"]
    # The paired per-chunk runs switch each instrumentation on and off (the worker checks
    # that only the calls made with it on were traced).
    for variant in ("ours", "openllmetry"):
        assert summary[variant]["per_chunk_ab"]["pairs"] == 2
    # Added time is against the uninstrumented worker of the same repeat.
    (ours,), (none,) = report["runs"]["ours"], report["runs"]["none"]
    added = ours["chat"]["cpu_us"] - none["chat"]["cpu_us"]
    assert summary["ours"]["chat"]["added_cpu_us"] == pytest.approx(added)
    # Ours exports traces, metrics and logs; OpenLLMetry traces and metrics.
    sink = report["meta"]["sink_requests"]
    assert sink.get("/v1/traces", 0) >= 2
    assert sink.get("/v1/metrics", 0) >= 2
    assert sink.get("/v1/logs", 0) >= 1


def test_markdown_run_prints_the_table_and_the_targets() -> None:
    out = _run(*TINY, "--variants", "ours-lean,ours-no-quality,openllmetry")

    assert "| scenario | variant | wall µs/call | CPU µs/call |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    for scenario in SCENARIOS:
        for variant in ("none", "ours-lean", "ours-no-quality"):
            found = [row for row in rows if row.startswith(f"| {scenario} | {variant} |")]
            assert len(found) == 1
            spans = "0.00" if variant == "none" else "1.00"
            assert found[0].endswith(f"| {spans} |"), found[0]
    assert any(row.startswith("| ours-no-quality |") for row in rows)  # the per-chunk table
    assert "Targets:" in out
    assert "- chat: ours-no-quality (reference) adds" in out
    assert "- per streamed chunk (paired on/off in one process): ours-lean (reference) adds" in out
    assert any(row.startswith("| openllmetry | ") and row.endswith("| 2 |") for row in rows)


def test_memory_run_samples_rss_at_each_step_and_traces_every_call() -> None:
    args = ["--memory", "--memory-calls", "40", "--sample-every", "20", "--warmup", "3"]
    report = json.loads(_run(*args, "--tracemalloc", "--json"))

    samples = report["samples"]
    assert [s["calls"] for s in samples] == [0, 20, 40]
    assert all(s["rss_kib"] > 0 and s["traced_kib"] > 0 for s in samples)
    assert report["spans"] == 3 + 40


def test_profile_run_lists_our_send_wrapper_among_the_costs() -> None:
    out = _run("--profile", "stream64", "--calls", "5", "--warmup", "1", "--profile-top", "15")

    assert "cProfile of 5 stream64 calls, variant ours" in out
    assert "otel_taskmaster/instrumentation/ollama/" in out


def test_a_setting_without_a_value_is_refused_before_anything_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--set", "TASKMASTER_EVALUATION_EVENTS"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "--set takes NAME=VALUE, got: TASKMASTER_EVALUATION_EVENTS" in proc.stderr


def _overhead_module() -> Any:
    spec = importlib.util.spec_from_file_location("overhead_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ((300, 250, 350), (500, 450, 550), "met"),
        ((900, 850, 950), (500, 450, 550), "MISSED by 400 µs"),
        # Overlapping ranges over repeats: this run cannot tell the two apart.
        ((480, 300, 700), (500, 450, 550), "not told apart: the ranges [+300, +700] and "),
    ],
)
def test_a_per_call_verdict_needs_ranges_that_do_not_overlap(
    ours: tuple[int, int, int], theirs: tuple[int, int, int], expected: str
) -> None:
    def row(median: int, low: int, high: int) -> dict[str, Any]:
        return {"added_cpu_us": median, "added_cpu_us_range": [low, high]}

    verdict = _overhead_module()._per_call_verdict(row(*ours), row(*theirs))
    assert verdict.startswith(expected), verdict
