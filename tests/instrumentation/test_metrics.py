"""GenAI and taskmaster_* metrics: exact values from the same measurement, explicit buckets."""

from __future__ import annotations

import logging
import time
from typing import Any

import ollama
import pytest

from otel_taskmaster import semconv as sc
from otel_taskmaster.instrumentation.ollama import invocation
from otel_taskmaster.manual.scope import RequestScope, current_scope
from otel_taskmaster.quality.features import ResponseFeatures
from tests.instrumentation.expect import server
from tests.instrumentation.harness import Instrument, Telemetry
from tests.support.ollama_server import set_faults

MESSAGES = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]


def _values(telemetry: Telemetry, name: str) -> dict[tuple[str, str], float]:
    return {
        (point.attributes["endpoint"], point.attributes["status"]): point.value
        for point in telemetry.points(name)
    }


def _one(telemetry: Telemetry, name: str, **attrs: Any) -> Any:
    points = [
        p for p in telemetry.points(name) if all(p.attributes.get(k) == v for k, v in attrs.items())
    ]
    assert len(points) == 1, (name, attrs, [p.attributes for p in telemetry.points(name)])
    return points[0]


def test_one_chat_records_every_metric_with_exact_values_and_buckets(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    before = time.time()

    result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    after = time.time()
    (span,) = telemetry.spans()
    genai = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": "llama3.2",
        **server(simulator),
    }
    duration = _one(telemetry, sc.GEN_AI_CLIENT_OPERATION_DURATION)
    assert dict(duration.attributes) == genai
    assert duration.count == 1
    assert tuple(duration.explicit_bounds) == sc.GEN_AI_DURATION_BUCKETS
    assert 0 < duration.sum <= (span.end_time - span.start_time) / 1e9

    tokens_in = _one(telemetry, sc.GEN_AI_CLIENT_TOKEN_USAGE, **{"gen_ai.token.type": "input"})
    tokens_out = _one(telemetry, sc.GEN_AI_CLIENT_TOKEN_USAGE, **{"gen_ai.token.type": "output"})
    assert dict(tokens_in.attributes) == {**genai, "gen_ai.token.type": "input"}
    assert (tokens_in.count, tokens_in.sum) == (1, result.prompt_eval_count)
    assert (tokens_out.count, tokens_out.sum) == (1, result.eval_count)
    assert tuple(tokens_out.explicit_bounds) == sc.GEN_AI_TOKEN_BUCKETS

    # Ollama's total_duration is on the span (ollama.total_duration), not a second histogram.
    assert "gen_ai.server.request.duration" not in telemetry.metrics()
    per_token = _one(telemetry, sc.GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN)
    assert per_token.sum == pytest.approx(result.eval_duration * 1e-9 / result.eval_count)
    assert tuple(per_token.explicit_bounds) == sc.GEN_AI_PER_TOKEN_BUCKETS
    # Not a stream: no time-to-first-chunk.
    assert telemetry.points(sc.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK) == []

    # The seed's metrics, from the same measurements.
    assert _values(telemetry, sc.TASKMASTER_REQUESTS) == {
        ("/api/chat", "success"): 1,
        ("/api/chat", "error"): 0,  # pre-created so rate() sees the first error
    }
    latency = _one(telemetry, sc.TASKMASTER_REQUEST_LATENCY)
    assert dict(latency.attributes) == {"endpoint": "/api/chat"}
    assert latency.sum == duration.sum
    assert tuple(latency.explicit_bounds) == sc.SEED_LATENCY_BUCKETS
    assert _one(telemetry, sc.TASKMASTER_TOKENS_INPUT).value == result.prompt_eval_count
    assert _one(telemetry, sc.TASKMASTER_TOKENS_OUTPUT).value == result.eval_count
    length = _one(telemetry, sc.TASKMASTER_RESPONSE_LENGTH)
    assert (length.count, length.sum) == (1, len(result.message.content or ""))
    assert tuple(length.explicit_bounds) == sc.SEED_RESPONSE_LENGTH_BUCKETS
    assert before <= _one(telemetry, sc.TASKMASTER_LAST_SUCCESS).value <= after
    # Error counters start at 0 per component; none moved.
    assert [p for p in telemetry.points(sc.TASKMASTER_INSTRUMENTATION_ERRORS) if p.value] == []


def test_stream_records_time_to_first_chunk_metric_equal_to_the_span_attribute(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    list(ollama.Client(host=simulator).generate(model="llama3.2", prompt="hi", stream=True))

    (span,) = telemetry.spans()
    ttft = _one(telemetry, sc.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK)
    assert ttft.sum == span.attributes["gen_ai.response.time_to_first_chunk"]
    assert tuple(ttft.explicit_bounds) == sc.GEN_AI_DURATION_BUCKETS


def test_failed_call_counts_as_error_and_does_not_move_last_success(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    set_faults(simulator, errors=1.0)

    with pytest.raises(ollama.ResponseError):
        ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    assert _values(telemetry, sc.TASKMASTER_REQUESTS) == {
        ("/api/chat", "success"): 0,
        ("/api/chat", "error"): 1,
    }
    duration = _one(telemetry, sc.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.attributes["error.type"] == "500"
    assert telemetry.points(sc.TASKMASTER_LAST_SUCCESS) == []
    assert telemetry.points(sc.TASKMASTER_RESPONSE_LENGTH) == []
    assert telemetry.points(sc.GEN_AI_CLIENT_TOKEN_USAGE) == []


def test_model_labels_are_bounded_by_max_models(instrument: Instrument, simulator: str) -> None:
    telemetry = instrument(simulator, {"TASKMASTER_MAX_MODELS": "2"})
    client = ollama.Client(host=simulator)

    for model in ("llama3.2", "llama3.1", "llama3", "gemma3:1b", "llama3.2"):
        client.generate(model=model, prompt="hi")

    counts = {
        p.attributes["gen_ai.request.model"]: p.count
        for p in telemetry.points(sc.GEN_AI_CLIENT_OPERATION_DURATION)
    }
    assert counts == {"llama3.2": 2, "llama3.1": 1, "_other": 2}
    # Spans keep the real names: only metric labels are bounded.
    assert [s.attributes["gen_ai.request.model"] for s in telemetry.spans()][2:4] == [
        "llama3",
        "gemma3:1b",
    ]


def _errors(telemetry: Telemetry) -> dict[str, int]:
    return {
        p.attributes["component"]: p.value
        for p in telemetry.points(sc.TASKMASTER_INSTRUMENTATION_ERRORS)
        if p.value  # every component starts at 0
    }


def test_parser_fault_is_counted_and_never_reaches_the_app(
    instrument: Instrument, simulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError("parser bug")

    plain = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)
    telemetry = instrument(simulator)
    monkeypatch.setattr(invocation, "parse_body", broken)

    whole = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)
    streamed = list(
        ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES, stream=True)
    )

    assert whole.message.content == plain.message.content
    assert "".join(p.message.content or "" for p in streamed) == plain.message.content
    assert _errors(telemetry) == {"response": 2}
    spans = telemetry.spans()
    assert len(spans) == 2
    # Our bug is not the call's failure.
    assert all(s.status.status_code.name == "UNSET" for s in spans)
    assert all("error.type" not in s.attributes for s in spans)


def test_request_parser_fault_skips_the_span_and_is_counted(
    instrument: Instrument, simulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("request parser bug")

    telemetry = instrument(simulator)
    monkeypatch.setattr(invocation, "parse_request", broken)

    result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    assert result.done
    assert telemetry.spans() == ()
    assert _errors(telemetry) == {"start": 1}


def test_fault_while_recording_still_ends_the_span_and_is_counted(
    instrument: Instrument, simulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ResponseFeatures, done_reason: str | None) -> Any:
        raise ZeroDivisionError("feature bug")

    telemetry = instrument(simulator)
    monkeypatch.setattr(ResponseFeatures, "attributes", broken)

    result = list(
        ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES, stream=True)
    )

    assert result[-1].done
    (span,) = telemetry.spans()  # exported, so ended
    assert span.end_time is not None
    assert _errors(telemetry) == {"finish": 1}


def test_calls_inside_monitor_request_count_toward_that_request_only(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="otel_taskmaster.requests")
    telemetry = instrument(simulator)
    scope = RequestScope(endpoint="/generate", request_id="r-1")
    token = current_scope.set(scope)
    try:
        result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)
    finally:
        current_scope.reset(token)

    assert (scope.llm_calls, scope.tokens_in, scope.tokens_out) == (
        1,
        result.prompt_eval_count,
        result.eval_count,
    )
    assert scope.response_chars == len(result.message.content or "")
    assert telemetry.points(sc.TASKMASTER_REQUESTS) == []
    assert not [r for r in caplog.records if r.name == "otel_taskmaster.requests"]
    assert len(telemetry.points(sc.GEN_AI_CLIENT_OPERATION_DURATION)) == 1


def test_request_log_outside_monitor_request_is_keyed_by_the_span_id(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="otel_taskmaster.requests")
    telemetry = instrument(simulator)

    result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    (record,) = [r for r in caplog.records if r.name == "otel_taskmaster.requests"]
    (span,) = telemetry.spans()
    assert record.getMessage() == "Request completed"
    assert record.request_id == format(span.context.span_id, "016x")  # type: ignore[attr-defined]
    assert record.tokens_out == result.eval_count  # type: ignore[attr-defined]
    assert record.endpoint == "/api/chat"  # type: ignore[attr-defined]


async def test_fault_when_the_response_arrives_is_counted_and_the_span_still_ends(
    instrument: Instrument, simulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: invocation.LLMCall, response: Any, streamed: bool) -> None:
        raise KeyError("on_response bug")

    telemetry = instrument(simulator)
    monkeypatch.setattr(invocation.LLMCall, "on_response", broken)

    whole = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)
    stream = await ollama.AsyncClient(host=simulator).chat(
        model="llama3.2", messages=MESSAGES, stream=True
    )
    parts = [p async for p in stream]

    assert whole.done and parts[-1].done
    spans = telemetry.spans()
    assert len(spans) == 2
    assert all("error.type" not in s.attributes for s in spans)
    assert _errors(telemetry) == {"response": 2}


@pytest.mark.parametrize("in_app_span", [True, False], ids=["in-app-span", "no-app-span"])
def test_latency_histograms_link_the_call_span_and_the_rest_carry_no_exemplar(
    instrument: Instrument, simulator: str, in_app_span: bool
) -> None:
    telemetry = instrument(simulator)
    app = telemetry.tracer_provider.get_tracer("app")
    client = ollama.Client(host=simulator)

    if in_app_span:
        with app.start_as_current_span("POST /ask"):
            list(client.chat(model="llama3.2", messages=MESSAGES, stream=True))
    else:
        list(client.chat(model="llama3.2", messages=MESSAGES, stream=True))

    (call,) = telemetry.genai_spans()
    # One collection: each one hands over the exemplars sampled since the last and resets.
    points = {name: list(m.data.data_points) for name, m in telemetry.metrics().items()}
    for name in (
        sc.GEN_AI_CLIENT_OPERATION_DURATION,
        sc.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
        sc.TASKMASTER_REQUEST_LATENCY,
    ):
        ((exemplar,),) = [point.exemplars for point in points[name]]
        assert (exemplar.trace_id, exemplar.span_id) == (
            call.context.trace_id,
            call.context.span_id,
        ), name
    # The app's span would otherwise be sampled into these: a cost, and the wrong link.
    for name in (
        sc.GEN_AI_CLIENT_TOKEN_USAGE,
        sc.GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK,
        sc.GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN,
        sc.TASKMASTER_RESPONSE_LENGTH,
    ):
        assert points[name], name
        assert all(not point.exemplars for point in points[name]), name
