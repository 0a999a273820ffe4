"""Reading request bodies and fields the way Ollama's Go server does."""

from __future__ import annotations

import json
from typing import Any

from otel_taskmaster.simulator.responses import dumps


class BadRequest(Exception):
    """A request Ollama would refuse; the server answers ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_json(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``, or a 400 worded like Ollama's."""
    if not body.strip():
        raise BadRequest(400, "missing request body")
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(400, go_json_error(body, exc)) from None
    if not isinstance(value, dict):
        raise BadRequest(400, f"json: cannot unmarshal {type(value).__name__} into Go value")
    return value


def go_json_error(body: bytes, exc: Exception) -> str:
    """Go's ``encoding/json`` wording for the common syntax errors."""
    pos = getattr(exc, "pos", None)
    text = body.decode("utf-8", "replace")
    if pos is None or pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    return f"invalid character {text[pos]!r} looking for beginning of value"


def content(value: Any) -> str:
    """A message's text, from a string or OpenAI content parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # OpenAI content parts
        return " ".join(str(p.get("text", "")) for p in value if isinstance(p, dict))
    return ""


def int_option(value: Any, name: str) -> int | None:
    """An integer request field, or a 400 naming it."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(400, f"invalid {name}: {value!r}") from None


def keep_alive_seconds(value: Any) -> float:
    """Ollama's ``keep_alive``: seconds, or a Go duration such as ``5m``; default 5 minutes.

    Negative means "keep loaded forever"; anything past ten years is ten years.
    """
    if value is None or value == "" or isinstance(value, bool):
        return _DEFAULT_KEEP_ALIVE
    if isinstance(value, int | float):
        return _clamp(float(value))
    text = str(value).strip()
    scale = 1.0
    for suffix, unit in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], unit
            break
    try:
        return _clamp(float(text) * scale)
    except ValueError:
        return _DEFAULT_KEEP_ALIVE


_DEFAULT_KEEP_ALIVE = 300.0
_FOREVER = 10 * 365 * 86400.0


def _clamp(seconds: float) -> float:
    if seconds != seconds:  # NaN
        return _DEFAULT_KEEP_ALIVE
    return _FOREVER if seconds < 0 else min(seconds, _FOREVER)


def tool_calls_for(tools: Any, prompt: str, openai: bool) -> list[dict[str, Any]] | None:
    """Calls the first tool, filling its required arguments from the prompt."""
    if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
        return None
    function = tools[0].get("function") or {}
    name = function.get("name")
    if not name:
        return None
    params = (function.get("parameters") or {}).get("properties") or {}
    # Proper nouns make plausible arguments ("weather in Paris" -> "Paris").
    words = [
        w.strip(".,!?;:'\"") for i, w in enumerate(prompt.split()) if i > 0 and w[:1].isupper()
    ] or ["value"]
    arguments: dict[str, Any] = {}
    for key, spec in params.items():
        kind = (spec or {}).get("type") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and spec.get("enum"):
            arguments[key] = spec["enum"][0]
        elif kind in ("integer", "number"):
            arguments[key] = 1
        elif kind == "boolean":
            arguments[key] = True
        else:
            arguments[key] = words[len(arguments) % len(words)]
    if openai:
        call = {
            "id": "call_sim0",
            "index": 0,
            "type": "function",
            "function": {"name": name, "arguments": dumps(arguments).decode()},
        }
        return [call]
    return [{"function": {"name": name, "arguments": arguments}}]
