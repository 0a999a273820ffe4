"""Which HTTP requests are Ollama API calls, and what each API path means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx

from otel_taskmaster import semconv as sc

# How a response body is laid out.
BODY_OLLAMA: Final = "ollama"  # JSON, or NDJSON chunks with a final {"done": true}
BODY_EMBED: Final = "embed"  # one JSON object with large float arrays
BODY_OPENAI: Final = "openai"  # OpenAI-compatible JSON, or SSE "data:" lines


@dataclass(frozen=True, slots=True)
class Route:
    """One Ollama API path: its GenAI operation and how to read it."""

    path: str
    operation: str
    body: str
    content_field: str  # where the answer text sits in a chunk ("" when there is none)
    default_stream: bool  # what Ollama does when the request does not say


ROUTES: Final[dict[str, Route]] = {
    r.path: r
    for r in (
        Route("/api/chat", sc.OPERATION_CHAT, BODY_OLLAMA, "message", True),
        Route("/api/generate", sc.OPERATION_TEXT_COMPLETION, BODY_OLLAMA, "response", True),
        Route("/api/embed", sc.OPERATION_EMBEDDINGS, BODY_EMBED, "", False),
        Route("/api/embeddings", sc.OPERATION_EMBEDDINGS, BODY_EMBED, "", False),
        Route("/v1/chat/completions", sc.OPERATION_CHAT, BODY_OPENAI, "", False),
        Route("/v1/completions", sc.OPERATION_TEXT_COMPLETION, BODY_OPENAI, "", False),
        Route("/v1/embeddings", sc.OPERATION_EMBEDDINGS, BODY_EMBED, "", False),
    )
}


class RouteMatcher:
    """Matches requests against the configured Ollama endpoints; cheap for everything else."""

    __slots__ = ("_any_host", "_endpoints")

    def __init__(self, endpoints: frozenset[tuple[str, int]]) -> None:
        self._any_host = ("*", 0) in endpoints
        self._endpoints = endpoints

    def match(self, request: httpx.Request) -> Route | None:
        url = request.url
        route = ROUTES.get(url.path)
        if route is None or request.method != "POST":
            return None
        if self._any_host:
            return route
        port = url.port or (443 if url.scheme == "https" else 80)
        if (url.host, port) in self._endpoints:
            return route
        return None
