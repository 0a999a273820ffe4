"""The final proof: every PromQL in every dashboard and rule returns data from a real
Prometheus that scraped the instrumented example app (``opentelemetry-instrument python
examples/serve.py``) while it served traffic against the Ollama simulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from backend_sources import (
    REPO_ROOT,
    RULES_DIR,
    Expression,
    dashboard_expressions,
    dashboard_files,
    rule_expressions,
    to_promql,
)

from otel_taskmaster.alerts.rules import ALERT_RULES
from tests.support.net import free_port, wait_for_port
from tests.support.ollama_server import clear_faults, set_faults
from tests.support.prometheus import Prometheus, running_prometheus

# Counters that only exist once something has gone wrong in a way this traffic does not
# provoke (an OTLP export failure, a bug caught inside the distro, a drift alarm); an
# expression over them may rightly be empty. ALERTS is empty while nothing fires.
ONLY_AFTER_FAILURES = {
    "taskmaster_telemetry_export_failures_total",
    "taskmaster_instrumentation_errors_total",
    "taskmaster_drift_alerts_total",
    "ALERTS",
}
_BIN = Path(sys.executable).parent


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=15)

    def tail(self) -> str:
        return f"--- {self.name} log ---\n" + self.log.read_text()[-4000:]


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> _Process:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return _Process(name, popen, log)


def _wait_http(url: str, process: _Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early\n{process.tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not up after {timeout}s\n{process.tail()}")


def _send_traffic(app_url: str, simulator_url: str, prom: Prometheus) -> None:
    prompts = [
        "Plan the Q3 budget review with finance and list the first three steps.",
        "Create a task to renew the office lease before the end of the month.",
        "Break the website redesign into tasks for design, content and engineering.",
    ]
    with httpx.Client(base_url=app_url, timeout=60) as client:

        def fail(times: int) -> None:
            set_faults(simulator_url, errors=1.0)
            try:
                for _ in range(times):
                    client.post("/v1/tasks", json={"prompt": prompts[0]})
            finally:
                clear_faults(simulator_url)

        for i in range(12):
            body = {"prompt": prompts[i % len(prompts)], "stream": i % 3 == 0}
            response = client.post("/v1/tasks", json=body)
            assert response.status_code == 200, response.text
        # rate() ignores the value a counter series is first scraped with, so the error
        # series must exist in Prometheus before the failures that should count.
        fail(1)
        prom.wait_for('taskmaster_requests_total{status="error"}', timeout=30)
        fail(3)
        for i in range(4):
            client.post("/v1/tasks", json={"prompt": prompts[i % 3], "stream": i % 2 == 0})


def _rule_files_for_the_test(tmp_path: Path) -> list[Path]:
    """The checked-in rules with group intervals dropped, so every group runs every second."""
    files = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            group.pop("interval", None)
        copy = tmp_path / path.name
        copy.write_text(yaml.safe_dump(doc, sort_keys=False))
        files.append(copy)
    return files


@pytest.fixture(scope="module")
def scraped_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    logs = tmp_path_factory.mktemp("e2e")
    sim_port, app_port, metrics_port = free_port(), free_port(), free_port()
    simulator_url = f"http://127.0.0.1:{sim_port}"
    env = {
        **os.environ,
        "OLLAMA_HOST": simulator_url,
        "PORT": str(app_port),
        "HOST": "127.0.0.1",
        "OTEL_EXPORTER_PROMETHEUS_PORT": str(metrics_port),
        # Metrics through the pull endpoint only; no Collector runs in this test.
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "TASKMASTER_MODEL_PROBE_INTERVAL": "1",
    }
    processes = []
    try:
        simulator = _start(
            "simulator",
            [
                str(_BIN / "otel-taskmaster"),
                "simulate",
                "--port",
                str(sim_port),
                "--time-scale",
                "0.05",
            ],
            env,
            logs,
        )
        processes.append(simulator)
        _wait_http(f"{simulator_url}/api/version", simulator)
        app = _start(
            "app",
            [str(_BIN / "opentelemetry-instrument"), sys.executable, "examples/serve.py"],
            env,
            logs,
        )
        processes.append(app)
        _wait_http(f"http://127.0.0.1:{app_port}/healthz", app)
        wait_for_port(metrics_port)
        with running_prometheus(
            scrape_targets=[f"127.0.0.1:{metrics_port}"],
            rule_files=_rule_files_for_the_test(logs),
        ) as prom:
            prom.wait_for_targets_up(timeout=30)
            _send_traffic(f"http://127.0.0.1:{app_port}", simulator_url, prom)
            # Let a few scrapes and rule evaluations see the final counters.
            prom.wait_for('taskmaster_requests_total{status="error"}', timeout=30)
            prom.wait_for("taskmaster:response_quality:ratio_1h_1w", timeout=30)
            time.sleep(3)
            yield prom
    finally:
        for process in reversed(processes):
            process.stop()


_STRIP = re.compile(
    r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
)
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "inf",
    "nan",
}


def metric_names(promql: str) -> set[str]:
    """Metric names an expression selects (identifiers that are neither functions,
    keywords, label names inside matchers/groupings, nor numbers)."""
    text = _STRIP.sub(" ", promql)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group().lower() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def test_metric_name_extraction_finds_selectors_not_labels_or_functions() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (job, le) (rate(a_bucket{le="0.5"}[5m]))) > 2 '
        "or (group by (job) (b) unless on (job) c) * 0"
    )
    assert metric_names(expr) == {"a_bucket", "b", "c"}


def _expressions() -> list[Expression]:
    found = [e for path in dashboard_files() for e in dashboard_expressions(path)]
    return found + rule_expressions()


def test_every_metric_the_rules_and_dashboards_read_is_exposed(scraped_app: Prometheus) -> None:
    exposed = {
        series["metric"]["__name__"]
        for series in scraped_app.query('{__name__=~"taskmaster.*|gen_ai.*"}')
    }
    wanted = set().union(*(metric_names(to_promql(e.promql)) for e in _expressions()))
    missing = {
        name for name in wanted - exposed if name not in ONLY_AFTER_FAILURES and ":" not in name
    }
    assert missing == set()


def test_every_recording_rule_produces_series(scraped_app: Prometheus) -> None:
    records = [e for e in rule_expressions() if ":" in e.source.split(": ", 1)[1]]
    assert records
    empty = [
        e.source
        for e in records
        if not (metric_names(e.promql) & ONLY_AFTER_FAILURES)
        and not scraped_app.query(e.source.split(": ", 1)[1])
    ]
    assert empty == []


def test_every_dashboard_and_rule_expression_returns_data(scraped_app: Prometheus) -> None:
    alert_names = {rule.name for rule in ALERT_RULES}
    empty = []
    checked = 0
    for expression in _expressions():
        if expression.source.split(": ", 1)[1] in alert_names:
            continue  # an alert's condition is rightly empty while it does not fire
        if metric_names(expression.promql) & ONLY_AFTER_FAILURES:
            continue
        checked += 1
        if not scraped_app.query(to_promql(expression.promql, ".*")):
            empty.append(expression.source)
    assert checked > 35
    assert empty == []


def test_alert_inputs_have_data_and_the_error_alerts_trip_on_real_failures(
    scraped_app: Prometheus,
) -> None:
    for rule in ALERT_RULES:
        names = metric_names(rule.expr) - ONLY_AFTER_FAILURES
        for name in names:
            assert scraped_app.query(name), (rule.name, name)
    health = {r["name"]: r["health"] for r in scraped_app.rules()}
    assert {name: h for name, h in health.items() if h != "ok"} == {}
    # 3 counted failures against at most 15 counted successes (>= 16.7%): above the 5%
    # error-rate threshold and both burn rates (14.4% and 6%). Nothing else is wrong.
    expected = {
        "TaskMasterHighErrorRate",
        "TaskMasterErrorBudgetBurnFast",
        "TaskMasterErrorBudgetBurnSlow",
    }
    deadline = time.monotonic() + 30
    while True:
        active = {a["labels"]["alertname"] for a in scraped_app.alerts()}
        if expected <= active or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert expected <= active
    never = {
        "TaskMasterHighLatency",
        "TaskMasterModelDown",
        "TaskMasterNoRequests",
        "TaskMasterSlowTimeToFirstToken",
        "TaskMasterTelemetryExportFailing",
        "TaskMasterInstrumentationErrors",
    }
    assert active & never == set()
