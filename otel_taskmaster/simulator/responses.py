"""What a request handler returns, independent of the HTTP server that writes it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

try:  # orjson is a base dependency; the fallback keeps the simulator standard-library only
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - exercised only without orjson
    import json

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


JSON = "application/json; charset=utf-8"
NDJSON = "application/x-ndjson"
SSE = "text/event-stream"
TEXT = "text/plain; charset=utf-8"


class Disconnect(Exception):
    """Raised by a stream to make the server drop the connection without finishing it."""


@dataclass
class Response:
    """A whole body (``body``) or a chunked stream (``chunks``, one item per HTTP chunk).

    ``cut_after`` sends the full ``Content-Length`` but only that many body bytes, then
    closes the connection (a non-streamed answer cut off by a dying server).
    """

    status: int
    content_type: str = JSON
    body: bytes = b""
    chunks: Iterator[bytes] | None = None
    cut_after: int | None = None


def json_response(value: Any, status: int = 200) -> Response:
    return Response(status, JSON, dumps(value))


def ollama_error(status: int, message: str) -> Response:
    """Ollama's error shape: ``{"error": "..."}``."""
    return Response(status, JSON, dumps({"error": message}))


def openai_error(status: int, message: str) -> Response:
    """The error shape of Ollama's OpenAI-compatible endpoints."""
    kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return Response(status, JSON, dumps(body))


def not_found() -> Response:
    # Ollama's router answers unknown paths with Go's plain-text 404.
    return Response(404, TEXT, b"404 page not found")
