"""The real ``ollama`` client (sync and async) against the simulator."""

from __future__ import annotations

import asyncio
import json

import httpx
import ollama
import pytest

from otel_taskmaster.simulator import OLLAMA_VERSION
from tests.support.ollama_server import read_http_chunks, running_simulator

PROMPT = "Explain how Prometheus histograms work"
MESSAGES = [{"role": "user", "content": PROMPT}]


def test_chat_returns_assistant_message_with_ollama_stats(sim_url: str) -> None:
    response = ollama.Client(host=sim_url).chat(model="llama3.2", messages=MESSAGES)

    assert response.model == "llama3.2"
    assert response.done is True
    assert response.done_reason == "stop"
    assert response.message.role == "assistant"
    assert "Prometheus" in response.message.content
    text = response.message.content
    assert response.eval_count is not None and response.prompt_eval_count is not None
    # Token counts are roughly four characters per token.
    assert len(text) / 6 < response.eval_count < len(text) / 2.5
    assert response.prompt_eval_count > len(PROMPT) // 4
    assert response.eval_duration is not None and response.total_duration is not None
    per_token_ms = response.eval_duration / response.eval_count / 1e6
    assert 20 <= per_token_ms <= 40
    assert response.total_duration > response.eval_duration
    assert response.created_at is not None and response.created_at.endswith("Z")


def test_same_prompt_and_seed_give_same_answer_other_seed_differs(sim_url: str) -> None:
    client = ollama.Client(host=sim_url)

    def answer(seed: int) -> str:
        return client.chat(
            model="llama3.2", messages=MESSAGES, options={"seed": seed}
        ).message.content

    assert answer(1) == answer(1)
    assert {answer(seed) for seed in range(6)} != {answer(1)}


def test_chat_stream_yields_pieces_then_final_stats(sim_url: str) -> None:
    client = ollama.Client(host=sim_url)
    whole = client.chat(model="llama3.2", messages=MESSAGES).message.content

    parts = list(client.chat(model="llama3.2", messages=MESSAGES, stream=True))

    assert all(not p.done for p in parts[:-1])
    final = parts[-1]
    assert final.done is True and final.done_reason == "stop"
    assert final.message.content == ""
    assert "".join(p.message.content for p in parts) == whole
    assert final.eval_count == len(parts) - 1


def test_num_predict_caps_tokens_with_length_reason(sim_url: str) -> None:
    client = ollama.Client(host=sim_url)

    parts = list(
        client.generate(model="llama3.2", prompt=PROMPT, stream=True, options={"num_predict": 7})
    )
    whole = client.chat(model="llama3.2", messages=MESSAGES, options={"num_predict": 3})

    assert len(parts) == 8
    assert parts[-1].done_reason == "length" and parts[-1].eval_count == 7
    assert whole.done_reason == "length" and whole.eval_count == 3


def test_generate_non_stream_has_response_and_context(sim_url: str) -> None:
    response = ollama.Client(host=sim_url).generate(model="llama3.2", prompt=PROMPT)

    assert response.response and response.done and response.done_reason == "stop"
    assert response.context and all(isinstance(t, int) for t in response.context)
    assert response.load_duration is not None and response.prompt_eval_duration is not None


def test_stream_sends_each_ndjson_line_as_its_own_chunk(sim_url: str) -> None:
    status, headers, chunks = read_http_chunks(
        sim_url, "/api/generate", {"model": "llama3.2", "prompt": PROMPT}
    )

    assert status == 200
    assert headers["content-type"] == "application/x-ndjson"
    assert len(chunks) > 5
    assert all(c.endswith(b"\n") and c.count(b"\n") == 1 for c in chunks)
    lines = [json.loads(c) for c in chunks]
    assert [line["done"] for line in lines] == [False] * (len(lines) - 1) + [True]


def test_embed_accepts_string_or_list_and_returns_unit_vectors(sim_url: str) -> None:
    client = ollama.Client(host=sim_url)

    one = client.embed(model="all-minilm", input="hello world")
    many = client.embed(model="all-minilm", input=["hello world", "goodbye"])

    assert len(one.embeddings) == 1 and len(one.embeddings[0]) == 384
    assert len(many.embeddings) == 2
    assert many.embeddings[0] == one.embeddings[0] != many.embeddings[1]
    assert sum(v * v for v in many.embeddings[1]) == pytest.approx(1.0)
    assert many.prompt_eval_count is not None and many.prompt_eval_count > 0


def test_legacy_embeddings_returns_one_vector(sim_url: str) -> None:
    response = ollama.Client(host=sim_url).embeddings(model="nomic-embed-text", prompt="hi there")

    assert len(response.embedding) == 768


def test_list_ps_and_version_describe_the_models(sim_url: str) -> None:
    client = ollama.Client(host=sim_url)

    names = [m.model for m in client.list().models]
    running = [m.model for m in client.ps().models]
    version = httpx.get(f"{sim_url}/api/version").json()

    assert "llama3.2:latest" in names and "all-minilm:latest" in names
    assert "llama3.2:latest" in running
    assert version == {"version": OLLAMA_VERSION}


def test_first_call_to_a_cold_model_reports_load_time_then_it_is_running() -> None:
    with running_simulator() as url:
        client = ollama.Client(host=url)
        assert "llama3:latest" not in [m.model for m in client.ps().models]

        cold = client.chat(model="llama3", messages=MESSAGES)
        warm = client.chat(model="llama3", messages=MESSAGES)

        assert cold.load_duration is not None and cold.load_duration >= 1_000_000_000
        assert warm.load_duration is not None and warm.load_duration < 20_000_000
        assert "llama3:latest" in [m.model for m in client.ps().models]


def test_show_reports_model_details(sim_url: str) -> None:
    shown = ollama.Client(host=sim_url).show("llama3.2")

    assert shown.details is not None and shown.details.family == "llama"
    assert shown.capabilities == ["completion", "tools"]


def test_chat_with_tools_returns_tool_call(sim_url: str) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
    response = ollama.Client(host=sim_url).chat(
        model="llama3.1",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[tool],
    )

    assert response.message.tool_calls is not None
    (call,) = response.message.tool_calls
    assert call.function.name == "get_current_weather"
    assert call.function.arguments == {"location": "Paris"}


def test_unknown_model_is_404_like_ollama(sim_url: str) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        ollama.Client(host=sim_url).chat(model="nope", messages=MESSAGES)

    assert caught.value.status_code == 404
    assert caught.value.error == 'model "nope" not found, try pulling it first'


def test_bad_input_gives_clear_errors_and_server_stays_up(sim_url: str) -> None:
    with httpx.Client(base_url=sim_url) as client:
        bad_json = client.post("/api/chat", content=b"{not json")
        empty = client.post("/api/generate", content=b"")
        no_model = client.post("/api/chat", json={"messages": MESSAGES})
        bad_messages = client.post("/api/chat", json={"model": "llama3.2", "messages": "hi"})
        bad_input = client.post("/api/embed", json={"model": "all-minilm", "input": 5})
        unknown_path = client.get("/api/nothing")
        still_fine = client.post("/api/chat", json={"model": "llama3.2", "messages": MESSAGES})

    assert bad_json.status_code == 400
    assert bad_json.json() == {"error": "invalid character 'n' looking for beginning of value"}
    assert (empty.status_code, empty.json()) == (400, {"error": "missing request body"})
    assert (no_model.status_code, no_model.json()) == (400, {"error": "model is required"})
    assert bad_messages.status_code == 400 and "messages" in bad_messages.json()["error"]
    assert (bad_input.status_code, bad_input.json()) == (400, {"error": "invalid input type"})
    assert (unknown_path.status_code, unknown_path.text) == (404, "404 page not found")
    # Ollama streams by default; the same connection still serves a good request.
    assert still_fine.status_code == 200
    assert still_fine.headers["content-type"] == "application/x-ndjson"


def test_empty_prompt_only_loads_the_model(sim_url: str) -> None:
    response = ollama.Client(host=sim_url).generate(model="llama3.2", prompt="")

    assert response.done is True and response.done_reason == "load"
    assert response.response == ""


def test_keep_alive_connection_serves_many_requests(sim_url: str) -> None:
    with httpx.Client(base_url=sim_url) as client:
        for _ in range(20):
            response = client.post(
                "/api/chat", json={"model": "llama3.2", "messages": MESSAGES, "stream": False}
            )
            assert response.status_code == 200
        assert response.http_version == "HTTP/1.1"
        assert response.headers.get("connection", "keep-alive") != "close"


async def test_async_client_chat_generate_embed_and_stream(sim_url: str) -> None:
    client = ollama.AsyncClient(host=sim_url)

    chat = await client.chat(model="llama3.2", messages=MESSAGES)
    generated = await client.generate(model="llama3.2", prompt=PROMPT)
    embedded = await client.embed(model="all-minilm", input=["a", "b", "c"])
    legacy = await client.embeddings(model="all-minilm", prompt="a")
    streamed = [
        part async for part in await client.chat(model="llama3.2", messages=MESSAGES, stream=True)
    ]
    gen_streamed = [
        p async for p in await client.generate(model="llama3.2", prompt=PROMPT, stream=True)
    ]
    listed = await client.list()
    running = await client.ps()

    assert chat.message.content == "".join(p.message.content for p in streamed)
    assert generated.response == "".join(p.response or "" for p in gen_streamed)
    assert streamed[-1].done_reason == "stop" and gen_streamed[-1].done is True
    assert len(embedded.embeddings) == 3 and len(legacy.embedding) == 384
    assert listed.models and running.models


def test_format_json_returns_a_json_object(sim_url: str) -> None:
    response = ollama.Client(host=sim_url).generate(model="llama3.2", prompt=PROMPT, format="json")

    assert set(json.loads(response.response)) == {"answer"}
    assert response.done_reason == "stop"


async def test_eight_concurrent_async_calls_get_the_sequential_answers(sim_url: str) -> None:
    client = ollama.AsyncClient(host=sim_url)
    prompts = [f"Explain topic number {n} in observability" for n in range(8)]
    sequential = [
        (
            await client.chat(model="llama3.2", messages=[{"role": "user", "content": p}])
        ).message.content
        for p in prompts
    ]

    concurrent = await asyncio.gather(
        *(client.chat(model="llama3.2", messages=[{"role": "user", "content": p}]) for p in prompts)
    )

    assert [r.message.content for r in concurrent] == sequential
    assert len(set(sequential)) == 8
