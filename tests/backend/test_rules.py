"""Alert and recording rules: generated once, checked in, valid, and unit-tested by promtool."""

from __future__ import annotations

import re
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from backend_sources import PROMTOOL_TESTS_DIR, RULES_DIR

from otel_taskmaster.alerts.rules import (
    ALERT_RULES,
    RECORDING_GROUPS,
    AlertRule,
    Severity,
    generate_prometheus_rules,
    rule_files,
)
from otel_taskmaster.cli.main import main
from tests.support.prometheus import PROMTOOL_BINARY, running_prometheus

# The seed's five alerts: name -> (severity, for, runbook).
SEED_ALERTS = {
    "TaskMasterHighLatency": (
        Severity.WARNING,
        "5m",
        "Check GPU utilization and concurrent request count",
    ),
    "TaskMasterHighErrorRate": (
        Severity.CRITICAL,
        "2m",
        "Check model health and review error logs",
    ),
    "TaskMasterModelDown": (
        Severity.CRITICAL,
        "1m",
        "Restart Ollama service and check model loading",
    ),
    "TaskMasterQualityDrift": (
        Severity.WARNING,
        "15m",
        "Review recent responses and consider retraining",
    ),
    "TaskMasterNoRequests": (
        Severity.WARNING,
        "10m",
        "Check client connectivity and load balancer health",
    ),
}


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL_BINARY, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_checked_in_rule_files_equal_the_generated_ones() -> None:
    for name, text in rule_files().items():
        assert (RULES_DIR / name).read_text() == text, f"run: otel-taskmaster rules ({name})"
    assert sorted(p.name for p in RULES_DIR.glob("*.yml")) == sorted(rule_files())


def test_rules_cli_writes_the_generated_files(tmp_path: Path) -> None:
    assert main(["rules", "--output", str(tmp_path)]) == 0
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == rule_files()


def test_rules_cli_check_fails_on_a_stale_file_and_passes_on_fresh_ones(tmp_path: Path) -> None:
    assert main(["rules", "--output", str(tmp_path)]) == 0
    assert main(["rules", "--output", str(tmp_path), "--check"]) == 0
    stale = tmp_path / "taskmaster-alerts.yml"
    stale.write_text(stale.read_text().replace("> 0.05", "> 0.5"))
    assert main(["rules", "--output", str(tmp_path), "--check"]) == 1
    assert "0.5" in stale.read_text()  # --check never writes


def test_rules_cli_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--output", "-"]) == 0
    out = capsys.readouterr().out
    docs = [yaml.safe_load(doc) for doc in out.split("---\n")]
    names = [group["name"] for doc in docs for group in doc["groups"]]
    assert names == ["taskmaster"] + [group.name for group in RECORDING_GROUPS]


def test_seed_alerts_keep_names_severities_durations_and_runbooks() -> None:
    by_name = {rule.name: rule for rule in ALERT_RULES}
    for name, (severity, for_duration, runbook) in SEED_ALERTS.items():
        rule = by_name[name]
        assert (rule.severity, rule.for_duration, rule.annotations["runbook"]) == (
            severity,
            for_duration,
            runbook,
        )


def test_seed_thresholds_are_kept() -> None:
    by_name = {rule.name: rule.expr for rule in ALERT_RULES}
    assert by_name["TaskMasterHighLatency"].startswith("histogram_quantile(0.95,")
    assert by_name["TaskMasterHighLatency"].endswith("> 2")
    assert by_name["TaskMasterHighErrorRate"].endswith("> 0.05")
    assert by_name["TaskMasterModelDown"] == "taskmaster_model_loaded == 0"
    assert 'dimension="overall_quality"' in by_name["TaskMasterQualityDrift"]
    assert by_name["TaskMasterQualityDrift"].endswith("< 0.7")
    assert "increase(taskmaster_requests_total[10m])" in by_name["TaskMasterNoRequests"]


def test_added_alerts_cover_ttft_drift_slo_export_and_instrumentation() -> None:
    exprs = " ".join(rule.expr for rule in ALERT_RULES)
    for metric in (
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
        "taskmaster_drift_status",
        "taskmaster_telemetry_export_failures_total",
        "taskmaster_instrumentation_errors_total",
        "taskmaster:response_quality:ratio_1h_1w",
        "taskmaster:request_errors:ratio_rate1h",  # SLO burn rate
    ):
        assert metric in exprs


def test_alert_rule_yaml_carries_severity_label_and_for() -> None:
    rule = AlertRule("X", "d", "up == 0", Severity.INFO, "0s", {"summary": "s"})
    assert rule.to_prometheus() == {
        "alert": "X",
        "expr": "up == 0",
        "labels": {"severity": "info"},
        "annotations": {"summary": "s"},
    }
    (group,) = yaml.safe_load(generate_prometheus_rules())["groups"]
    assert [r["alert"] for r in group["rules"]] == [r.name for r in ALERT_RULES]


def test_promtool_check_rules_passes() -> None:
    files = sorted(RULES_DIR.glob("*.yml"))
    result = _promtool("check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    total = sum(len(g.rules) for g in RECORDING_GROUPS) + len(ALERT_RULES)
    assert result.stdout.count("SUCCESS") == len(files)
    found = sum(int(n) for n in re.findall(r"SUCCESS: (\d+) rules found", result.stdout))
    assert found == total


def test_promtool_unit_tests_pass() -> None:
    files = sorted(PROMTOOL_TESTS_DIR.glob("*.yml"))
    assert files
    result = _promtool("test", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_promtool_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in PROMTOOL_TESTS_DIR.glob("*.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule.name for rule in ALERT_RULES}
    assert names - firing == set()
    assert names - quiet == set()


def test_promtool_unit_tests_fail_when_an_alert_would_not_fire(tmp_path: Path) -> None:
    # Proves the unit tests can fail: raise the latency threshold and the firing case breaks.
    alerts = (
        (RULES_DIR / "taskmaster-alerts.yml")
        .read_text()
        .replace(
            "rate(taskmaster_request_latency_seconds_bucket[5m]))) > 2",
            "rate(taskmaster_request_latency_seconds_bucket[5m]))) > 20",
        )
    )
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "taskmaster-alerts.yml").write_text(alerts)
    (tmp_path / "rules" / "taskmaster-recording.yml").write_text(
        (RULES_DIR / "taskmaster-recording.yml").read_text()
    )
    (tmp_path / "tests").mkdir()
    test_file = tmp_path / "tests" / "seed.yml"
    test_file.write_text((PROMTOOL_TESTS_DIR / "seed_alerts_test.yml").read_text())
    result = _promtool("test", "rules", test_file)
    assert result.returncode != 0
    assert "TaskMasterHighLatency" in result.stdout + result.stderr


# The seed's own expressions, kept here only to show what the rewritten ones fix.
_SEED_ERROR_RATE = (
    "rate(taskmaster_requests_total{status='error'}[5m])"
    " / rate(taskmaster_requests_total[5m]) > 0.05"
)
_SEED_NO_REQUESTS = "increase(taskmaster_requests_total[10m]) == 0"


def _expr_case(
    tmp_path: Path, series: str, expr: str, expected: str
) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "case.yml"
    test_file.write_text(
        textwrap.dedent(
            f"""\
            rule_files: []
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            {textwrap.indent(series, "      ")}
                promql_expr_test:
                  - expr: "{expr}"
                    eval_time: 15m
                    exp_samples:
            {textwrap.indent(expected, "          ")}
            """
        )
    )
    return _promtool("test", "rules", test_file)


def test_seed_error_rate_fires_on_one_percent_errors_where_the_rewrite_stays_quiet(
    tmp_path: Path,
) -> None:
    series = textwrap.dedent(
        """\
        - series: 'taskmaster_requests_total{job="t",endpoint="e",status="success"}'
          values: '0+99x20'
        - series: 'taskmaster_requests_total{job="t",endpoint="e",status="error"}'
          values: '0+1x20'"""
    )
    seed = _expr_case(
        tmp_path,
        series,
        _SEED_ERROR_RATE,
        '- labels: \'{job="t",endpoint="e",status="error"}\'\n  value: 1',
    )
    assert seed.returncode == 0, seed.stdout  # the seed divides the error series by itself
    ours = {rule.name: rule.expr for rule in ALERT_RULES}["TaskMasterHighErrorRate"]
    rewritten = _expr_case(tmp_path, series, ours.replace('"', '\\"'), "[]")
    assert rewritten.returncode == 0, rewritten.stdout


def test_seed_no_requests_fires_on_an_idle_error_series_where_the_rewrite_stays_quiet(
    tmp_path: Path,
) -> None:
    series = textwrap.dedent(
        """\
        - series: 'taskmaster_requests_total{job="t",endpoint="e",status="success"}'
          values: '0+5x20'
        - series: 'taskmaster_requests_total{job="t",endpoint="e",status="error"}'
          values: '2x20'"""
    )
    seed = _expr_case(
        tmp_path,
        series,
        _SEED_NO_REQUESTS,
        '- labels: \'{job="t",endpoint="e",status="error"}\'\n  value: 0',
    )
    assert seed.returncode == 0, seed.stdout
    ours = {rule.name: rule.expr for rule in ALERT_RULES}["TaskMasterNoRequests"]
    rewritten = _expr_case(tmp_path, series, ours.replace('"', '\\"'), "[]")
    assert rewritten.returncode == 0, rewritten.stdout


def test_real_prometheus_loads_and_evaluates_every_rule_without_errors() -> None:
    files = sorted(RULES_DIR.glob("*.yml"))
    with running_prometheus(rule_files=files, evaluation_interval="1s") as prom:
        expected = {rule.name for rule in ALERT_RULES} | {
            rule.record for group in RECORDING_GROUPS for rule in group.rules
        }
        deadline = time.monotonic() + 20
        while True:
            rules = prom.rules()
            evaluated = [r for r in rules if r.get("lastEvaluation", "").startswith("20")]
            # The weekly group runs every 2m; one evaluation of the others is enough here.
            if len(evaluated) >= len(expected) - 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert {r["name"] for r in rules} == expected
        assert [r["name"] for r in rules if r["health"] == "err"] == []
