"""The real ``ollama`` Client and AsyncClient against the simulator: one exact span per call."""

from __future__ import annotations

from typing import Any

import ollama
import pytest

from tests.instrumentation.expect import (
    TTFT,
    approx_equal,
    diff,
    final_attrs,
    request_attrs,
    without_ttft,
)
from tests.instrumentation.harness import Instrument

PROMPT = "Tell me a joke about OpenTelemetry"
MESSAGES = [{"role": "user", "content": PROMPT}]


def _call(client: ollama.Client, kind: str, stream: bool) -> tuple[dict[str, Any], str]:
    """Makes one call; returns the closing object and the answer text the app received."""
    if kind == "chat":
        result = client.chat(model="llama3.2", messages=MESSAGES, stream=stream)
        parts = list(result) if stream else [result]
        text = "".join(p.message.content or "" for p in parts)
    else:
        result = client.generate(model="llama3.2", prompt=PROMPT, stream=stream)
        parts = list(result) if stream else [result]
        text = "".join(p.response for p in parts)
    return parts[-1].model_dump(), text


async def _acall(client: ollama.AsyncClient, kind: str, stream: bool) -> tuple[dict[str, Any], str]:
    if kind == "chat":
        result = await client.chat(model="llama3.2", messages=MESSAGES, stream=stream)
        parts = [p async for p in result] if stream else [result]
        text = "".join(p.message.content or "" for p in parts)
    else:
        result = await client.generate(model="llama3.2", prompt=PROMPT, stream=stream)
        parts = [p async for p in result] if stream else [result]
        text = "".join(p.response for p in parts)
    return parts[-1].model_dump(), text


def _expected(url: str, kind: str, stream: bool, final: dict[str, Any], text: str) -> dict:
    path, operation = (
        ("/api/chat", "chat") if kind == "chat" else ("/api/generate", "text_completion")
    )
    return {
        **request_attrs(url, path, operation, "llama3.2", stream, len(PROMPT)),
        **final_attrs(final, text),
    }


def _check_span(span: Any, expected: dict[str, Any], stream: bool) -> None:
    assert span.name == f"{expected['gen_ai.operation.name']} llama3.2"
    assert span.kind.name == "CLIENT"
    assert span.status.status_code.name == "UNSET"
    actual = without_ttft(span.attributes)
    assert approx_equal(actual, expected), diff(actual, expected)
    if stream:
        # Time to first chunk: after the span started, before it ended.
        ttft = span.attributes[TTFT]
        assert 0 < ttft <= (span.end_time - span.start_time) / 1e9
    else:
        assert TTFT not in span.attributes


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("kind", ["chat", "generate"])
def test_sync_client_call_makes_one_exact_genai_span(
    instrument: Instrument, simulator: str, kind: str, stream: bool
) -> None:
    telemetry = instrument(simulator)

    final, text = _call(ollama.Client(host=simulator), kind, stream)

    (span,) = telemetry.spans()
    _check_span(span, _expected(simulator, kind, stream, final, text), stream)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("kind", ["chat", "generate"])
async def test_async_client_call_makes_one_exact_genai_span(
    instrument: Instrument, simulator: str, kind: str, stream: bool
) -> None:
    telemetry = instrument(simulator)

    final, text = await _acall(ollama.AsyncClient(host=simulator), kind, stream)

    (span,) = telemetry.spans()
    _check_span(span, _expected(simulator, kind, stream, final, text), stream)


def _embed_expected(url: str, path: str, dims: int, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **request_attrs(url, path, "embeddings", "all-minilm", False, None),
        "gen_ai.response.model": "all-minilm",
        "gen_ai.embeddings.dimension.count": dims,
        **extra,
    }


def test_embed_span_carries_dimensions_tokens_and_ollama_durations(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    result = ollama.Client(host=simulator).embed(model="all-minilm", input=["one", "two"])

    (span,) = telemetry.spans()
    assert span.name == "embeddings all-minilm"
    expected = _embed_expected(
        simulator,
        "/api/embed",
        len(result.embeddings[0]),
        {
            "gen_ai.usage.input_tokens": result.prompt_eval_count,
            "ollama.total_duration": result.total_duration * 1e-9,
            "ollama.load_duration": result.load_duration * 1e-9,
        },
    )
    assert approx_equal(dict(span.attributes), expected), diff(dict(span.attributes), expected)
    assert span.status.status_code.name == "UNSET"


def test_legacy_embeddings_span_is_not_an_error_without_a_model_in_the_body(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    result = ollama.Client(host=simulator).embeddings(model="all-minilm", prompt="one")

    (span,) = telemetry.spans()
    expected = _embed_expected(simulator, "/api/embeddings", len(result.embedding), {})
    assert dict(span.attributes) == expected
    assert span.status.status_code.name == "UNSET"


async def test_async_embed_and_embeddings_each_make_one_span(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    client = ollama.AsyncClient(host=simulator)

    embed = await client.embed(model="all-minilm", input="one")
    legacy = await client.embeddings(model="all-minilm", prompt="one")

    spans = telemetry.spans()
    assert [s.attributes["ollama.api.path"] for s in spans] == ["/api/embed", "/api/embeddings"]
    assert [s.attributes["gen_ai.embeddings.dimension.count"] for s in spans] == [
        len(embed.embeddings[0]),
        len(legacy.embedding),
    ]
    assert all("error.type" not in s.attributes for s in spans)


def test_request_parameters_that_were_set_become_request_attributes(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    options = {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "num_predict": 16, "seed": 7}

    ollama.Client(host=simulator).chat(
        model="llama3.2", messages=MESSAGES, options={**options, "stop": ["\n\n"]}, format="json"
    )

    (span,) = telemetry.spans()
    got = {k: v for k, v in span.attributes.items() if k.startswith("gen_ai.request.")}
    assert got == {
        "gen_ai.request.model": "llama3.2",
        "gen_ai.request.stream": False,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40.0,
        "gen_ai.request.max_tokens": 16,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("\n\n",),
    }
    assert span.attributes["gen_ai.output.type"] == "json"


def test_tool_calls_in_the_answer_are_counted(instrument: Instrument, simulator: str) -> None:
    telemetry = instrument(simulator)
    tool = {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }

    result = ollama.Client(host=simulator).chat(
        model="llama3.1",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[tool],
    )

    (span,) = telemetry.spans()
    assert result.message.tool_calls, "the simulator should answer with a tool call"
    assert span.attributes["ollama.response.tool_calls"] == len(result.message.tool_calls)


def test_streamed_tool_calls_are_counted(instrument: Instrument, simulator: str) -> None:
    telemetry = instrument(simulator)
    tool = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
    }

    parts = list(
        ollama.Client(host=simulator).chat(
            model="llama3.1",
            messages=[{"role": "user", "content": "Look it up"}],
            tools=[tool],
            stream=True,
        )
    )

    (span,) = telemetry.spans()
    calls = sum(len(p.message.tool_calls or ()) for p in parts)
    assert calls > 0
    assert span.attributes["ollama.response.tool_calls"] == calls
