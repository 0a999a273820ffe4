"""The span attributes a call should produce, built from what the app itself received.

Expectations come from the response objects the real clients hand to the app (or from the
cassette, parsed with the standard library), never from the instrumentor's own parser.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import yaml

from otel_taskmaster.quality.features import text_features
from tests.support.ollama_server import RECORDINGS_DIR as RECORDINGS

NS = 1e-9
TTFT = "gen_ai.response.time_to_first_chunk"


def server(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {"server.address": parts.hostname, "server.port": parts.port}


def request_attrs(
    url: str, path: str, operation: str, model: str, stream: bool, prompt_chars: int | None
) -> dict[str, Any]:
    """The attributes known when the request starts."""
    attrs = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "ollama",
        **server(url),
        "ollama.api.path": path,
        "gen_ai.request.stream": stream,
        "gen_ai.request.model": model,
    }
    if prompt_chars is not None:
        attrs["taskmaster.request.prompt_chars"] = prompt_chars
    return attrs


def final_attrs(final: dict[str, Any], text: str | None) -> dict[str, Any]:
    """From Ollama's closing ``done`` object (a dict with the ns durations) and the answer."""
    attrs: dict[str, Any] = {
        "gen_ai.response.model": final["model"],
        "gen_ai.response.finish_reasons": (final["done_reason"],),
        "gen_ai.usage.output_tokens": final["eval_count"],
        "ollama.total_duration": final["total_duration"] * NS,
        "ollama.load_duration": final["load_duration"] * NS,
        "ollama.prompt_eval_duration": final["prompt_eval_duration"] * NS,
        "ollama.eval_duration": final["eval_duration"] * NS,
        "ollama.time_per_output_token": final["eval_duration"] * NS / final["eval_count"],
    }
    # Ollama leaves prompt_eval_count out when the whole prompt came from its cache.
    if final.get("prompt_eval_count") is not None:
        attrs["gen_ai.usage.input_tokens"] = final["prompt_eval_count"]
    if text is not None:
        attrs.update(text_features(text))
    return attrs


def without_ttft(attributes: Any) -> dict[str, Any]:
    """The attributes minus the wall-clock time to first chunk (checked separately)."""
    attrs = dict(attributes)
    attrs.pop(TTFT, None)
    return attrs


def approx_equal(actual: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Equal keys; float values equal to 1e-9 relative (ns -> s conversions round)."""
    if actual.keys() != expected.keys():
        return False
    for key, value in expected.items():
        got = actual[key]
        if isinstance(value, float) and isinstance(got, float):
            if abs(got - value) > 1e-9 * max(1.0, abs(value)):
                return False
        elif got != value:
            return False
    return True


def diff(actual: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """For assertion messages: keys whose values differ, and keys only on one side."""
    keys = actual.keys() | expected.keys()
    return {
        k: (actual.get(k), expected.get(k))
        for k in sorted(keys)
        if actual.get(k) != expected.get(k)
    }


# --- cassettes ------------------------------------------------------------------------------


def cassette(name: str) -> tuple[dict[str, Any], int, str, bytes]:
    """(request JSON, status, path, response body) of a cassette's first interaction."""
    data = yaml.safe_load((RECORDINGS / f"{name}.yaml").read_text(encoding="utf-8"))
    interaction = data["interactions"][0]
    request = json.loads(interaction["request"]["body"])
    body = interaction["response"]["body"]["string"]
    path = urlsplit(interaction["request"]["uri"]).path
    status = interaction["response"]["status"]["code"]
    return request, status, path, body.encode() if isinstance(body, str) else bytes(body)


def ndjson(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]
