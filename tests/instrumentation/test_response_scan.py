"""The fast scan of an Ollama body reads exactly what the full JSON walk reads, or steps aside."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_taskmaster.instrumentation.ollama import response
from otel_taskmaster.instrumentation.ollama.response import ResponseSummary, parse_body
from otel_taskmaster.instrumentation.ollama.routes import ROUTES

FIELDS = {"/api/chat": "message", "/api/generate": "response"}


class _Text:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)


def _go_json(obj: dict[str, Any]) -> bytes:
    """Compact JSON the way Ollama's Go encoder writes it (HTML characters escaped)."""
    return (
        orjson.dumps(obj)
        .replace(b"<", b"\\u003c")
        .replace(b">", b"\\u003e")
        .replace(b"&", b"\\u0026")
    )


def _chunk(path: str, piece: str, extra: dict[str, Any]) -> dict[str, Any]:
    head = {"model": "m", "created_at": "2026-11-28T10:00:00.1234Z"}
    if path == "/api/chat":
        return {**head, "message": {"role": "assistant", "content": piece, **extra}, "done": False}
    return {**head, "response": piece, **extra, "done": False}


def _final(path: str, tokens: int, reason: str) -> dict[str, Any]:
    answer: dict[str, Any] = (
        {"message": {"role": "assistant", "content": ""}}
        if path == "/api/chat"
        else {"response": ""}
    )
    return {
        "model": "m",
        **answer,
        "done_reason": reason,
        "done": True,
        "total_duration": 5000,
        "prompt_eval_count": 3,
        "eval_count": tokens,
        "eval_duration": 4000,
    }


def _walked(path: str, data: bytes) -> tuple[ResponseSummary, str]:
    """The reference: every line parsed as JSON and read field by field."""
    summary, text = ResponseSummary(), _Text()
    for obj in response._objects(data.split(b"\n"), summary):
        response._read_ollama(obj, FIELDS[path], summary, text)
    return summary, "".join(text.parts)


def _parsed(path: str, data: bytes) -> tuple[ResponseSummary, str]:
    text = _Text()
    return parse_body(ROUTES[path], data, text), "".join(text.parts)


PATHS = st.sampled_from(sorted(FIELDS))
PIECES = st.lists(st.text(max_size=10), max_size=20)
# Lines Ollama also sends: tool calls, thinking, an error object, a blank line.
ODD_LINES = st.sampled_from(["tool_calls", "thinking", "error", "blank", "spaced"])


@settings(max_examples=300, deadline=None)
@given(
    path=PATHS,
    pieces=PIECES,
    tokens=st.integers(0, 5000),
    reason=st.sampled_from(["stop", "length"]),
)
def test_plain_streams_take_the_scan_and_read_what_the_walk_reads(
    path: str, pieces: list[str], tokens: int, reason: str
) -> None:
    lines = [_chunk(path, p, {}) for p in pieces] + [_final(path, tokens, reason)]
    data = b"".join(_go_json(line) + b"\n" for line in lines)

    scanned = ResponseSummary()
    assert response._scan_ollama(data, FIELDS[path], scanned, None)
    assert _parsed(path, data) == _walked(path, data)
    assert _parsed(path, data)[1] == "".join(pieces)


@settings(max_examples=300, deadline=None)
@given(path=PATHS, thoughts=PIECES, pieces=PIECES)
def test_a_reasoning_models_thinking_chunks_take_the_scan_and_read_what_the_walk_reads(
    path: str, thoughts: list[str], pieces: list[str]
) -> None:
    lines = [_chunk(path, "", {"thinking": t}) for t in thoughts]
    lines += [_chunk(path, p, {}) for p in pieces] + [_final(path, 9, "stop")]
    data = b"".join(_go_json(line) + b"\n" for line in lines)

    assert response._scan_ollama(data, FIELDS[path], ResponseSummary(), None)
    assert _parsed(path, data) == _walked(path, data)
    # The thought is not the answer: only the answer's characters are counted.
    summary, text = _parsed(path, data)
    assert (summary.response_chars, text) == (len("".join(pieces)), "".join(pieces))
    assert summary.output_chunks == len(thoughts) + len(pieces)


@settings(max_examples=300, deadline=None)
@given(
    path=PATHS,
    pieces=PIECES,
    odd=st.lists(st.tuples(st.integers(0, 20), ODD_LINES), min_size=1, max_size=3),
)
def test_unusual_lines_read_the_same_as_the_walk(
    path: str, pieces: list[str], odd: list[tuple[int, str]]
) -> None:
    lines = [_go_json(_chunk(path, p, {})) for p in pieces]
    for at, kind in odd:
        line = {
            "tool_calls": _go_json(
                _chunk(path, "", {"tool_calls": [{"function": {"name": "f", "arguments": {}}}]})
            ),
            "thinking": _go_json(_chunk(path, "", {"thinking": "hmm"})),
            "error": _go_json({"error": "model ran out of memory"}),
            "blank": b"",
            "spaced": b'{"message": {"content": "x"}, "response": "x", "done": false}',
        }[kind]
        lines.insert(at % (len(lines) + 1), line)
    data = b"".join(line + b"\n" for line in [*lines, _go_json(_final(path, 7, "stop"))])

    assert _parsed(path, data) == _walked(path, data)


@settings(max_examples=300, deadline=None)
@given(path=PATHS, pieces=PIECES, cut=st.integers(0, 10_000))
def test_a_cut_or_unfinished_body_reads_the_same_as_the_walk(
    path: str, pieces: list[str], cut: int
) -> None:
    lines = [_chunk(path, p, {}) for p in pieces] + [_final(path, 9, "stop")]
    data = b"".join(_go_json(line) + b"\n" for line in lines)
    data = data[: cut % (len(data) + 1)]

    assert _parsed(path, data) == _walked(path, data)


def test_a_non_streamed_answer_counts_its_tool_calls() -> None:
    final = _final("/api/chat", 5, "stop")
    final["message"]["tool_calls"] = [{"function": {"name": "f", "arguments": {}}}] * 2
    data = _go_json(final)

    assert _parsed("/api/chat", data) == _walked("/api/chat", data)
    assert _parsed("/api/chat", data)[0].tool_calls == 2


CHAT_FINAL = _go_json(_final("/api/chat", 2, "stop"))


def test_lines_that_only_look_plain_read_the_same_as_the_walk() -> None:
    start = b'{"model":"m","message":{"role":"assistant",'
    odd_lines = [
        start + b'"text":"no answer key"},"done":false}',  # ends as a plain chunk, no key
        start + b'"content":"a","content":"b"},"done":false}',  # the key twice (last wins)
        start + b'"content":"a","b"},"done":false}',  # not JSON: a piece holding ","
        start + b'"content":"d"},"done":false,"x":1}',  # more after the answer
    ]
    plain = start + b'"content":"e"},"done":false}'
    for odd in odd_lines:
        for lines in ([odd, plain], [plain, odd], [odd, odd, plain]):
            data = b"\n".join([*lines, CHAT_FINAL]) + b"\n"

            assert not response._scan_ollama(data, "message", ResponseSummary(), None)
            assert _parsed("/api/chat", data) == _walked("/api/chat", data), data
