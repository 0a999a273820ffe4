"""Plain httpx (sync and async) and Ollama's OpenAI-compatible API, streamed (SSE) and not."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.instrumentation.expect import (
    approx_equal,
    diff,
    final_attrs,
    request_attrs,
    without_ttft,
)
from tests.instrumentation.harness import BytesPlan, Instrument, serving_bytes

MESSAGES = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]
CHAT = {"model": "llama3.2", "messages": MESSAGES}


def test_plain_httpx_sync_chat_makes_the_same_exact_span(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    with httpx.Client() as client:
        lines = [
            orjson.loads(line)
            for line in client.post(f"{simulator}/api/chat", json=CHAT).text.splitlines()
        ]

    (span,) = telemetry.spans()
    text = "".join(o["message"]["content"] for o in lines)
    expected = {
        **request_attrs(
            simulator, "/api/chat", "chat", "llama3.2", True, len(MESSAGES[0]["content"])
        ),
        **final_attrs(lines[-1], text),
    }
    actual = without_ttft(span.attributes)
    assert approx_equal(actual, expected), diff(actual, expected)


async def test_plain_httpx_async_stream_makes_one_span(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    async with (
        httpx.AsyncClient() as client,
        client.stream(
            "POST", f"{simulator}/api/generate", json={"model": "llama3.2", "prompt": "hi"}
        ) as response,
    ):
        lines = [orjson.loads(line) async for line in response.aiter_lines()]

    (span,) = telemetry.spans()
    expected = {
        **request_attrs(simulator, "/api/generate", "text_completion", "llama3.2", True, 2),
        **final_attrs(lines[-1], "".join(o["response"] for o in lines)),
    }
    actual = without_ttft(span.attributes)
    assert approx_equal(actual, expected), diff(actual, expected)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def _openai_expected(url: str, stream: bool, body: dict[str, Any], text: str) -> dict[str, Any]:
    from otel_taskmaster.quality.features import text_features

    return {
        **request_attrs(
            url, "/v1/chat/completions", "chat", "llama3.2", stream, len(MESSAGES[0]["content"])
        ),
        "gen_ai.request.max_tokens": 32,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.response.model": body["model"],
        "gen_ai.response.id": body["id"],
        "gen_ai.response.finish_reasons": (body["finish_reason"],),
        "gen_ai.usage.input_tokens": body["usage"]["prompt_tokens"],
        "gen_ai.usage.output_tokens": body["usage"]["completion_tokens"],
        **text_features(text),
    }


def test_openai_compatible_chat_completion_makes_one_exact_span(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    response = httpx.post(
        f"{simulator}/v1/chat/completions",
        json={**CHAT, "max_tokens": 32, "temperature": 0.5},
    ).json()

    (span,) = telemetry.spans()
    choice = response["choices"][0]
    text = choice["message"]["content"]
    body = {**response, "finish_reason": choice["finish_reason"]}
    expected = _openai_expected(simulator, False, body, text)
    assert approx_equal(dict(span.attributes), expected), diff(dict(span.attributes), expected)


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_openai_compatible_sse_stream_makes_one_exact_span(
    instrument: Instrument, simulator: str, sync: bool
) -> None:
    telemetry = instrument(simulator)
    request = {
        **CHAT,
        "max_tokens": 32,
        "temperature": 0.5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    url = f"{simulator}/v1/chat/completions"
    if sync:
        with httpx.Client() as client, client.stream("POST", url, json=request) as r:
            lines = list(r.iter_lines())
    else:
        async with httpx.AsyncClient() as aclient, aclient.stream("POST", url, json=request) as r:
            lines = [line async for line in r.aiter_lines()]

    events = [orjson.loads(x[6:]) for x in lines if x.startswith("data: {")]
    assert [x for x in lines if x][-1] == "data: [DONE]"
    text = "".join(e["choices"][0]["delta"]["content"] for e in events if e["choices"])
    finish = next(
        e["choices"][0]["finish_reason"]
        for e in events
        if e["choices"] and e["choices"][0]["finish_reason"]
    )
    body = {**events[-1], "finish_reason": finish}
    (span,) = telemetry.spans()
    expected = _openai_expected(simulator, True, body, text)
    actual = without_ttft(span.attributes)
    assert approx_equal(actual, expected), diff(actual, expected)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_non_ollama_paths_and_hosts_pass_through_without_spans(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument("http://127.0.0.1:1")  # the simulator is not a configured Ollama

    response = httpx.post(f"{simulator}/api/chat", json={**CHAT, "stream": False})

    assert response.json()["done"] is True
    assert telemetry.spans() == ()


def test_extra_hosts_setting_adds_ollama_servers(instrument: Instrument, simulator: str) -> None:
    port = simulator.rsplit(":", 1)[1]
    telemetry = instrument("http://127.0.0.1:1", {"TASKMASTER_OLLAMA_HOSTS": f"127.0.0.1:{port}"})

    httpx.post(f"{simulator}/api/chat", json={**CHAT, "stream": False})
    httpx.get(f"{simulator}/api/tags")  # not an API call: no span

    (span,) = telemetry.spans()
    assert span.name == "chat llama3.2"


def test_openai_compatible_text_completion_stream_counts_text_and_tokens(
    instrument: Instrument,
) -> None:
    events = [
        {"id": "cmpl-1", "model": "m", "choices": [{"index": 0, "text": t, "finish_reason": None}]}
        for t in ("Once ", "upon ", "a time")
    ]
    events.append(
        {
            "id": "cmpl-1",
            "model": "m",
            "choices": [{"index": 0, "text": "", "finish_reason": "length"}],
            "usage": {"prompt_tokens": 4, "completion_tokens": 3},
        }
    )
    body = [b"data: " + orjson.dumps(e) + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]

    with serving_bytes(BytesPlan(body, content_type="text/event-stream")) as url:
        telemetry = instrument(url)
        with (
            httpx.Client() as client,
            client.stream(
                "POST",
                f"{url}/v1/completions",
                json={"model": "m", "prompt": "Tell", "stream": True},
            ) as response,
        ):
            assert b"".join(response.iter_raw()) == b"".join(body)

    (span,) = telemetry.spans()
    assert span.name == "text_completion m"
    assert span.attributes["taskmaster.response.chars"] == len("Once upon a time")
    assert span.attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 3
    assert span.attributes["gen_ai.response.id"] == "cmpl-1"


@pytest.mark.parametrize("vectors", [1, 300])
def test_openai_compatible_embeddings_read_dimensions_tokens_and_model(
    instrument: Instrument, vectors: int
) -> None:
    body = orjson.dumps(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "embedding": [0.25] * 384, "index": i}
                for i in range(vectors)
            ],
            "model": "all-minilm",
            "usage": {"prompt_tokens": 6, "total_tokens": 6},
        }
    )

    with serving_bytes(BytesPlan([body], content_type="application/json")) as url:
        telemetry = instrument(url)
        data = httpx.post(f"{url}/v1/embeddings", json={"model": "all-minilm", "input": "x"}).json()

    (span,) = telemetry.spans()
    assert len(data["data"]) == vectors
    assert span.name == "embeddings all-minilm"
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 384
    assert span.attributes["gen_ai.usage.input_tokens"] == 6
    assert span.attributes["gen_ai.response.model"] == "all-minilm"
    assert "error.type" not in span.attributes


def test_big_embed_body_reads_fields_after_the_vectors(instrument: Instrument) -> None:
    body = orjson.dumps(
        {
            "model": "nomic-embed-text",
            "embeddings": [[0.125] * 768 for _ in range(300)],
            "total_duration": 2_000_000_000,
            "load_duration": 500_000_000,
            "prompt_eval_count": 1200,
        }
    )

    with serving_bytes(BytesPlan([body], content_type="application/json")) as url:
        telemetry = instrument(url)
        httpx.post(f"{url}/api/embed", json={"model": "nomic-embed-text", "input": ["x"] * 300})

    (span,) = telemetry.spans()
    assert len(body) > 500_000
    attrs = {
        k: v for k, v in span.attributes.items() if not k.startswith(("server.", "gen_ai.req"))
    }
    assert attrs == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "ollama",
        "ollama.api.path": "/api/embed",
        "gen_ai.response.model": "nomic-embed-text",
        "gen_ai.embeddings.dimension.count": 768,
        "gen_ai.usage.input_tokens": 1200,
        "ollama.total_duration": 2.0,
        "ollama.load_duration": 0.5,
    }


def test_wildcard_hosts_setting_instruments_any_host_serving_an_ollama_path(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument("http://127.0.0.1:1", {"TASKMASTER_OLLAMA_HOSTS": "*"})

    httpx.post(f"{simulator}/api/generate", json={"model": "llama3.2", "prompt": "hi"})
    httpx.post(f"{simulator}/api/show", json={"model": "llama3.2"})  # not a model call

    (span,) = telemetry.spans()
    assert span.name == "text_completion llama3.2"
