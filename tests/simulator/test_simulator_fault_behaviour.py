"""Every fault visibly changes what a real client sees, and flips at runtime."""

from __future__ import annotations

import time

import httpx
import ollama
import pytest

from tests.support.ollama_server import (
    clear_faults,
    get_faults,
    get_stats,
    read_http_chunks,
    running_simulator,
    set_faults,
)

MESSAGES = [{"role": "user", "content": "How do I tune Prometheus scrape intervals?"}]


def _chat(url: str, **kwargs: object) -> ollama.ChatResponse:
    return ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES, **kwargs)  # type: ignore[arg-type]


def test_errors_fault_gives_http_500_then_clears_at_runtime() -> None:
    with running_simulator(faults={"errors": 1.0}) as url:
        with pytest.raises(ollama.ResponseError) as caught:
            _chat(url)
        assert caught.value.status_code == 500
        assert "llama runner process has terminated" in caught.value.error

        clear_faults(url)

        assert _chat(url).done_reason == "stop"


def test_error_probability_is_seeded_and_partial() -> None:
    def outcomes(seed: int) -> list[int]:
        with running_simulator(faults=["errors=0.5"], seed=seed) as url, httpx.Client() as http:
            request = {"model": "llama3.2", "messages": MESSAGES, "stream": False}
            return [http.post(f"{url}/api/chat", json=request).status_code for _ in range(40)]

    first, again = outcomes(3), outcomes(3)

    assert first == again
    assert 5 < first.count(500) < 35 and first.count(200) == 40 - first.count(500)


def test_stream_errors_fault_ends_stream_with_error_line() -> None:
    with running_simulator() as url:
        set_faults(url, stream_errors=1.0)
        received: list[str] = []
        with pytest.raises(ollama.ResponseError) as caught:
            for part in _chat(url, stream=True):  # type: ignore[attr-defined]
                received.append(part.message.content)

        assert "an error was encountered while running the model" in caught.value.error
        assert received  # some tokens arrived before the error


def test_disconnect_fault_drops_stream_without_final_chunk() -> None:
    with running_simulator(faults={"disconnect": 1.0}) as url:
        with pytest.raises(ConnectionError, match="before the last chunk"):
            read_http_chunks(url, "/api/chat", {"model": "llama3.2", "messages": MESSAGES})
        with pytest.raises(httpx.RemoteProtocolError):
            list(_chat(url, stream=True))  # type: ignore[call-overload]
        with pytest.raises(httpx.RemoteProtocolError):
            _chat(url)


def test_repetition_fault_loops_until_length() -> None:
    with running_simulator(faults=["repetition"]) as url:
        answer = _chat(url, options={"num_predict": 60})

    sentences = [s.strip() for s in answer.message.content.split(".") if s.strip()]
    assert answer.done_reason == "length" and answer.eval_count == 60
    assert len(set(sentences[1:-1])) == 1 and len(sentences) > 4


def test_truncate_fault_cuts_answer_short_with_length() -> None:
    with running_simulator() as url:
        full = _chat(url)
        set_faults(url, truncate=1.0)
        cut = _chat(url)

    assert full.done_reason == "stop" and cut.done_reason == "length"
    assert full.message.content.startswith(cut.message.content)
    assert cut.eval_count is not None and full.eval_count is not None
    assert cut.eval_count < full.eval_count


def test_refusal_fault_answers_with_a_refusal() -> None:
    with running_simulator(faults={"refusal": 1.0}) as url:
        answer = _chat(url)

    assert answer.message.content.startswith(("I'm sorry", "I can't"))
    assert answer.done_reason == "stop"


def test_unloaded_fault_hides_model_and_404s_then_reloads_cold() -> None:
    with running_simulator() as url:
        client = ollama.Client(host=url)
        set_faults(url, unloaded="llama3.2")

        assert "llama3.2:latest" not in [m.model for m in client.ps().models]
        assert "llama3.2:latest" not in [m.model for m in client.list().models]
        assert "llama3:latest" in [m.model for m in client.list().models]
        with pytest.raises(ollama.ResponseError) as caught:
            _chat(url)
        assert caught.value.status_code == 404

        clear_faults(url)
        again = _chat(url)

    assert again.load_duration is not None and again.load_duration >= 1_000_000_000


def test_slow_fault_delays_each_call() -> None:
    with running_simulator(faults={"slow": 0.3}) as url:
        started = time.monotonic()
        _chat(url)
        elapsed = time.monotonic() - started
        set_faults(url, slow=0)
        started = time.monotonic()
        _chat(url)
        fast = time.monotonic() - started

    assert elapsed >= 0.3 > fast


def test_slow_chunk_fault_spaces_streamed_chunks() -> None:
    with running_simulator(faults={"slow_chunk": 0.02, "chunks": 10}) as url:
        started = time.monotonic()
        parts = list(_chat(url, stream=True))  # type: ignore[call-overload]
        elapsed = time.monotonic() - started

    assert len(parts) == 11
    assert elapsed >= 9 * 0.02


def test_chunks_fault_and_header_set_stream_length() -> None:
    with running_simulator(faults={"chunks": 64}) as url:
        parts = list(_chat(url, stream=True))  # type: ignore[call-overload]
        client = ollama.Client(host=url, headers={"X-Simulator-Chunks": "5"})
        short = list(client.chat(model="llama3.2", messages=MESSAGES, stream=True))

    assert len(parts) == 65 and parts[-1].eval_count == 64
    assert len(short) == 6


def test_default_time_scale_waits_like_a_model() -> None:
    # 8 tokens at 20-40 ms each plus ~30 ms of prompt evaluation.
    with running_simulator(faults={"chunks": 8}, time_scale=1.0) as url:
        started = time.monotonic()
        _chat(url)
        elapsed = time.monotonic() - started

    assert 0.16 + 0.012 <= elapsed < 2.0


def test_control_endpoint_reads_merges_and_rejects_unknown_faults() -> None:
    with running_simulator(faults=["errors=0.25"]) as url:
        set_faults(url, slow=0.5)
        merged = get_faults(url)
        bad = httpx.post(f"{url}/_simulator/faults", json={"explode": 1})
        out_of_range = httpx.post(f"{url}/_simulator/faults", json={"errors": 2})
        replaced = httpx.put(f"{url}/_simulator/faults", json={"refusal": 1.0}).json()
        for n in range(3):
            httpx.get(f"{url}/random/{n}")
        stats = get_stats(url)

    assert merged["errors"] == 0.25 and merged["slow"] == 0.5
    assert bad.status_code == 400 and "unknown fault 'explode'" in bad.json()["error"]
    assert out_of_range.status_code == 400
    assert replaced["refusal"] == 1.0 and replaced["errors"] == 0.0 and replaced["slow"] == 0.0
    assert stats["faults"] == {"refusal": 1.0}
    assert stats["requests"]["/_simulator/faults"] == 5
    assert stats["requests"]["(other)"] == 3  # unknown paths share one bounded counter
