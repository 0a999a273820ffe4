"""Replays recorded Ollama traffic (VCR YAML cassettes) from a loopback server.

A request is matched by method + path + the body's ``stream`` flag + ``model``; if nothing
matches, by method + path + ``stream``, then by method + path alone. Among several matches
the server prefers the recording whose prompt (``messages`` / ``prompt`` / ``input``)
equals the request's, then the first cassette by file name. A request header
``X-Replay-Cassette: <file stem>`` picks one cassette outright (the ollama clients accept
``headers=`` for that). The recorded status, ``Content-Type`` and body are sent back;
NDJSON bodies go out one line per HTTP chunk.

With the cassettes in ``shared/fixtures/ollama-recordings/`` beside the repository (the
``ollama`` client sends ``"stream": false`` for non-streamed calls, and no ``stream`` for
``embeddings``):

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

import itertools
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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

    def pacing(self) -> tuple[float, list[float]]:
        """Recorded seconds before the first line, and between each line and the previous one.

        The first wait is the model's load + prompt evaluation from the final line's stats
        (``created_at`` starts with the first token); the rest come from ``created_at``.
        """
        try:
            parsed = [json.loads(line) for line in self.lines]
        except ValueError:
            return 0.0, []
        if not parsed:
            return 0.0, []
        last = parsed[-1]
        first = ((last.get("load_duration") or 0) + (last.get("prompt_eval_duration") or 0)) / 1e9
        if len(parsed) == 1:
            return first + (last.get("eval_duration") or 0) / 1e9, [0.0]
        stamps = [_timestamp(p.get("created_at")) for p in parsed]
        gaps = [0.0] + [
            max(0.0, b - a) if a is not None and b is not None else 0.0
            for a, b in itertools.pairwise(stamps)
        ]
        return first, gaps


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


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    head, dot, fraction = value.rstrip("Z").partition(".")
    try:  # Ollama may write nanoseconds; datetime takes at most microseconds
        moment = datetime.fromisoformat(head + (dot + fraction[:6] if dot else "") + "+00:00")
    except ValueError:
        return None
    return moment.timestamp()


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
    """Serves recordings; the ``slow``, ``errors`` and ``disconnect`` faults still apply.

    ``time_scale`` replays the recorded timing: 1.0 waits as long as the recorded model did
    (load, prompt evaluation, then the gaps between ``created_at`` stamps); 0 never waits.
    """

    def __init__(
        self,
        recordings: Sequence[Recording],
        faults: FaultBox | None = None,
        time_scale: float = 0.0,
    ) -> None:
        self.recordings = list(recordings)
        self.faults = faults or FaultBox()
        self.time_scale = time_scale

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
        first, gaps = recording.pacing() if self.time_scale > 0 else (0.0, [])
        if recording.content_type.startswith(NDJSON):
            waits = [first + gaps[0], *gaps[1:]] if gaps else []
            waits = [w * self.time_scale for w in waits]
            return Response(
                recording.status,
                recording.content_type,
                chunks=_lines(recording.lines, disconnect, faults.slow_chunk, waits),
            )
        if first > 0:
            time.sleep(first * self.time_scale)
        response = Response(recording.status, recording.content_type, recording.body)
        if disconnect:
            response.cut_after = len(recording.body) // 2
        return response


def _lines(
    lines: list[bytes], disconnect: bool, delay: float, waits: list[float]
) -> Iterator[bytes]:
    stop_at = len(lines) // 2 if disconnect else -1
    for index, line in enumerate(lines):
        if index == stop_at:
            raise Disconnect
        wait = (waits[index] if index < len(waits) else 0.0) + (delay if index else 0.0)
        if wait > 0:
            time.sleep(wait)
        yield line
