"""Failure paths of the instrumented app: no back end, Ollama down or erroring, a dropped stream."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from otel_taskmaster import semconv as sc
from tests.e2e.processes import SimulatorProcess, app_environ
from tests.e2e.tasks import (
    SEED_LOG_FIELDS,
    LaunchApp,
    export_report_lines,
    is_llm_call_span,
    our_genai_spans,
    post_task,
    run_traffic,
    spans_of,
)
from tests.support.net import free_port
from tests.support.ollama_server import clear_faults, set_faults
from tests.support.otlp_receiver import OtlpReceiver


def test_without_a_backend_requests_succeed_and_export_failure_is_reported_once(
    simulator: SimulatorProcess, launch_app: LaunchApp
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    app = launch_app(app_environ(simulator.url, closed))
    for i in range(6):
        assert post_task(app, f"task {i}", stream=i % 3 == 2)["tokens_out"] > 0
    time.sleep(4)  # several metric, span and log export rounds, all failing
    first = export_report_lines(app)
    # More requests (the demo's traffic script this time) while exports keep failing.
    result = run_traffic(app, "--requests", "4", "--stream-every", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "requests: 4 (2 streamed)" in result.stdout
    assert "status:   200=4" in result.stdout
    # The local pull endpoint does not depend on the Collector.
    metrics = httpx.get(app.metrics_url, timeout=10).text
    assert 'taskmaster_requests_total{endpoint="tasks"' in metrics
    time.sleep(4)
    reports = export_report_lines(app)
    assert 1 <= len(reports) <= 3, reports  # reported, at most once per signal
    assert reports == first  # more requests and failed exports add no new lines


def test_backend_down_gets_502_and_is_counted_as_an_error(
    simulator: SimulatorProcess, launch_app: LaunchApp
) -> None:
    with OtlpReceiver() as receiver:
        closed_ollama = f"http://127.0.0.1:{free_port()}"
        app = launch_app(app_environ(closed_ollama, receiver.endpoint))
        for stream in (False, True):
            payload = {"prompt": "anything", "stream": stream}
            response = httpx.post(f"{app.url}/v1/tasks", json=payload, timeout=30)
            assert response.status_code == 502
            assert "unavailable" in response.json()["error"]
        assert httpx.get(f"{app.url}/healthz", timeout=10).status_code == 200

        def errors(r: OtlpReceiver) -> bool:
            points = r.metric_points(sc.TASKMASTER_REQUESTS)
            return any(p.value == 2 and p.attributes.get("status") == "error" for p in points)

        receiver.wait_for(errors, timeout=30)
        # Each failed request is logged once, as an error, in the seed's shape.
        failed = [line for line in app.json_log_lines() if line.get("event_type") == "request"]
        assert [line["message"] for line in failed] == ["Request failed"] * 2
        assert all(line["level"] == "ERROR" for line in failed)
        assert all(set(line) >= SEED_LOG_FIELDS for line in failed)
        contexts = {(line["trace_id"], line["span_id"]) for line in failed}
        receiver.wait_for(lambda r: contexts <= {(s.trace_id, s.span_id) for s in r.spans()})
        # The app's own warning still reaches stderr under opentelemetry-instrument.
        assert app.stderr().count("LLM call failed") == 2
        # The demo's traffic script says so, and fails.
        result = run_traffic(app, "--requests", "2", "--stream-every", "2")
        assert result.returncode == 1
        assert "status:   502=2" in result.stdout


@pytest.fixture
def faulty(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    """The shared simulator, with every fault switched off again afterwards."""
    try:
        yield simulator
    finally:
        clear_faults(simulator.url)


def test_ollama_errors_get_502_and_a_dropped_stream_ends_its_span_once(
    faulty: SimulatorProcess, launch_app: LaunchApp
) -> None:
    with OtlpReceiver() as receiver:
        app = launch_app(app_environ(faulty.url, receiver.endpoint))
        set_faults(faulty.url, errors=1.0)
        for stream in (False, True):
            payload = {"prompt": "anything", "stream": stream}
            response = httpx.post(f"{app.url}/v1/tasks", json=payload, timeout=30)
            assert response.status_code == 502
            assert response.json()["error"]
        clear_faults(faulty.url)
        # A client that goes away after the first chunk of a slow stream.
        set_faults(faulty.url, slow_chunk=0.2)
        with (
            httpx.Client(base_url=app.url, timeout=30) as client,
            client.stream("POST", "/v1/tasks", json={"prompt": "a long plan", "stream": True}) as r,
        ):
            first = next(r.iter_lines())
            assert "delta" in json.loads(first)
        clear_faults(faulty.url)
        assert post_task(app, "still serving?")["tokens_out"] > 0
        # Four calls, four traces, one LLM span each, every one of them ended and exported.
        ours = receiver.wait_for(spans_of(4), timeout=30)
        time.sleep(1)
        assert len(our_genai_spans(receiver.spans())) == 4
        per_trace = Counter(s.trace_id for s in receiver.spans() if is_llm_call_span(s))
        assert sorted(per_trace.values()) == [1, 1, 1, 1]
        assert sum(1 for s in ours if s.status_code == 2) >= 2  # the two Ollama 500s
