"""Ollama's OpenAI-compatible ``/v1/chat/completions``, read with plain httpx."""

from __future__ import annotations

import json

import httpx

MESSAGES = [{"role": "user", "content": "Summarize the OpenTelemetry data model"}]


def _sse_events(response: httpx.Response) -> list[str]:
    return [line.removeprefix("data: ") for line in response.iter_lines() if line]


def test_non_stream_completion_has_choice_and_usage(sim_url: str) -> None:
    body = httpx.post(
        f"{sim_url}/v1/chat/completions", json={"model": "llama3.2", "messages": MESSAGES}
    ).json()

    assert body["object"] == "chat.completion"
    assert body["model"] == "llama3.2"
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_stream_is_sse_ending_in_done_with_usage_when_asked(sim_url: str) -> None:
    request = {
        "model": "llama3.2",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream("POST", f"{sim_url}/v1/chat/completions", json=request) as response:
        content_type = response.headers["content-type"]
        events = _sse_events(response)

    assert content_type == "text/event-stream"
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    finish = chunks[-2]["choices"][0]
    assert finish["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"]["content"] for c in chunks[:-1])
    whole = httpx.post(
        f"{sim_url}/v1/chat/completions", json={"model": "llama3.2", "messages": MESSAGES}
    ).json()
    assert text == whole["choices"][0]["message"]["content"]
    assert usage_chunk["usage"] == whole["usage"]


def test_stream_without_include_usage_has_no_usage_chunk(sim_url: str) -> None:
    request = {"model": "llama3.2", "messages": MESSAGES, "stream": True}
    with httpx.stream("POST", f"{sim_url}/v1/chat/completions", json=request) as response:
        events = _sse_events(response)

    assert events[-1] == "[DONE]"
    assert all("usage" not in json.loads(e) for e in events[:-1])


def test_max_tokens_gives_length_finish_reason(sim_url: str) -> None:
    body = httpx.post(
        f"{sim_url}/v1/chat/completions",
        json={"model": "llama3.2", "messages": MESSAGES, "max_tokens": 4},
    ).json()

    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 4


def test_unknown_model_error_has_openai_shape(sim_url: str) -> None:
    response = httpx.post(
        f"{sim_url}/v1/chat/completions", json={"model": "missing", "messages": MESSAGES}
    )

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": 'model "missing" not found, try pulling it first',
            "type": "not_found_error",
            "param": None,
            "code": None,
        }
    }
