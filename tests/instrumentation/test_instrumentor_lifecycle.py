"""instrument() / uninstrument(): every wrap has its unwrap; twice is a no-op."""

from __future__ import annotations

import httpx
import ollama

from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
from tests.instrumentation.harness import Instrument

MESSAGES = [{"role": "user", "content": "hi"}]


def _send(cls: type) -> object:
    # The class attribute itself: reading it through the class would bind a new wrapper.
    return cls.__dict__["send"]


def test_uninstrument_restores_send_and_makes_no_more_spans(
    instrument: Instrument, simulator: str
) -> None:
    sync_send, async_send = _send(httpx.Client), _send(httpx.AsyncClient)
    telemetry = instrument(simulator)
    assert _send(httpx.Client) is not sync_send
    assert _send(httpx.AsyncClient) is not async_send

    OllamaInstrumentor().uninstrument()
    ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    assert _send(httpx.Client) is sync_send
    assert _send(httpx.AsyncClient) is async_send
    assert telemetry.spans() == ()
    assert telemetry.points("gen_ai.client.operation.duration") == []


async def test_uninstrument_stops_async_spans_too(instrument: Instrument, simulator: str) -> None:
    telemetry = instrument(simulator)
    OllamaInstrumentor().uninstrument()

    await ollama.AsyncClient(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    assert telemetry.spans() == ()


def test_instrument_twice_is_a_no_op(instrument: Instrument, simulator: str) -> None:
    first = instrument(simulator)
    wrapped = _send(httpx.Client), _send(httpx.AsyncClient)
    second = instrument(simulator)  # a second instrument() must not wrap again

    ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    assert _send(httpx.Client) is wrapped[0]
    assert _send(httpx.AsyncClient) is wrapped[1]
    assert len(first.spans()) == 1
    assert second.spans() == ()


def test_instrument_again_after_uninstrument_works(instrument: Instrument, simulator: str) -> None:
    instrument(simulator)
    OllamaInstrumentor().uninstrument()
    telemetry = instrument(simulator)

    ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    (span,) = telemetry.spans()
    assert span.name == "chat llama3.2"


def test_instrumentation_has_no_package_dependency_gate() -> None:
    # Apps that reach Ollama through LiteLLM or raw httpx only must still be instrumented.
    assert tuple(OllamaInstrumentor().instrumentation_dependencies()) == ()


def test_suppressed_instrumentation_context_makes_no_span(
    instrument: Instrument, simulator: str
) -> None:
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    telemetry = instrument(simulator)

    with suppress_instrumentation():
        result = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)

    assert result.done
    assert telemetry.spans() == ()


def test_sdk_disabled_patches_nothing() -> None:
    from otel_taskmaster.config import Settings

    sync_send, async_send = _send(httpx.Client), _send(httpx.AsyncClient)
    instrumentor = OllamaInstrumentor()
    instrumentor.instrument(settings=Settings.from_env({"OTEL_SDK_DISABLED": "true"}))
    try:
        assert _send(httpx.Client) is sync_send
        assert _send(httpx.AsyncClient) is async_send
    finally:
        instrumentor.uninstrument()
    assert _send(httpx.Client) is sync_send
