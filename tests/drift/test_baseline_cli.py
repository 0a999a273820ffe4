"""``otel-taskmaster baseline fit`` / ``show``, run through the real front door."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

from otel_taskmaster.cli.main import main
from otel_taskmaster.drift import Baseline, fit


def _write_observations(path: Path) -> None:
    rng = random.Random(12345)
    with path.open("w") as out:
        for i in range(2000):
            model = "llama3.2" if i % 2 else "qwen2.5"
            rows = [
                ("overall_quality", rng.gauss(0.85, 0.1)),
                ("latency_seconds", rng.lognormvariate(0.0, 0.5)),
                ("refusal", int(rng.random() < 0.05)),
            ]
            for metric, value in rows:
                out.write(json.dumps({"metric": metric, "model": model, "value": value}) + "\n")
        out.write("\n")  # blank lines are skipped


def test_fit_writes_a_baseline_the_monitor_can_load(tmp_path, capsys):
    source, target = tmp_path / "scores.jsonl", tmp_path / "baseline.json"
    _write_observations(source)
    assert main(["baseline", "fit", "--input", str(source), "--output", str(target)]) == 0
    assert capsys.readouterr().out == f"wrote 3 entries to {target}\n"
    baseline = Baseline.load(target)
    assert {(e.metric, e.model, e.kind, e.n) for e in baseline} == {
        ("overall_quality", "*", "gaussian", 2000),
        ("latency_seconds", "*", "lognormal", 2000),
        ("refusal", "*", "bernoulli", 2000),
    }
    # The file holds exactly what the library fits from the same observations.
    with source.open() as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    assert baseline == fit((r["metric"], r["model"], r["value"]) for r in rows)


def test_fit_per_model_and_kind_override(tmp_path):
    source, target = tmp_path / "scores.jsonl", tmp_path / "baseline.json"
    _write_observations(source)
    args = ["baseline", "fit", "--input", str(source), "--output", str(target), "--per-model"]
    assert main([*args, "--kind", "latency_seconds=gaussian"]) == 0
    baseline = Baseline.load(target)
    assert len(baseline) == 9
    assert baseline.entry("latency_seconds", "qwen2.5").kind == "gaussian"
    assert baseline.entry("refusal", "llama3.2").n == 1000


def test_show_prints_a_table_with_the_median_for_lognormal(tmp_path, capsys):
    path = tmp_path / "baseline.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "entries": [
                    {"metric": "latency_seconds", "kind": "lognormal", "mean": math.log(1.5),
                     "std": 0.5, "n": 10},
                    {"metric": "refusal", "kind": "bernoulli", "rate": 0.05, "n": 10},
                ],
            }
        )
    )  # fmt: skip
    assert main(["baseline", "show", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "metric",
        "model",
        "kind",
        "n",
        "mean",
        "std",
        "rate/tail",
        "centre",
    ]
    assert lines[1].split() == [
        "latency_seconds",
        "*",
        "lognormal",
        "10",
        "0.4055",
        "0.5",
        "-",
        "1.5",
    ]
    assert lines[2].split() == ["refusal", "*", "bernoulli", "10", "-", "-", "0.05", "0.05"]


def test_show_bad_file_names_file_and_field(tmp_path, capsys):
    path = tmp_path / "baseline.json"
    path.write_text('{"entries": [{"metric": "q", "std": -1}]}')
    assert main(["baseline", "show", str(path)]) == 2
    assert (
        capsys.readouterr().err
        == f"baseline show: {path}: entries[0].std: must be >= 0, got -1.0\n"
    )


def test_fit_bad_input_line_is_reported_with_its_number(tmp_path, capsys):
    source = tmp_path / "scores.jsonl"
    source.write_text('{"metric": "q", "value": 0.5}\n{"metric": "q", "value": "high"}\n')
    code = main(["baseline", "fit", "--input", str(source), "--output", str(tmp_path / "b.json")])
    assert code == 2
    assert (
        capsys.readouterr().err == f"baseline fit: {source}:2: value: want a number, got 'high'\n"
    )
    assert not (tmp_path / "b.json").exists()


def test_fit_rejects_bad_kind_and_empty_input(tmp_path, capsys):
    source = tmp_path / "scores.jsonl"
    source.write_text("")
    out = str(tmp_path / "b.json")
    assert main(["baseline", "fit", "--input", str(source), "--output", out, "--kind", "q=x"]) == 2
    assert "--kind 'q=x'" in capsys.readouterr().err
    assert main(["baseline", "fit", "--input", str(source), "--output", out]) == 2
    assert capsys.readouterr().err == f"baseline fit: {source}: no observations\n"


def test_console_script_reads_stdin(tmp_path):
    target = tmp_path / "baseline.json"
    lines = "".join(json.dumps({"metric": "q", "value": v}) + "\n" for v in (0.5, 0.7, 0.9))
    script = Path(sys.executable).with_name("otel-taskmaster")
    result = subprocess.run(
        [str(script), "baseline", "fit", "--input", "-", "--output", str(target)],
        input=lines,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    (entry,) = Baseline.load(target)
    assert (entry.metric, entry.model, entry.n) == ("q", "*", 3)
    assert math.isclose(entry.mean, 0.7) and math.isclose(entry.std, 0.2)


def test_baseline_without_subcommand_prints_usage(capsys):
    assert main(["baseline"]) == 2
    assert "usage: otel-taskmaster baseline" in capsys.readouterr().err
