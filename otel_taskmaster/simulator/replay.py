"""Replays recorded Ollama traffic (VCR YAML cassettes) from a loopback server.

A request is matched by method + path + the body's ``stream`` flag + ``model``; if nothing
matches, by method + path + ``stream``, then by method + path alone. Among several matches
the server prefers the recording whose prompt (``messages`` / ``prompt`` / ``input``)
equals the request's, then the first cassette by file name. A request header
``X-Replay-Cassette: <file stem>`` picks one cassette outright (the ollama clients accept
``headers=`` for that). The recorded status, ``Content-Type`` and body are sent back;
NDJSON bodies go out one line per HTTP chunk.

With the cassettes in ``/work/shared/fixtures/ollama-recordings/`` (the ``ollama`` client
sends ``"stream": false`` for non-streamed calls, and no ``stream`` for ``embeddings``):

=====================================================  ==========================================
request                                                cassette served
=====================================================  ==========================================
POST /api/chat  llama3     stream=false                ``async_chat`` (``chat`` by header)
POST /api/chat  llama3     stream=true                 ``async_streaming_chat``
                                                       (``streaming_chat`` by header)
POST /api/chat  llama3.1   stream=false                ``chat_tool_calls``
POST /api/chat  gemma3:1b  stream=false                ``operation_duration_includes_model_...``
POST /api/generate llama3  stream=false                ``async_generation``
                                                       (``generation`` by header)
POST /api/generate llama3  stream=true                 ``async_streaming_generation``
                                                       (``streaming_generation`` by header)
POST /api/generate gemma3:1b stream=true               ``streaming_metrics`` (identical to
                                                       ``streaming_time_to_generate_metrics``)
POST /api/embeddings llama3                            ``embeddings``
other models on /api/chat or /api/generate            first cassette with the same path and
                                                       ``stream`` flag, by file name
anything else                                          404 ``{"error": "no recording ..."}``
=====================================================  ==========================================

The prompt of every recorded chat/generate call is "Tell me a joke about OpenTelemetry"
(except ``chat_tool_calls``, a tool answer, and the gemma3 chat), so a request with that prompt
and model ``llama3`` does not single out the sync or async recording: use the header.
YAML needs PyYAML (``pip install pyyaml``), imported only when replay is used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from otel_taskmaster.simulator.faults import FaultBox
from otel_taskmaster.simulator.responses import (
    NDJSON,
    Disconnect,
    Response,
    ollama_error,
)

CASSETTE_HEADER = "x-replay-cassette"
_MISSING = object()


@dataclass(frozen=True)
class Recording:
    """One recorded request/response pair."""

    cassette: str  # file stem
    method: str
    path: str
    model: str | None
    stream: Any  # True / False / None (not sent)
    prompt: str  # canonical JSON of messages / prompt / input
    status: int
    content_type: str
    body: bytes

    @property
    def lines(self) -> list[bytes]:
        return [line + b"\n" for line in self.body.split(b"\n") if line.strip()]


def load_recordings(directory: str | Path, names: Sequence[str] | None = None) -> list[Recording]:
    """Every interaction of every ``*.yaml`` cassette in ``directory`` (or only ``names``)."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - PyYAML is in the dev extras
        raise RuntimeError("replaying cassettes needs PyYAML: pip install pyyaml") from exc

    wanted = set(names) if names else None
    recordings: list[Recording] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        if wanted is not None and path.stem not in wanted:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for interaction in data.get("interactions") or []:
            recordings.append(_recording(path.stem, interaction))
    if wanted is not None and (missing := wanted - {r.cassette for r in recordings}):
        raise FileNotFoundError(f"no cassette named {sorted(missing)} in {directory}")
    if not recordings:
        raise FileNotFoundError(f"no VCR cassettes (*.yaml) in {directory}")
    return recordings


def _recording(stem: str, interaction: Mapping[str, Any]) -> Recording:
    request, response = interaction["request"], interaction["response"]
    body = _request_json(request.get("body"))
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    content_type = headers.get("content-type") or ["application/json; charset=utf-8"]
    raw = (response.get("body") or {}).get("string", "")
    return Recording(
        cassette=stem,
        method=str(request["method"]).upper(),
        path=urlsplit(request["uri"]).path,
        model=body.get("model"),
        stream=body.get("stream"),
        prompt=_prompt_key(body),
        status=int(response["status"]["code"]),
        content_type=content_type[0] if isinstance(content_type, list) else str(content_type),
        body=raw.encode("utf-8") if isinstance(raw, str) else bytes(raw),
    )


def _request_json(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _prompt_key(body: Mapping[str, Any]) -> str:
    for key in ("messages", "prompt", "input"):
        if key in body:
            return json.dumps(body[key], sort_keys=True)
    return ""


class Replayer:
    """Serves recordings; the ``slow``, ``errors`` and ``disconnect`` faults still apply."""

    def __init__(self, recordings: Sequence[Recording], faults: FaultBox | None = None) -> None:
        self.recordings = list(recordings)
        self.faults = faults or FaultBox()

    def match(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Recording | None:
        wanted = headers.get(CASSETTE_HEADER)
        if wanted:
            for recording in self.recordings:
                if recording.cassette == wanted and recording.path == path:
                    return recording
            return None
        on_path = [r for r in self.recordings if r.method == method and r.path == path]
        request = _request_json(body)
        stream = request.get("stream", None)
        same_stream = [r for r in on_path if r.stream == stream]
        exact = [r for r in same_stream if r.model == request.get("model")]
        # A streamed body for a non-streamed call would break the client: stream flag first.
        candidates = exact or same_stream or on_path
        prompt = _prompt_key(request)
        return next((r for r in candidates if r.prompt == prompt), None) or next(
            iter(candidates), None
        )

    def handle(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        recording = self.match(method, path, body, headers)
        if recording is None:
            return ollama_error(404, f"no recording matches {method} {path}")
        faults = self.faults.current
        if faults.slow:
            time.sleep(faults.slow)
        if self.faults.roll(faults.errors):
            return ollama_error(500, "llama runner process has terminated: signal: killed")
        disconnect = self.faults.roll(faults.disconnect)
        if recording.content_type.startswith(NDJSON):
            return Response(
                recording.status,
                recording.content_type,
                chunks=_lines(recording.lines, disconnect, faults.slow_chunk),
            )
        response = Response(recording.status, recording.content_type, recording.body)
        if disconnect:
            response.cut_after = len(recording.body) // 2
        return response


def _lines(lines: list[bytes], disconnect: bool, delay: float) -> Iterator[bytes]:
    stop_at = len(lines) // 2 if disconnect else -1
    for index, line in enumerate(lines):
        if index == stop_at:
            raise Disconnect
        if delay and index:
            time.sleep(delay)
        yield line
