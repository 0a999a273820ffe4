"""Every recorded cassette, replayed through the real ollama client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import ollama
import pytest

from otel_taskmaster.simulator import Recording, load_recordings
from tests.support.ollama_server import (
    CASSETTE_HEADER,
    RECORDINGS_DIR,
    read_http_chunks,
    running_replay,
    set_faults,
)

RECORDINGS = load_recordings(RECORDINGS_DIR)
PROMPT = "Tell me a joke about OpenTelemetry"


@pytest.fixture(scope="module")
def replay_url() -> Iterator[str]:
    with running_replay() as url:
        yield url


def _lines(recording: Recording) -> list[dict[str, Any]]:
    return [json.loads(line) for line in recording.lines]


def _request(recording: Recording) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load((RECORDINGS_DIR / f"{recording.cassette}.yaml").read_text())
    body: dict[str, Any] = json.loads(data["interactions"][0]["request"]["body"])
    return body


def _text(part: Any) -> str:
    if isinstance(part, ollama.ChatResponse):
        return part.message.content or ""
    return part.response or ""


def _call(client: ollama.Client, recording: Recording) -> Any:
    request = _request(recording)
    stream = bool(request.get("stream"))
    if recording.path == "/api/chat":
        return client.chat(model=request["model"], messages=request["messages"], stream=stream)
    if recording.path == "/api/generate":
        return client.generate(model=request["model"], prompt=request["prompt"], stream=stream)
    return client.embeddings(model=request["model"], prompt=request["prompt"])


def test_every_cassette_in_the_shared_folder_is_loaded() -> None:
    stems = {p.stem for p in RECORDINGS_DIR.glob("*.yaml")}

    assert {r.cassette for r in RECORDINGS} == stems and len(stems) == 13


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.cassette)
def test_cassette_replays_through_sync_client(replay_url: str, recording: Recording) -> None:
    client = ollama.Client(host=replay_url, headers={CASSETTE_HEADER: recording.cassette})

    result = _call(client, recording)

    if recording.path == "/api/embeddings":
        assert list(result.embedding) == json.loads(recording.body)["embedding"]
    elif recording.stream:
        parts = list(result)
        lines = _lines(recording)
        assert len(parts) == len(lines)
        assert "".join(map(_text, parts)) == "".join(
            line.get("message", {}).get("content", "") or line.get("response", "") for line in lines
        )
        assert parts[-1].done is True
        assert parts[-1].eval_count == lines[-1]["eval_count"]
        assert parts[-1].eval_duration == lines[-1]["eval_duration"]
    else:
        recorded = json.loads(recording.body)
        assert result.model == recorded["model"]
        assert _text(result) == (
            recorded.get("message", {}).get("content") or recorded.get("response")
        )
        assert result.eval_count == recorded["eval_count"]
        assert result.done_reason == recorded["done_reason"]


@pytest.mark.parametrize(
    "recording",
    [r for r in RECORDINGS if r.cassette.startswith("async_")],
    ids=lambda r: r.cassette,
)
async def test_async_cassettes_replay_through_async_client(
    replay_url: str, recording: Recording
) -> None:
    client = ollama.AsyncClient(host=replay_url, headers={CASSETTE_HEADER: recording.cassette})
    request = _request(recording)
    kwargs: dict[str, Any] = {"model": request["model"], "stream": bool(request["stream"])}
    if recording.path == "/api/chat":
        result = await client.chat(messages=request["messages"], **kwargs)
    else:
        result = await client.generate(prompt=request["prompt"], **kwargs)

    if recording.stream:
        parts = [part async for part in result]
        assert len(parts) == len(_lines(recording)) and parts[-1].done is True
    else:
        assert result.eval_count == json.loads(recording.body)["eval_count"]


def test_match_without_header_uses_model_and_stream_flag(replay_url: str) -> None:
    client = ollama.Client(host=replay_url)
    messages = [{"role": "user", "content": PROMPT}]
    by_name = {r.cassette: r for r in RECORDINGS}

    streamed = list(client.chat(model="llama3", messages=messages, stream=True))
    gemma = client.chat(model="gemma3:1b", messages=[{"role": "user", "content": "hi"}])
    tools = client.chat(model="llama3.1", messages=messages)
    gemma_stream = list(client.generate(model="gemma3:1b", prompt=PROMPT, stream=True))
    other_model = client.generate(model="mistral", prompt=PROMPT)
    chat = client.chat(model="llama3", messages=messages)
    generated = client.generate(model="llama3", prompt=PROMPT)
    gen_streamed = list(client.generate(model="llama3", prompt=PROMPT, stream=True))

    assert len(streamed) == len(by_name["async_streaming_chat"].lines)
    gemma_chat = by_name["operation_duration_includes_model_attribute"]
    assert gemma.eval_count == json.loads(gemma_chat.body)["eval_count"]
    assert tools.eval_count == json.loads(by_name["chat_tool_calls"].body)["eval_count"]
    assert len(gemma_stream) == len(by_name["streaming_metrics"].lines)
    # Same model, flag and prompt in a sync and an async cassette: the first by name wins.
    assert chat.eval_count == json.loads(by_name["async_chat"].body)["eval_count"]
    assert generated.eval_count == json.loads(by_name["async_generation"].body)["eval_count"]
    assert len(gen_streamed) == len(by_name["async_streaming_generation"].lines)
    # No recording for that model: the first non-streamed generate recording answers.
    assert other_model.model == "llama3" and other_model.done is True


def test_replayed_stream_sends_one_recorded_line_per_chunk(replay_url: str) -> None:
    recording = next(r for r in RECORDINGS if r.cassette == "streaming_generation")

    status, headers, chunks = read_http_chunks(
        replay_url,
        "/api/generate",
        _request(recording),
        headers={CASSETTE_HEADER: "streaming_generation"},
    )

    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    assert chunks == recording.lines


def test_unmatched_request_is_a_404_ollama_error(replay_url: str) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        ollama.Client(host=replay_url).embed(model="llama3", input="x")

    assert caught.value.status_code == 404
    assert caught.value.error == "no recording matches POST /api/embed"


def test_only_named_cassettes_are_served_and_faults_apply() -> None:
    with running_replay(cassettes=["chat"]) as url:
        client = ollama.Client(host=url)
        answer = client.chat(model="llama3", messages=[{"role": "user", "content": PROMPT}])
        set_faults(url, errors=1.0)
        with pytest.raises(ollama.ResponseError) as caught:
            client.chat(model="llama3", messages=[{"role": "user", "content": PROMPT}])

    chat = next(r for r in RECORDINGS if r.cassette == "chat")
    assert answer.load_duration == json.loads(chat.body)["load_duration"]
    assert caught.value.status_code == 500


def test_unknown_cassette_name_is_refused() -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        load_recordings(RECORDINGS_DIR, ["nope"])


def test_time_scale_replays_recorded_pacing() -> None:
    recording = next(r for r in RECORDINGS if r.cassette == "streaming_metrics")
    first, gaps = recording.pacing()
    request = _request(recording)
    # gemma3:1b streamed 51 tokens in ~0.44 s after ~0.1 s of load and prompt evaluation.
    assert 0.05 < first < 0.2 and 0.3 < sum(gaps) < 0.6

    with running_replay(cassettes=["streaming_metrics"], time_scale=0.5) as url:
        client = ollama.Client(host=url)
        started = time.monotonic()
        stamps = []
        for _ in client.generate(model=request["model"], prompt=request["prompt"], stream=True):
            stamps.append(time.monotonic() - started)

    assert stamps[0] >= first * 0.5
    assert stamps[-1] >= (first + sum(gaps)) * 0.5 * 0.9
    assert stamps[-1] - stamps[0] > 0.1  # spread out, not sent in one burst
