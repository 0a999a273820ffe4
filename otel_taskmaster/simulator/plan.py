"""One answer rendered as Ollama or OpenAI-compatible bodies: whole, or chunk by chunk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from otel_taskmaster.simulator.responses import Disconnect, dumps

STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"

_SECOND: list[Any] = [-1, ""]


def now() -> str:
    """RFC 3339 UTC with microseconds, like Ollama's ``created_at``; cheap per chunk."""
    stamp = time.time()
    second = int(stamp)
    cached = _SECOND
    if cached[0] != second:
        cached[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{cached[1]}.{int((stamp - second) * 1e6):06d}Z"


@dataclass
class AnswerPlan:
    """Everything needed to write one answer; ``stream()`` sleeps as it goes."""

    kind: str  # "chat", "generate" or "openai"
    model: str  # as the request named it, echoed like Ollama does
    pieces: tuple[str, ...]  # the streamed tokens
    text: str
    tool_calls: list[dict[str, Any]] | None
    done_reason: str
    stats: dict[str, int]  # Ollama's counts and nanosecond durations
    context: list[int] | None  # /api/generate only
    first_delay: float  # seconds before the first chunk
    chunk_delay: float  # seconds between chunks
    include_usage: bool  # OpenAI stream_options.include_usage
    completion_id: str
    created: int = field(default_factory=lambda: int(time.time()))

    # Ollama native ----------------------------------------------------------------------

    def final_body(self) -> dict[str, Any]:
        if self.kind == "openai":
            return self._openai_body()
        body: dict[str, Any] = {"model": self.model, "created_at": now()}
        if self.kind == "chat":
            message: dict[str, Any] = {"role": "assistant", "content": self.text}
            if self.tool_calls:
                message["tool_calls"] = self.tool_calls
            body["message"] = message
            body["done_reason"] = self.done_reason
            body["done"] = True
        else:
            body["response"] = self.text
            body["done"] = True
            body["done_reason"] = self.done_reason
            body["context"] = self.context
        body.update(self.stats)
        return body

    def _chunk(self, piece: str) -> bytes:
        if self.kind == "chat":
            body = {
                "model": self.model,
                "created_at": now(),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
        else:
            body = {"model": self.model, "created_at": now(), "response": piece, "done": False}
        return dumps(body) + b"\n"

    def _last_chunk(self) -> bytes:
        body: dict[str, Any] = {"model": self.model, "created_at": now()}
        if self.kind == "chat":
            body["message"] = {"role": "assistant", "content": ""}
            body["done_reason"] = self.done_reason
            body["done"] = True
        else:
            body["response"] = ""
            body["done"] = True
            body["done_reason"] = self.done_reason
            body["context"] = self.context
        body.update(self.stats)
        return dumps(body) + b"\n"

    def stream(self, mid_error: bool, disconnect: bool) -> Iterator[bytes]:
        if self.first_delay > 0:
            time.sleep(self.first_delay)
        if self.kind == "openai":
            yield from self._openai_stream(mid_error, disconnect)
            return
        if self.tool_calls:
            # Ollama sends a tool call as one whole message, then the closing chunk.
            body = {
                "model": self.model,
                "created_at": now(),
                "message": {"role": "assistant", "content": "", "tool_calls": self.tool_calls},
                "done": False,
            }
            yield dumps(body) + b"\n"
        stop_at = len(self.pieces) // 2 if (mid_error or disconnect) else -1
        delay = self.chunk_delay
        for index, piece in enumerate(self.pieces):
            if index == stop_at:
                if disconnect:
                    raise Disconnect
                yield dumps({"error": STREAM_ERROR}) + b"\n"
                return
            if delay > 0 and index:
                time.sleep(delay)
            yield self._chunk(piece)
        if stop_at == 0:  # nothing streamed before the fault
            if disconnect:
                raise Disconnect
            yield dumps({"error": STREAM_ERROR}) + b"\n"
            return
        yield self._last_chunk()

    # OpenAI-compatible ------------------------------------------------------------------

    def _finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else self.done_reason

    def _usage(self) -> dict[str, int]:
        prompt, completion = self.stats["prompt_eval_count"], self.stats["eval_count"]
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _openai_body(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return {
            "id": self.completion_id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "message": message, "finish_reason": self._finish_reason()}],
            "usage": self._usage(),
        }

    def _sse(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama",
            "choices": choices,
        }
        if usage is not None:
            body["usage"] = usage
        return b"data: " + dumps(body) + b"\n\n"

    def _openai_stream(self, mid_error: bool, disconnect: bool) -> Iterator[bytes]:
        if self.tool_calls:
            delta = {"role": "assistant", "content": "", "tool_calls": self.tool_calls}
            yield self._sse([{"index": 0, "delta": delta, "finish_reason": None}])
        stop_at = len(self.pieces) // 2 if (mid_error or disconnect) else -1
        for index, piece in enumerate(self.pieces):
            if index == stop_at:
                if disconnect:
                    raise Disconnect
                error = {"message": STREAM_ERROR, "type": "api_error", "param": None, "code": None}
                yield b"data: " + dumps({"error": error}) + b"\n\n"
                return
            if self.chunk_delay > 0 and index:
                time.sleep(self.chunk_delay)
            delta = {"role": "assistant", "content": piece}
            yield self._sse([{"index": 0, "delta": delta, "finish_reason": None}])
        final = {"role": "assistant", "content": ""}
        yield self._sse([{"index": 0, "delta": final, "finish_reason": self._finish_reason()}])
        if self.include_usage:
            yield self._sse([], self._usage())
        yield b"data: [DONE]\n\n"
