"""Issue 3, end to end: ``opentelemetry-instrument python examples/serve.py`` with no code change.

Real subprocesses (the simulator CLI and the instrumented app), a real Prometheus scraping
the app, and OTLP decoded from the wire by a loopback receiver.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from otel_taskmaster import semconv as sc
from tests.e2e.processes import ROOT, AppProcess, SimulatorProcess, app_environ
from tests.e2e.tasks import (
    SECRET,
    SEED_LOG_FIELDS,
    LaunchApp,
    is_llm_call_span,
    post_task,
    spans_of,
)
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.prometheus import Prometheus, running_prometheus

RULE_FILES = sorted((ROOT / "prometheus" / "rules").glob("*.yml"))
PLAIN_REQUESTS = 4
STREAMED_REQUESTS = 2


@dataclass
class Scenario:
    app: AppProcess
    receiver: OtlpReceiver
    answers: list[dict[str, Any]]  # the final JSON of each successful request
    started: float


@pytest.fixture(scope="module")
def scenario(
    simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    """One instrumented app that served plain and streamed tasks (and one bad request)."""
    with OtlpReceiver() as receiver:
        env = app_environ(simulator.url, receiver.endpoint)
        app = AppProcess(tmp_path_factory.mktemp("app"), env)
        try:
            app.wait_ready()
            started = time.time()
            answers = [
                post_task(app, f"Plan task {i} for the budget review {SECRET}")
                for i in range(PLAIN_REQUESTS)
            ]
            answers += [
                post_task(app, f"Stream task {i} for onboarding {SECRET}", stream=True)
                for i in range(STREAMED_REQUESTS)
            ]
            bad = httpx.post(f"{app.url}/v1/tasks", content=b"{not json", timeout=10)
            assert bad.status_code == 400
            yield Scenario(app, receiver, answers, started)
        finally:
            app.stop()


@pytest.fixture(scope="module")
def prometheus(scenario: Scenario) -> Iterator[Prometheus]:
    with running_prometheus(
        scrape_targets=[f"localhost:{scenario.app.metrics_port}"], rule_files=RULE_FILES
    ) as prom:
        prom.wait_for_targets_up(timeout=60)
        yield prom


def _wait_value(
    prom: Prometheus, promql: str, expected: Callable[[float], bool], timeout: float = 30
) -> float:
    """Polls an instant query that returns one series until its value satisfies ``expected``."""
    deadline = time.monotonic() + timeout
    value = math.nan
    while time.monotonic() < deadline:
        result = prom.query(promql)
        if len(result) == 1:
            value = float(result[0]["value"][1])
            if expected(value):
                return value
        time.sleep(0.5)
    raise AssertionError(f"{promql} = {value} after {timeout}s")


def _le_values(prom: Prometheus, promql: str) -> set[float]:
    return {float(series["metric"]["le"]) for series in prom.wait_for(promql, timeout=30)}


# --- The app itself -------------------------------------------------------------------------


def test_tasks_are_answered_with_model_tokens_and_request_id(scenario: Scenario) -> None:
    for answer in scenario.answers:
        assert answer["response"].strip()
        assert answer["model"].startswith("llama3.2")
        assert answer["tokens_in"] > 0 and answer["tokens_out"] > 0
        assert re.fullmatch(r"[0-9a-f]{32}", answer["request_id"])


def test_bad_input_gets_400_with_an_error_and_the_app_keeps_serving(scenario: Scenario) -> None:
    app = scenario.app
    for body in (b"", b"[]", b"{}", b'{"prompt": ""}', b'{"prompt": "x", "stream": "yes"}'):
        response = httpx.post(f"{app.url}/v1/tasks", content=body, timeout=10)
        assert response.status_code == 400
        assert response.json()["error"]
    assert httpx.get(f"{app.url}/healthz", timeout=10).json()["status"] == "ok"


# --- Prometheus: every seed name and the GenAI metrics, through PromQL -------------------------


def test_prometheus_counts_each_successful_request_once(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    total = len(scenario.answers)
    _wait_value(
        prometheus,
        'sum(taskmaster_requests_total{endpoint="tasks",status="success"})',
        lambda v: v == total,
    )
    # The error series may exist from the start (at 0, so rate() sees the first error).
    errors = prometheus.query('taskmaster_requests_total{status="error"}')
    assert [float(e["value"][1]) for e in errors] in ([], [0.0])


def test_prometheus_token_counters_match_the_answers(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    tokens_in = sum(a["tokens_in"] for a in scenario.answers)
    tokens_out = sum(a["tokens_out"] for a in scenario.answers)
    _wait_value(prometheus, "sum(taskmaster_tokens_input_total)", lambda v: v == tokens_in)
    _wait_value(prometheus, "sum(taskmaster_tokens_output_total)", lambda v: v == tokens_out)


def test_prometheus_latency_histogram_has_the_seed_buckets(prometheus: Prometheus) -> None:
    les = _le_values(prometheus, 'taskmaster_request_latency_seconds_bucket{endpoint="tasks"}')
    assert les == {*sc.SEED_LATENCY_BUCKETS, math.inf}


def test_prometheus_response_length_histogram_has_the_seed_buckets(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    les = _le_values(prometheus, "taskmaster_response_length_chars_bucket")
    assert les == {*sc.SEED_RESPONSE_LENGTH_BUCKETS, math.inf}
    _wait_value(
        prometheus,
        "sum(taskmaster_response_length_chars_count)",
        lambda v: v == len(scenario.answers),
    )


def test_prometheus_model_loaded_comes_from_the_live_probe(prometheus: Prometheus) -> None:
    _wait_value(prometheus, 'max(taskmaster_model_loaded{model="llama3.2"})', lambda v: v == 1)


def test_prometheus_last_success_timestamp_is_recent(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    _wait_value(
        prometheus,
        "max(taskmaster_last_successful_request_timestamp)",
        lambda v: scenario.started - 1 <= v <= time.time() + 1,
    )


def test_prometheus_quality_score_has_each_seed_dimension_between_0_and_1(
    prometheus: Prometheus,
) -> None:
    seed_dimensions = {
        "length_score",
        "latency_score",
        "format_score",
        "coherence_score",
        "overall_quality",  # what the seed's quality alert reads
    }
    series = prometheus.wait_for('taskmaster_quality_score{model="llama3.2"}', timeout=30)
    assert {s["metric"]["dimension"] for s in series} == seed_dimensions
    assert all(0.0 <= float(s["value"][1]) <= 1.0 for s in series)


def test_prometheus_genai_duration_has_semconv_buckets_and_one_point_per_call(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    les = _le_values(prometheus, "gen_ai_client_operation_duration_seconds_bucket")
    assert les == {*sc.GEN_AI_DURATION_BUCKETS, math.inf}
    # One LLM call per task: a second (duplicate) instrumentation would double this.
    _wait_value(
        prometheus,
        "sum(gen_ai_client_operation_duration_seconds_count)",
        lambda v: v == len(scenario.answers),
    )


def test_prometheus_genai_token_usage_splits_input_and_output(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    series = prometheus.wait_for("gen_ai_client_token_usage_bucket", timeout=30)
    assert {s["metric"]["gen_ai_token_type"] for s in series} == {"input", "output"}
    tokens_in = sum(a["tokens_in"] for a in scenario.answers)
    _wait_value(
        prometheus,
        'sum(gen_ai_client_token_usage_sum{gen_ai_token_type="input"})',
        lambda v: v == tokens_in,
    )


def test_prometheus_time_to_first_chunk_counts_the_streamed_requests(
    prometheus: Prometheus,
) -> None:
    assert prometheus.wait_for("gen_ai_client_operation_time_to_first_chunk_seconds_bucket")
    _wait_value(
        prometheus,
        "sum(gen_ai_client_operation_time_to_first_chunk_seconds_count)",
        lambda v: v == STREAMED_REQUESTS,
    )


def _readme_metric_names() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Metrics") : text.index("## Logs")]
    return set(re.findall(r"`((?:taskmaster|gen_ai)_[a-z_]+)`", section))


def test_every_metric_the_readme_names_is_exposed(prometheus: Prometheus) -> None:
    names = _readme_metric_names()
    assert len(names) >= 11
    for name in sorted(names):
        # A histogram is named by its base; Prometheus holds its _bucket/_count/_sum.
        assert prometheus.wait_for(f'{{__name__=~"{name}|{name}_count"}}', timeout=30), name


# --- OTLP, decoded from the wire -------------------------------------------------------------


def test_otlp_traces_have_one_genai_span_per_request(scenario: Scenario) -> None:
    receiver = scenario.receiver
    total = len(scenario.answers)
    ours = receiver.wait_for(spans_of(total))
    assert len(ours) == total
    for span in ours:
        assert span.attributes[sc.GEN_AI_OPERATION_NAME] == sc.OPERATION_CHAT
        assert span.attributes[sc.GEN_AI_REQUEST_MODEL] == "llama3.2"
        assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0
        assert span.resource["service.name"] == "taskmaster"
    # Each request is one trace; no other instrumentation adds a second GenAI span to it.
    spans = receiver.spans()
    genai_per_trace = Counter(s.trace_id for s in spans if is_llm_call_span(s))
    assert sorted(genai_per_trace.values()) == [1] * total
    streamed = [s for s in ours if s.attributes.get(sc.GEN_AI_REQUEST_STREAM)]
    assert len(streamed) == STREAMED_REQUESTS


def test_otlp_call_spans_carry_their_quality_scores_and_evaluation_events(
    scenario: Scenario,
) -> None:
    # The configurator's quality processor scores each call before its span ends: the scores
    # are attributes of the call span, its gen_ai.evaluation.result events are the call
    # span's own, and no evaluate child span is exported.
    receiver = scenario.receiver
    ours = receiver.wait_for(spans_of(len(scenario.answers)))
    dimensions = sorted(
        ["length_score", "latency_score", "format_score", "coherence_score", "overall_quality"]
    )
    for span in ours:
        assert 0.0 <= span.attributes["taskmaster.quality.overall_quality"] <= 1.0
        assert span.attributes["taskmaster.quality.check.truncated"] is False
        evaluations = [e for e in span.events if e["name"] == "gen_ai.evaluation.result"]
        assert sorted(e["attributes"]["gen_ai.evaluation.name"] for e in evaluations) == dimensions
    assert not [s.name for s in receiver.spans() if s.name.startswith("evaluate ")]


def test_otlp_metrics_carry_the_seed_and_genai_names(scenario: Scenario) -> None:
    wanted = {
        sc.TASKMASTER_REQUESTS,
        sc.TASKMASTER_REQUEST_LATENCY,
        sc.TASKMASTER_TOKENS_INPUT,
        sc.TASKMASTER_TOKENS_OUTPUT,
        sc.TASKMASTER_RESPONSE_LENGTH,
        sc.TASKMASTER_MODEL_LOADED,
        sc.TASKMASTER_LAST_SUCCESS,
        sc.GEN_AI_CLIENT_OPERATION_DURATION,
        sc.GEN_AI_CLIENT_TOKEN_USAGE,
        sc.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
    }
    receiver = scenario.receiver
    receiver.wait_for(lambda r: wanted <= r.metric_names(), timeout=30)
    total = len(scenario.answers)

    def request_count(r: OtlpReceiver) -> bool:
        points = r.metric_points(sc.TASKMASTER_REQUESTS)
        return any(p.value == total and p.attributes.get("status") == "success" for p in points)

    receiver.wait_for(request_count, timeout=30)


def test_otlp_logs_arrive_with_the_trace_context_of_exported_spans(scenario: Scenario) -> None:
    receiver = scenario.receiver
    total = len(scenario.answers)

    def request_logs(r: OtlpReceiver) -> list[Any]:
        found = [log for log in r.log_records() if log.attributes.get("event_type") == "request"]
        return found if len(found) >= total else []

    logs = receiver.wait_for(request_logs, timeout=30)
    assert len(logs) == total
    contexts = {(log.trace_id, log.span_id) for log in logs}
    assert len(contexts) == total
    receiver.wait_for(lambda r: contexts <= {(s.trace_id, s.span_id) for s in r.spans()})
    for log in logs:
        assert log.body == "Request completed"
        assert log.attributes["tokens_in"] > 0


# --- JSON logs on stderr ----------------------------------------------------------------------


def test_each_json_request_log_line_has_seed_fields_and_an_exported_span(
    scenario: Scenario,
) -> None:
    total = len(scenario.answers)
    every = scenario.app.json_log_lines()
    assert all({"timestamp", "level", "service", "message"} <= set(line) for line in every)
    lines = [line for line in every if line.get("event_type") == "request"]
    assert len(lines) == total
    receiver = scenario.receiver
    wanted = {(line["trace_id"], line["span_id"]) for line in lines}
    exported = receiver.wait_for(
        lambda r: wanted <= {(s.trace_id, s.span_id) for s in r.spans()} or None, timeout=30
    )
    assert exported
    for line in lines:
        assert set(line) >= SEED_LOG_FIELDS, SEED_LOG_FIELDS - set(line)
        assert line["service"] == "taskmaster"
        assert line["message"] == "Request completed"
        assert line["level"] == "INFO"
        assert re.fullmatch(r"[0-9a-f]{32}", line["trace_id"])
        assert re.fullmatch(r"[0-9a-f]{16}", line["span_id"])
    # The app hands its request id to monitor_request: log lines and replies agree.
    assert {line["request_id"] for line in lines} == {a["request_id"] for a in scenario.answers}
    by_tokens = sorted((line["tokens_in"], line["tokens_out"]) for line in lines)
    assert by_tokens == sorted((a["tokens_in"], a["tokens_out"]) for a in scenario.answers)
    by_length = sorted(line["response_length"] for line in lines)
    assert by_length == sorted(len(a["response"]) for a in scenario.answers)


def test_no_prompt_text_in_any_telemetry_or_log_by_default(
    scenario: Scenario, prometheus: Prometheus
) -> None:
    receiver = scenario.receiver
    receiver.wait_for(lambda r: r.log_records() and r.spans())
    wire = b"".join(
        message.SerializeToString()
        for signal in ("traces", "metrics", "logs")
        for message in receiver.messages(signal)
    )
    assert wire and SECRET.encode() not in wire
    assert SECRET not in scenario.app.stderr()
    assert SECRET not in scenario.app.stdout()
    assert SECRET not in httpx.get(scenario.app.metrics_url, timeout=10).text


# --- Choosing the distro --------------------------------------------------------------------


def test_otel_python_distro_selects_between_installed_distros(
    simulator: SimulatorProcess, launch_app: LaunchApp, scenario: Scenario
) -> None:
    # Ours (the scenario app): service name and local Prometheus endpoint are our defaults.
    assert {s.resource["service.name"] for s in scenario.receiver.spans()} == {"taskmaster"}
    assert httpx.get(scenario.app.metrics_url, timeout=10).status_code == 200
    # opentelemetry-distro's, named the same way: neither default is there.
    with OtlpReceiver() as receiver:
        env = app_environ(
            simulator.url,
            receiver.endpoint,
            OTEL_PYTHON_DISTRO="distro",
            OTEL_PYTHON_CONFIGURATOR="configurator",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",  # its default is gRPC
        )
        app = launch_app(env)
        assert post_task(app, "task")["tokens_out"] > 0
        spans = receiver.wait_for(lambda r: r.spans(), timeout=30)
        assert "taskmaster" not in {s.resource.get("service.name") for s in spans}
        with pytest.raises(httpx.ConnectError):
            httpx.get(app.metrics_url, timeout=5)


# --- The shipped Prometheus rules, on the live app's series -------------------------------------

# Recording rules whose inputs the scenario produces (the error ratios need an error series,
# the weekly and comparison groups evaluate every 2 minutes).
FED_RECORDING_RULES = {
    "taskmaster:requests:rate5m",
    "taskmaster:request_latency_seconds:p95_5m",
    "taskmaster:requests_under_500ms:ratio_rate5m",
    "taskmaster:output_tokens:rate5m",
    "taskmaster:input_tokens:rate5m",
    "taskmaster:gen_ai_token_usage:rate5m",
    "taskmaster:generation_tokens_per_second:rate5m",
    "taskmaster:time_to_first_chunk_seconds:p95_5m",
    "taskmaster:gen_ai_operation_duration_seconds:p95_5m",
    "taskmaster:response_quality:mean1h",
    "taskmaster:drift_status:max",
}


def test_shipped_rules_evaluate_cleanly_on_the_live_series(prometheus: Prometheus) -> None:
    assert RULE_FILES
    for name in sorted(FED_RECORDING_RULES):
        assert prometheus.wait_for(name, timeout=30), name
    rules = prometheus.rules()
    assert {r["name"] for r in rules} >= FED_RECORDING_RULES
    # "unknown" is a rule not evaluated yet (the weekly group runs every 2 minutes).
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] == "err"] == []
    assert all(r["health"] == "ok" for r in rules if r["name"] in FED_RECORDING_RULES)
    states = {r["name"]: r["state"] for r in rules if r["type"] == "alerting"}
    # The model is loaded and nothing failed: these two seed alerts stay quiet.
    assert states["TaskMasterModelDown"] == "inactive"
    assert states["TaskMasterHighErrorRate"] == "inactive"
