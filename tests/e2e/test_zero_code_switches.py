"""Documented switches: OTEL_SDK_DISABLED, disabled instrumentations, LiteLLM, content capture."""

from __future__ import annotations

import json
import time

from otel_taskmaster import semconv as sc
from tests.e2e.processes import SimulatorProcess, app_environ
from tests.e2e.tasks import (
    SECRET,
    LaunchApp,
    metrics_text_or_empty,
    our_genai_spans,
    post_task,
    spans_of,
)
from tests.support.otlp_receiver import OtlpReceiver


def test_sdk_disabled_serves_requests_and_exports_nothing(
    simulator: SimulatorProcess, launch_app: LaunchApp
) -> None:
    with OtlpReceiver() as receiver:
        env = app_environ(simulator.url, receiver.endpoint, OTEL_SDK_DISABLED="true")
        app = launch_app(env)
        for i in range(3):
            assert post_task(app, f"task {i}", stream=i == 2)["tokens_out"] > 0
        time.sleep(3)
        assert receiver.messages("traces") == []
        assert receiver.messages("metrics") == []
        assert receiver.messages("logs") == []
        assert "taskmaster_" not in metrics_text_or_empty(app)
        assert "gen_ai_" not in metrics_text_or_empty(app)


def test_disabling_ollama_http_removes_our_genai_spans_only(
    simulator: SimulatorProcess, launch_app: LaunchApp
) -> None:
    with OtlpReceiver() as receiver:
        env = app_environ(
            simulator.url,
            receiver.endpoint,
            OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="ollama_http",
        )
        app = launch_app(env)
        for i in range(3):
            assert post_task(app, f"task {i}")["tokens_out"] > 0
        # The request spans of monitor_request still arrive: telemetry is on.
        spans = receiver.wait_for(spans_of(3, scope="otel_taskmaster.manual"), timeout=30)
        assert len(spans) == 3
        time.sleep(1)
        assert our_genai_spans(receiver.spans()) == []


def test_litellm_client_calls_are_traced_once_each(
    simulator: SimulatorProcess, launch_app: LaunchApp
) -> None:
    with OtlpReceiver() as receiver:
        env = app_environ(simulator.url, receiver.endpoint, TASKMASTER_LLM_CLIENT="litellm")
        app = launch_app(env)
        answers = [post_task(app, "plain via litellm"), post_task(app, "streamed", stream=True)]
        assert all(a["response"] for a in answers)
        ours = receiver.wait_for(spans_of(2))
        assert len(ours) == 2
        assert len({s.trace_id for s in ours}) == 2
        assert {bool(s.attributes.get(sc.GEN_AI_REQUEST_STREAM)) for s in ours} == {True, False}


def test_content_capture_opt_in_puts_the_prompt_on_the_genai_span(
    simulator: SimulatorProcess, launch_app: LaunchApp
) -> None:
    # The positive control of the no-prompt-text test: the same check does see text when asked.
    with OtlpReceiver() as receiver:
        env = app_environ(
            simulator.url,
            receiver.endpoint,
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
        )
        app = launch_app(env)
        assert post_task(app, f"Plan a review {SECRET}")["tokens_out"] > 0
        (span,) = receiver.wait_for(spans_of(1))
        assert SECRET in json.dumps(span.attributes[sc.GEN_AI_INPUT_MESSAGES])
