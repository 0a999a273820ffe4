"""Property tests: any byte split of a body gives the same telemetry; garbage never raises."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_taskmaster.instrumentation.ollama import invocation, stream
from otel_taskmaster.instrumentation.ollama.response import parse_body
from otel_taskmaster.instrumentation.ollama.routes import ROUTES
from tests.instrumentation.harness import Instrument, Telemetry

OLLAMA = "http://127.0.0.1:11434"  # the default Ollama endpoint; MockTransport never dials it
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class _Pieces(httpx.SyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    return [body[a:b] for a, b in itertools.pairwise(points) if b > a]


def _send(path: str, pieces: list[bytes], content_type: str) -> bytes:
    """Streams ``pieces`` through a real httpx client; returns the bytes the app read."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, stream=_Pieces(pieces))

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        client.stream(
            "POST",
            f"{OLLAMA}{path}",
            json={"model": "m", "messages": [{"role": "user", "content": "q"}]},
        ) as response,
    ):
        return b"".join(response.iter_raw())


def _attributes(telemetry: Telemetry) -> dict[str, Any]:
    (span,) = telemetry.spans()
    telemetry.exporter.clear()
    attrs = dict(span.attributes)
    attrs.pop("gen_ai.response.time_to_first_chunk", None)
    return attrs


def _ndjson(pieces: list[str], reason: str, tokens: int) -> bytes:
    lines = [
        {"model": "m", "message": {"role": "assistant", "content": p}, "done": False}
        for p in pieces
    ]
    lines.append(
        {
            "model": "m",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reason,
            "prompt_eval_count": 3,
            "eval_count": tokens,
            "eval_duration": tokens * 1000,
            "total_duration": tokens * 2000,
        }
    )
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def _sse(pieces: list[str], reason: str, tokens: int) -> bytes:
    events = [
        {"id": "c-1", "model": "m", "choices": [{"index": 0, "delta": {"content": p}}]}
        for p in pieces
    ]
    events.append(
        {"id": "c-1", "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}
    )
    events.append(
        {
            "id": "c-1",
            "model": "m",
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": tokens},
        }
    )
    return b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"


ANSWERS = st.lists(st.text(max_size=12), max_size=12)
REASONS = st.sampled_from(["stop", "length"])
TOKENS = st.integers(1, 10_000)
CUTS = st.lists(st.integers(0, 10_000), max_size=30)


@pytest.fixture
def default_ollama(instrument: Instrument) -> Telemetry:
    return instrument(OLLAMA)


@EXAMPLES
@given(pieces=ANSWERS, reason=REASONS, tokens=TOKENS, cuts=CUTS)
def test_ndjson_stream_split_anywhere_gives_the_same_span(
    default_ollama: Telemetry, pieces: list[str], reason: str, tokens: int, cuts: list[int]
) -> None:
    body = _ndjson(pieces, reason, tokens)

    assert _send("/api/chat", [body], "application/x-ndjson") == body
    whole = _attributes(default_ollama)
    assert _send("/api/chat", _split(body, cuts), "application/x-ndjson") == body
    split = _attributes(default_ollama)

    assert split == whole
    assert whole["gen_ai.usage.output_tokens"] == tokens
    assert whole["gen_ai.response.finish_reasons"] == (reason,)
    assert whole["taskmaster.response.chars"] == sum(len(p) for p in pieces)


@EXAMPLES
@given(pieces=ANSWERS, reason=REASONS, tokens=TOKENS, cuts=CUTS)
def test_sse_stream_split_anywhere_gives_the_same_span(
    default_ollama: Telemetry, pieces: list[str], reason: str, tokens: int, cuts: list[int]
) -> None:
    body = _sse(pieces, reason, tokens)

    assert _send("/v1/chat/completions", [body], "text/event-stream") == body
    whole = _attributes(default_ollama)
    assert _send("/v1/chat/completions", _split(body, cuts), "text/event-stream") == body
    split = _attributes(default_ollama)

    assert split == whole
    assert whole["gen_ai.usage.output_tokens"] == tokens
    assert whole["gen_ai.response.id"] == "c-1"
    assert whole["taskmaster.response.chars"] == sum(len(p) for p in pieces)


@EXAMPLES
@given(
    pieces=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40),
    reason=REASONS,
    tokens=TOKENS,
    cuts=CUTS,
    keep=st.integers(1, 400),
    tail=st.sampled_from([stream.TAIL_BYTES, 256, 300]),
)
def test_final_chunk_survives_any_keep_limit_and_split(
    default_ollama: Telemetry,
    pieces: list[str],
    reason: str,
    tokens: int,
    cuts: list[int],
    keep: int,
    tail: int,
) -> None:
    # Small limits force both paths: head and tail contiguous, and chunks let go between.
    body = _ndjson(pieces, reason, tokens)
    saved = invocation.KEEP_BYTES, stream.TAIL_BYTES
    invocation.KEEP_BYTES, stream.TAIL_BYTES = keep, tail
    try:
        assert _send("/api/chat", _split(body, cuts), "application/x-ndjson") == body
    finally:
        invocation.KEEP_BYTES, stream.TAIL_BYTES = saved
    attrs = _attributes(default_ollama)

    assert attrs["gen_ai.usage.output_tokens"] == tokens
    assert attrs["gen_ai.usage.input_tokens"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == (reason,)
    assert "error.type" not in attrs
    # Cut lines at the seams are skipped, not miscounted as malformed bodies.
    assert [p for p in default_ollama.points("taskmaster_instrumentation_errors") if p.value] == []


@EXAMPLES
@given(garbage=st.binary(max_size=2000), cuts=CUTS, path=st.sampled_from(sorted(ROUTES)))
def test_garbage_bodies_reach_the_app_untouched_and_never_raise(
    default_ollama: Telemetry, garbage: bytes, cuts: list[int], path: str
) -> None:
    assert _send(path, _split(garbage, cuts), "application/x-ndjson") == garbage
    (span,) = default_ollama.spans()
    default_ollama.exporter.clear()
    assert span.end_time is not None


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=4000), path=st.sampled_from(sorted(ROUTES)))
def test_parse_body_never_raises_on_arbitrary_bytes(data: bytes, path: str) -> None:
    summary = parse_body(ROUTES[path], data, None)
    assert summary.chunks >= 0
    assert summary.output_tokens is None or summary.output_tokens >= 0


@settings(max_examples=200, deadline=None)
@given(
    objects=st.lists(
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers(-(2**63), 2**64 - 1)
            | st.floats(allow_nan=False)
            | st.text(),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "model",
                            "message",
                            "content",
                            "done",
                            "done_reason",
                            "eval_count",
                            "choices",
                            "delta",
                            "usage",
                            "error",
                            "tool_calls",
                            "response",
                            "x",
                        ]
                    ),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=20,
        ),
        max_size=8,
    ),
    path=st.sampled_from(sorted(ROUTES)),
)
def test_parse_body_never_raises_on_json_of_the_wrong_shape(objects: list[Any], path: str) -> None:
    body = b"".join(orjson.dumps(o) + b"\n" for o in objects)
    parse_body(ROUTES[path], body, None)
    parse_body(ROUTES[path], b"".join(b"data: " + orjson.dumps(o) + b"\n\n" for o in objects), None)
