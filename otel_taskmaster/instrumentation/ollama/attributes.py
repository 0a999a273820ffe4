"""Request body -> GenAI request attributes. Reads numbers and names, never keeps text
unless content capture is on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from otel_taskmaster import semconv as sc
from otel_taskmaster.instrumentation.ollama.routes import BODY_OLLAMA, BODY_OPENAI, Route

# Ollama "options" key -> GenAI attribute.
_OLLAMA_OPTIONS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE, float),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P, float),
    ("top_k", sc.GEN_AI_REQUEST_TOP_K, float),
    ("num_predict", sc.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("seed", sc.GEN_AI_REQUEST_SEED, int),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
)
# OpenAI-compatible top-level key -> GenAI attribute.
_OPENAI_PARAMS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE, float),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P, float),
    ("max_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("max_completion_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("seed", sc.GEN_AI_REQUEST_SEED, int),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
)


@dataclass(slots=True)
class RequestInfo:
    """What the instrumentor needs from a request body."""

    model: str = ""
    stream: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    prompt_chars: int = 0
    input_messages: list[dict[str, str]] | None = None  # only with content capture


def parse_request(route: Route, body: bytes, capture_content: bool) -> RequestInfo:
    """Reads a request body; a body that is not a JSON object gives an empty RequestInfo."""
    info = RequestInfo(stream=route.default_stream)
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return info
    if not isinstance(data, dict):
        return info
    model = data.get("model")
    info.model = model if isinstance(model, str) else ""
    stream = data.get("stream")
    if isinstance(stream, bool):
        info.stream = stream
    attrs = info.attributes
    if route.body == BODY_OPENAI:
        _copy_params(data, _OPENAI_PARAMS, attrs)
        _set_stop(data.get("stop"), attrs)
    else:
        options = data.get("options")
        if isinstance(options, dict):
            _copy_params(options, _OLLAMA_OPTIONS, attrs)
            _set_stop(options.get("stop"), attrs)
        if data.get("format"):
            attrs[sc.GEN_AI_OUTPUT_TYPE] = "json"
    messages = _messages(route, data)
    info.prompt_chars = sum(len(m["content"]) for m in messages)
    if capture_content:
        info.input_messages = messages
    return info


def _copy_params(source: dict[str, Any], table: tuple[Any, ...], attrs: dict[str, Any]) -> None:
    for key, attribute, kind in table:
        value = source.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            attrs[attribute] = kind(value)


def _set_stop(stop: object, attrs: dict[str, Any]) -> None:
    if isinstance(stop, str):
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stop)


def _messages(route: Route, data: dict[str, Any]) -> list[dict[str, str]]:
    """The prompt as role/content pairs, whatever the API calls it."""
    found: list[dict[str, str]] = []
    if route.body == BODY_OLLAMA and route.content_field == "response":
        if isinstance(data.get("system"), str):
            found.append({"role": "system", "content": data["system"]})
        if isinstance(data.get("prompt"), str):
            found.append({"role": "user", "content": data["prompt"]})
        return found
    messages = data.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                content = message.get("content")
                role = message.get("role")
                found.append(
                    {
                        "role": role if isinstance(role, str) else "user",
                        "content": content if isinstance(content, str) else "",
                    }
                )
        return found
    # Embedding inputs: "input" (string or list) or the legacy "prompt".
    value = data.get("input", data.get("prompt"))
    if isinstance(value, str):
        found.append({"role": "user", "content": value})
    elif isinstance(value, list):
        found.extend({"role": "user", "content": v} for v in value if isinstance(v, str))
    return found
