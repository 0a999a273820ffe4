"""Every recorded cassette, replayed to the real ``ollama`` client: one exact span each."""

from __future__ import annotations

import json
from typing import Any

import ollama
import pytest

from tests.instrumentation.expect import (
    RECORDINGS,
    TTFT,
    approx_equal,
    cassette,
    diff,
    final_attrs,
    ndjson,
    request_attrs,
    without_ttft,
)
from tests.instrumentation.harness import Instrument
from tests.support.ollama_server import CASSETTE_HEADER

CASSETTES = sorted(p.stem for p in RECORDINGS.glob("*.yaml"))
OPERATIONS = {"/api/chat": "chat", "/api/generate": "text_completion"}


def _prompt_chars(request: dict[str, Any]) -> int:
    if "messages" in request:
        return sum(len(m.get("content") or "") for m in request["messages"])
    return len(request.get("system") or "") + len(request["prompt"])


async def _replay(url: str, name: str, path: str, request: dict[str, Any]) -> None:
    """Sends the recorded request with the client the recording was made with."""
    headers = {CASSETTE_HEADER: name}
    stream = bool(request.get("stream"))
    common: dict[str, Any] = {"model": request["model"], "options": request.get("options")}
    if name.startswith("async_"):
        aclient = ollama.AsyncClient(host=url, headers=headers)
        if path == "/api/chat":
            result: Any = await aclient.chat(messages=request["messages"], stream=stream, **common)
        else:
            result = await aclient.generate(prompt=request["prompt"], stream=stream, **common)
        if stream:
            _ = [part async for part in result]
        return
    client = ollama.Client(host=url, headers=headers)
    if path == "/api/chat":
        result = client.chat(
            messages=request["messages"], tools=request.get("tools"), stream=stream, **common
        )
    elif path == "/api/generate":
        result = client.generate(prompt=request["prompt"], stream=stream, **common)
    else:
        result = client.embeddings(prompt=request["prompt"], **common)
    if stream:
        _ = list(result)


@pytest.mark.parametrize("name", CASSETTES)
async def test_replayed_cassette_makes_one_exact_span(
    instrument: Instrument, replay: str, name: str
) -> None:
    request, _status, path, body = cassette(name)
    telemetry = instrument(replay)

    await _replay(replay, name, path, request)

    (span,) = telemetry.spans()
    stream = bool(request.get("stream"))
    if path == "/api/embeddings":
        embedding = json.loads(body)["embedding"]
        expected = {
            **request_attrs(replay, path, "embeddings", request["model"], False, None),
            "gen_ai.response.model": request["model"],
            "gen_ai.embeddings.dimension.count": len(embedding),
        }
    else:
        objects = ndjson(body)
        field = "message" if path == "/api/chat" else "response"
        pieces = [o[field]["content"] if field == "message" else o[field] for o in objects]
        expected = {
            **request_attrs(
                replay, path, OPERATIONS[path], request["model"], stream, _prompt_chars(request)
            ),
            **final_attrs(objects[-1], "".join(pieces)),
        }
    actual = without_ttft(span.attributes)
    assert approx_equal(actual, expected), diff(actual, expected)
    assert span.status.status_code.name == "UNSET"
    assert (TTFT in span.attributes) == stream


def test_tool_call_cassette_records_no_tool_calls_because_its_answer_has_none(
    instrument: Instrument, replay: str
) -> None:
    # chat_tool_calls is the turn *after* a tool ran: the request carries the tool call and
    # the recorded answer is plain text, so the response count must not include it.
    request, _status, _path, body = cassette("chat_tool_calls")
    telemetry = instrument(replay)

    result = ollama.Client(host=replay, headers={CASSETTE_HEADER: "chat_tool_calls"}).chat(
        model=request["model"], messages=request["messages"]
    )

    (span,) = telemetry.spans()
    assert result.message.tool_calls is None
    assert "tool_calls" not in json.loads(body)["message"]
    assert "ollama.response.tool_calls" not in span.attributes
    assert span.attributes["gen_ai.usage.output_tokens"] == result.eval_count == 113
