"""Concurrent calls: one span each, under the right parent, with their own numbers."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import ollama

from tests.instrumentation.harness import Instrument
from tests.support.ollama_server import CHUNKS_HEADER, running_simulator


async def test_eight_concurrent_async_streams_keep_their_own_spans_and_parents(
    instrument: Instrument,
) -> None:
    with running_simulator({"slow_chunk": 0.002}) as url:
        telemetry = instrument(url)
        tracer = telemetry.tracer_provider.get_tracer("app")

        async def one(i: int) -> tuple[int, int]:
            with tracer.start_as_current_span(f"request {i}") as parent:
                client = ollama.AsyncClient(host=url, headers={CHUNKS_HEADER: str(5 + i)})
                stream = await client.chat(
                    model="llama3.2",
                    messages=[{"role": "user", "content": f"question {i}"}],
                    stream=True,
                )
                parts = [p async for p in stream]
            return parent.get_span_context().span_id, parts[-1].eval_count or 0

        results = await asyncio.gather(*(one(i) for i in range(8)))

    genai = telemetry.genai_spans()
    assert len(genai) == 8
    by_parent = {s.parent.span_id: s for s in genai if s.parent is not None}
    for i, (parent_id, eval_count) in enumerate(results):
        span = by_parent[parent_id]
        assert eval_count == 5 + i
        assert span.attributes["gen_ai.usage.output_tokens"] == 5 + i
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 8


def test_threads_sharing_one_sync_client_get_one_span_per_call(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    client = ollama.Client(host=simulator)

    def one(i: int) -> int:
        return (
            client.generate(
                model="llama3.2", prompt=f"q{i}", options={"num_predict": 3 + i}
            ).eval_count
            or 0
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(one, range(8)))

    spans = telemetry.spans()
    assert len(spans) == 8
    assert sorted(s.attributes["gen_ai.usage.output_tokens"] for s in spans) == sorted(counts)
    assert sorted(s.attributes["gen_ai.request.max_tokens"] for s in spans) == list(range(3, 11))
    tokens = telemetry.points("taskmaster_tokens_output")
    assert [p.value for p in tokens] == [sum(counts)]
