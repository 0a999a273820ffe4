"""Response body -> what the span and metrics need: tokens, done reason, Ollama's durations.

A body is parsed once, after the app has seen every byte of it: streamed chunks are only
kept by reference while they pass (see ``stream.py``), so the per-chunk cost stays tiny and
the app gets each chunk the moment it arrives. Malformed lines are counted and skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from otel_taskmaster.instrumentation.ollama.routes import BODY_EMBED, BODY_OPENAI, Route

_NS = 1e-9


class TextSink(Protocol):
    def add(self, text: str) -> None: ...


@dataclass(slots=True)
class ResponseSummary:
    """Everything read from one response body."""

    model: str | None = None
    response_id: str | None = None
    done: bool = False
    done_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_duration: float | None = None  # seconds, Ollama's own clock
    load_duration: float | None = None
    prompt_eval_duration: float | None = None
    eval_duration: float | None = None
    tool_calls: int = 0
    chunks: int = 0  # JSON objects in the body
    output_chunks: int = 0  # objects that carried part of the answer (not final, not error)
    malformed: int = 0  # lines that were not JSON
    error: str | None = None  # an {"error": ...} object in the body
    embedding_dimensions: int | None = None
    response_chars: int = 0


def parse_body(route: Route, data: bytes, text: TextSink | None) -> ResponseSummary:
    """Parses a whole (possibly streamed) response body. Never raises on bad input."""
    summary = ResponseSummary()
    if route.body == BODY_EMBED:
        _parse_embed(data, summary)
    elif route.body == BODY_OPENAI:
        for obj in _objects(_sse_payloads(data), summary):
            _read_openai(obj, summary, text)
    else:
        field = route.content_field
        if not _scan_ollama(data, field, summary, text):
            for obj in _objects(data.split(b"\n"), summary):
                _read_ollama(obj, field, summary, text)
    return summary


# How Ollama (Go, compact JSON, fixed field order) writes a plain answer chunk: the answer
# piece's key, the piece as a JSON string, then these closing bytes up to the newline. Inside
# a JSON string quotes are escaped and newlines cannot occur, so neither can match there; a
# line with more after the answer (tool calls) does not end this way. A thinking chunk does,
# with its thought after an empty answer (see _decoded).
_PIECE_KEY = {"message": b'"content":"', "response": b'"response":"'}
_CHUNK_END = {"message": b'"},"done":false}\n', "response": b'","done":false}\n'}
# What follows the empty answer in a reasoning model's thinking chunk (chat and generate).
_THINKING = b'","thinking":"'
_MODEL = re.compile(rb'"model":("(?:[^"\\]|\\.)*")')


def _scan_ollama(data: bytes, field: str, summary: ResponseSummary, text: TextSink | None) -> bool:
    """The common case at C speed: a few splits over the chunks and one JSON parse of the
    final one, instead of a dict per chunk (1.1 µs a chunk, most of our cost on a stream).
    Every line but the last must end the way Ollama ends a plain answer chunk, and the last
    must be the ``done`` object. Returns False, having changed nothing, when the body needs
    the full walk (errors, tool calls, anything unusual)."""
    ended = data.split(_CHUNK_END[field])
    try:
        # What follows the last plain chunk must be one JSON value: the final object. A line
        # before it that did not end as a plain chunk would make it two.
        final = orjson.loads(ended.pop())
    except orjson.JSONDecodeError:
        return False
    if not isinstance(final, dict) or final.get("done") is not True:
        return False
    pieces = _answer_pieces(ended, field)
    if pieces is None:
        return False
    last = final.get(field)
    calls = None
    if field == "message" and isinstance(last, dict):
        calls = last.get("tool_calls")
        last = last.get("content")
    if last is not None and not isinstance(last, str):
        return False
    texts = _decoded(pieces)
    if texts is None:
        return False
    answer = "".join(texts)
    if last:
        answer += last
    summary.response_chars = len(answer)
    if text is not None and answer:
        text.add(answer)
    if isinstance(calls, list):
        summary.tool_calls = len(calls)
    summary.chunks = len(pieces) + 1
    summary.output_chunks = len(pieces)
    summary.done = True
    if pieces and not isinstance(final.get("model"), str):
        first = _MODEL.search(ended[0])
        summary.model = _json_string(first.group(1)) if first else None
    _read_final(final, summary)
    return True


def _answer_pieces(ended: list[bytes], field: str) -> list[bytes] | None:
    """The raw answer strings of the plain chunks, each given without its closing bytes, or
    None when one is not a plain chunk. Splits and searches run at memchr speed, where a
    regex walked every byte (0.4 µs a line)."""
    if not ended:
        return []  # a single JSON object: the answer is all in the final one
    key = _PIECE_KEY[field]
    # "prefix KEY piece" per line, joined by KEY, splits into prefix, piece, prefix, piece...
    joined = key.join(ended)
    if b"\n" in joined:
        return None  # a newline outside the closing bytes: a line did not end as they do
    parts = joined.split(key)
    if len(parts) != 2 * len(ended):
        return None  # a line without the key, or with it twice
    return parts[1::2]


def _decoded(pieces: list[bytes]) -> list[str] | None:
    """The answer pieces as strings, one per piece, or None when one is not a whole JSON
    string on its own."""
    texts = _string_array(pieces)
    if texts is None and any(piece.startswith(_THINKING) for piece in pieces):
        # A reasoning model's thinking chunk: an empty answer, then its thought (ours only to
        # count as a chunk). No answer string starts with a quote, so this misreads none.
        texts = _string_array([b"" if p.startswith(_THINKING) else p for p in pieces])
    return texts if texts is not None and len(texts) == len(pieces) else None


def _string_array(pieces: list[bytes]) -> list[str] | None:
    """The pieces read as one JSON array of strings, or None when that is not valid JSON."""
    if not pieces:
        return []
    try:
        return orjson.loads(b'["' + b'","'.join(pieces) + b'"]')
    except orjson.JSONDecodeError:
        return None


def _objects(lines: list[bytes], summary: ResponseSummary) -> list[dict[str, Any]]:
    lines = [line for line in lines if line.strip()]
    if not lines:
        return []
    try:
        # One call for the whole stream is several times cheaper than one per line.
        parsed = orjson.loads(b"[" + b",".join(lines) + b"]")
    except orjson.JSONDecodeError:
        parsed = []
        for line in lines:
            try:
                parsed.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                summary.malformed += 1
    objects = [obj for obj in parsed if isinstance(obj, dict)]
    summary.malformed += len(parsed) - len(objects)
    summary.chunks = len(objects)
    return objects


def _read_ollama(
    obj: dict[str, Any], field: str, summary: ResponseSummary, text: TextSink | None
) -> None:
    if "error" in obj:
        summary.error = str(obj["error"])[:200]
        return
    value = obj.get(field)
    if field == "message" and isinstance(value, dict):
        calls = value.get("tool_calls")
        if isinstance(calls, list):
            summary.tool_calls += len(calls)
        value = value.get("content")
    if isinstance(value, str) and value:
        summary.response_chars += len(value)
        if text is not None:
            text.add(value)
    if obj.get("done") is True:
        summary.done = True
        _read_final(obj, summary)
        return
    summary.output_chunks += 1
    if summary.model is None and isinstance(obj.get("model"), str):
        summary.model = obj["model"]


def _read_final(obj: dict[str, Any], summary: ResponseSummary) -> None:
    if isinstance(obj.get("model"), str):
        summary.model = obj["model"]
    reason = obj.get("done_reason")
    summary.done_reason = reason if isinstance(reason, str) else "stop"
    summary.input_tokens = _int(obj.get("prompt_eval_count"))
    summary.output_tokens = _int(obj.get("eval_count"))
    summary.total_duration = _seconds(obj.get("total_duration"))
    summary.load_duration = _seconds(obj.get("load_duration"))
    summary.prompt_eval_duration = _seconds(obj.get("prompt_eval_duration"))
    summary.eval_duration = _seconds(obj.get("eval_duration"))


def _sse_payloads(data: bytes) -> list[bytes]:
    """The JSON payloads of an SSE body, or the body itself when it is plain JSON."""
    stripped = data.lstrip()
    if not stripped.startswith(b"data:"):
        return [data]
    payloads = []
    for line in data.split(b"\n"):
        if line.startswith(b"data:"):
            payload = line[5:].strip()
            if payload and payload != b"[DONE]":
                payloads.append(payload)
    return payloads


def _read_openai(obj: dict[str, Any], summary: ResponseSummary, text: TextSink | None) -> None:
    if "error" in obj:
        error = obj["error"]
        message = error.get("message") if isinstance(error, dict) else error
        summary.error = str(message)[:200]
        return
    if summary.model is None and isinstance(obj.get("model"), str):
        summary.model = obj["model"]
    if summary.response_id is None and isinstance(obj.get("id"), str):
        summary.response_id = obj["id"]
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        choice = choices[0]
        part = choice.get("delta") or choice.get("message")
        if choice.get("finish_reason") is None:
            summary.output_chunks += 1
        if isinstance(part, dict):
            content = part.get("content")
            if isinstance(content, str) and content:
                summary.response_chars += len(content)
                if text is not None:
                    text.add(content)
            calls = part.get("tool_calls")
            if isinstance(calls, list):
                summary.tool_calls += len(calls)
        elif isinstance(choice.get("text"), str):  # /v1/completions
            summary.response_chars += len(choice["text"])
            if text is not None:
                text.add(choice["text"])
        if isinstance(choice.get("finish_reason"), str):
            summary.done = True
            summary.done_reason = choice["finish_reason"]
    usage = obj.get("usage")
    if isinstance(usage, dict):
        summary.input_tokens = _int(usage.get("prompt_tokens"))
        summary.output_tokens = _int(usage.get("completion_tokens"))


# Embedding bodies are mostly floats: pick the few scalar fields out without parsing them.
_EMBED_FIELDS = re.compile(
    rb'"(model|total_duration|load_duration|prompt_eval_count|error)"\s*:\s*("(?:[^"\\]|\\.)*"|\d+)'
)
_OPENAI_TOKENS = re.compile(rb'"prompt_tokens"\s*:\s*(\d+)')


# The scalar fields sit before or after the vectors; a big body is only searched at its ends.
_EMBED_WINDOW = 4096


def _parse_embed(data: bytes, summary: ResponseSummary) -> None:
    ends = data
    if len(data) > 4 * _EMBED_WINDOW:
        ends = data[:_EMBED_WINDOW] + b"\n" + data[-_EMBED_WINDOW:]
    for key, raw in _EMBED_FIELDS.findall(ends):
        if key == b"model":
            summary.model = _json_string(raw)
        elif key == b"error":
            summary.error = (_json_string(raw) or "error")[:200]
        elif key == b"prompt_eval_count":
            summary.input_tokens = _int(int(raw)) if raw.isdigit() else None
        elif raw.isdigit():
            seconds = int(raw) * _NS
            if key == b"total_duration":
                summary.total_duration = seconds
            else:
                summary.load_duration = seconds
    if summary.input_tokens is None and (match := _OPENAI_TOKENS.search(ends)):
        summary.input_tokens = int(match.group(1))
    # The first vector starts near the top; a search through megabytes of "[" would not.
    start = data.find(b"[[", 0, _EMBED_WINDOW)
    if start < 0:
        start = data.find(b'"embedding"', 0, _EMBED_WINDOW)
        start = data.find(b"[", start) if start >= 0 else -1
    else:
        start += 1
    if start >= 0:
        end = data.find(b"]", start)
        if end > start + 1:
            summary.embedding_dimensions = data.count(b",", start, end) + 1
    # /api/embeddings answers with the vector alone, no model name.
    summary.done = summary.error is None and (
        summary.model is not None or summary.embedding_dimensions is not None
    )
    summary.chunks = 1 if data.strip() else 0


def _json_string(raw: bytes) -> str | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _seconds(value: object) -> float | None:
    number = _int(value)
    return None if number is None else number * _NS
