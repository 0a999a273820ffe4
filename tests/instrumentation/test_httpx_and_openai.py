"""Plain httpx (sync and async) and Ollama's OpenAI-compatible API, streamed (SSE) and not."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.instrumentation.conftest import Instrument
from tests.instrumentation.expect import (
    approx_equal,
    diff,
    final_attrs,
    request_attrs,
    without_ttft,
)

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

    httpx.post(f"{simulator}/api/chat", json={**CHAT, "stream": False})
    telemetry_for_sim = telemetry.spans()
    assert telemetry_for_sim == ()


def test_extra_hosts_setting_adds_ollama_servers(instrument: Instrument, simulator: str) -> None:
    port = simulator.rsplit(":", 1)[1]
    telemetry = instrument("http://127.0.0.1:1", {"TASKMASTER_OLLAMA_HOSTS": f"127.0.0.1:{port}"})

    httpx.post(f"{simulator}/api/chat", json={**CHAT, "stream": False})
    httpx.get(f"{simulator}/api/tags")  # not an API call: no span

    (span,) = telemetry.spans()
    assert span.name == "chat llama3.2"
