"""The GenAI span is current during the call; one call never makes two GenAI spans."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points

import httpx
import ollama
import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.trace import SpanKind

from otel_taskmaster.distro import TaskMasterDistro
from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
from tests.instrumentation.harness import Instrument, Telemetry

MESSAGES = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]


@pytest.fixture
def http_spans() -> Iterator[HTTPXClientInstrumentor]:
    instrumentor = HTTPXClientInstrumentor()
    yield instrumentor
    instrumentor.uninstrument()


def _with_httpx(instrumentor: HTTPXClientInstrumentor, telemetry: Telemetry) -> None:
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_httpx_http_span_is_a_child_of_the_genai_span(
    instrument: Instrument, simulator: str, http_spans: HTTPXClientInstrumentor, stream: bool
) -> None:
    telemetry = instrument(simulator)
    _with_httpx(http_spans, telemetry)

    result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES, stream=stream)
    if stream:
        list(result)

    genai, http = sorted(telemetry.spans(), key=lambda s: s.name.startswith("POST"))
    assert genai.name == "chat llama3.2"
    assert http.name == "POST"
    assert http.kind == SpanKind.CLIENT
    assert http.parent is not None
    assert http.parent.span_id == genai.context.span_id
    assert http.context.trace_id == genai.context.trace_id


async def test_async_httpx_http_span_is_a_child_of_the_genai_span(
    instrument: Instrument, simulator: str, http_spans: HTTPXClientInstrumentor
) -> None:
    telemetry = instrument(simulator)
    _with_httpx(http_spans, telemetry)

    await ollama.AsyncClient(host=simulator).generate(model="llama3.2", prompt="hi")

    genai, http = sorted(telemetry.spans(), key=lambda s: s.name.startswith("POST"))
    assert http.parent is not None and http.parent.span_id == genai.context.span_id


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_suppress_http_spans_setting_leaves_only_the_genai_span(
    instrument: Instrument, simulator: str, http_spans: HTTPXClientInstrumentor, stream: bool
) -> None:
    telemetry = instrument(simulator, {"TASKMASTER_SUPPRESS_HTTP_SPANS": "true"})
    _with_httpx(http_spans, telemetry)

    ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)
    result = await ollama.AsyncClient(host=simulator).chat(
        model="llama3.2", messages=MESSAGES, stream=stream
    )
    if stream:
        _ = [part async for part in result]
    httpx.get(f"{simulator}/api/tags")  # not an LLM call: its HTTP span stays

    names = sorted(s.name for s in telemetry.spans())
    assert names == ["GET", "chat llama3.2", "chat llama3.2"]


def test_current_genai_span_from_another_instrumentation_is_enriched_not_duplicated(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    tracer = telemetry.tracer_provider.get_tracer("someone.elses.genai")

    with tracer.start_as_current_span(
        "their chat", kind=SpanKind.CLIENT, attributes={"gen_ai.operation.name": "chat"}
    ):
        result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    (span,) = telemetry.spans()
    assert span.name == "their chat"
    assert span.instrumentation_scope.name == "someone.elses.genai"
    assert span.attributes["gen_ai.usage.output_tokens"] == result.eval_count
    assert span.attributes["gen_ai.provider.name"] == "ollama"
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1


def test_current_plain_span_gets_a_genai_child(instrument: Instrument, simulator: str) -> None:
    telemetry = instrument(simulator)
    tracer = telemetry.tracer_provider.get_tracer("app")

    with tracer.start_as_current_span("handle request") as parent:
        ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    child, root = telemetry.spans()
    assert root.name == "handle request"
    assert child.name == "chat llama3.2"
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id


def _entry_point(name: str):  # type: ignore[no-untyped-def]
    (found,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == name]
    return found


def test_distro_skips_openllmetry_ollama_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TASKMASTER_SKIP_INSTRUMENTORS", raising=False)
    entry_point = _entry_point("ollama")
    assert entry_point.value.startswith("opentelemetry.instrumentation.ollama")

    TaskMasterDistro().load_instrumentor(entry_point, skip_dep_check=True)

    from opentelemetry.instrumentation.ollama import OllamaInstrumentor as OpenLLMetry

    assert not OpenLLMetry().is_instrumented_by_opentelemetry
    assert not hasattr(ollama.Client._request, "__wrapped__")


def test_distro_loads_its_own_instrumentor(monkeypatch: pytest.MonkeyPatch, simulator: str) -> None:
    monkeypatch.setenv("OLLAMA_HOST", simulator)
    entry_point = _entry_point("ollama_http")

    TaskMasterDistro().load_instrumentor(entry_point, skip_dep_check=True)
    try:
        assert OllamaInstrumentor().is_instrumented_by_opentelemetry
        assert hasattr(httpx.Client.send, "__wrapped__")
    finally:
        OllamaInstrumentor().uninstrument()
