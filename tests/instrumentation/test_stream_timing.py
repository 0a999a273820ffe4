"""Streams: each chunk reaches the app as it arrives, and the span covers the whole stream."""

from __future__ import annotations

import threading
import time

import httpx
import ollama
import orjson

from tests.instrumentation.harness import BytesPlan, Instrument, serving_bytes
from tests.support.ollama_server import CHUNKS_HEADER, running_simulator

MESSAGES = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]


def _chunk(i: int) -> bytes:
    body = {"model": "m", "message": {"role": "assistant", "content": f"w{i} "}, "done": False}
    return orjson.dumps(body) + b"\n"


LAST = (
    orjson.dumps(
        {
            "model": "m",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 4,
            "eval_count": 5,
            "eval_duration": 5_000_000,
        }
    )
    + b"\n"
)


def test_each_chunk_reaches_the_app_before_the_server_sends_the_next(
    instrument: Instrument,
) -> None:
    # The server holds chunk i+1 until the app has seen chunk i: any buffering in the
    # instrumentation would stall it (the gate would time out).
    gates = {i: threading.Event() for i in range(1, 6)}
    plan = BytesPlan([_chunk(i) for i in range(5)] + [LAST], gates=gates)
    with serving_bytes(plan) as url:
        telemetry = instrument(url)
        seen = []
        with (
            httpx.Client() as client,
            client.stream(
                "POST", f"{url}/api/chat", json={"model": "m", "messages": MESSAGES}
            ) as response,
        ):
            for line in response.iter_lines():
                seen.append(orjson.loads(line)["message"]["content"])
                gate = gates.get(len(seen))
                if gate is not None:
                    gate.set()

    assert plan.opened == {i: True for i in range(1, 6)}
    assert seen == ["w0 ", "w1 ", "w2 ", "w3 ", "w4 ", ""]
    (span,) = telemetry.spans()
    assert span.attributes["gen_ai.usage.output_tokens"] == 5


def test_span_covers_the_whole_stream_and_records_time_to_first_chunk(
    instrument: Instrument,
) -> None:
    with running_simulator({"slow_chunk": 0.01}) as url:
        telemetry = instrument(url)
        client = ollama.Client(host=url, headers={CHUNKS_HEADER: "12"})
        started = time.time_ns()
        arrivals = []
        for _part in client.chat(model="llama3.2", messages=MESSAGES, stream=True):
            arrivals.append(time.time_ns())

    (span,) = telemetry.spans()
    assert len(arrivals) == 13  # 12 tokens and the closing chunk
    assert arrivals == sorted(arrivals)
    assert started <= span.start_time <= arrivals[0]
    assert span.end_time >= arrivals[-1]
    ttft = span.attributes["gen_ai.response.time_to_first_chunk"]
    assert 0 < ttft <= (arrivals[0] - span.start_time) / 1e9
    (point,) = telemetry.points("gen_ai.client.operation.time_to_first_chunk")
    assert point.count == 1
    assert point.sum == ttft
    (per_chunk,) = telemetry.points("gen_ai.client.operation.time_per_output_chunk")
    assert per_chunk.count == 1
    duration = (span.end_time - span.start_time) / 1e9
    # Per-chunk time: what is left after the first chunk, over the chunks after it.
    assert 0 < per_chunk.sum <= duration - ttft


def test_chunks_arrive_in_the_same_order_and_number_with_and_without_instrumentation(
    instrument: Instrument,
) -> None:
    def run(url: str) -> list[str]:
        client = ollama.Client(host=url, headers={CHUNKS_HEADER: "10"})
        return [
            p.message.content or ""
            for p in client.chat(model="llama3.2", messages=MESSAGES, stream=True)
        ]

    with running_simulator({"slow_chunk": 0.005}) as url:
        plain = run(url)
        telemetry = instrument(url)
        observed = run(url)

    assert observed == plain
    assert len(plain) == 11
    (span,) = telemetry.spans()
    assert span.attributes["gen_ai.usage.output_tokens"] == 10
