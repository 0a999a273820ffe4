"""What the end-to-end tests share: sending tasks, reading spans, running the traffic script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx

from otel_taskmaster import semconv as sc
from tests.e2e.processes import ROOT, AppProcess
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan

TRAFFIC = ROOT / "examples" / "traffic.py"
# In every prompt, so any leak of prompt text into telemetry or logs shows.
SECRET = "ZEBRA-QUARTZ-7f3a9c"
OUR_SCOPE = "otel_taskmaster.instrumentation.ollama"
SEED_LOG_FIELDS = {
    "timestamp",
    "level",
    "service",
    "message",
    "request_id",
    "prompt_length",
    "response_length",
    "latency_ms",
    "tokens_in",
    "tokens_out",
    "event_type",
}

LaunchApp = Callable[[dict[str, str]], AppProcess]


def post_task(app: AppProcess, prompt: str, stream: bool = False) -> dict[str, Any]:
    """Sends one task; returns the JSON answer (streamed: the final line plus the joined text)."""
    with httpx.Client(base_url=app.url, timeout=60) as client:
        if not stream:
            response = client.post("/v1/tasks", json={"prompt": prompt})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body
        with client.stream("POST", "/v1/tasks", json={"prompt": prompt, "stream": True}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("application/x-ndjson")
            lines = [json.loads(line) for line in r.iter_lines() if line.strip()]
    assert len(lines) >= 2 and all("delta" in line for line in lines[:-1]), lines
    final: dict[str, Any] = lines[-1]
    assert final["done"] is True
    final["response"] = "".join(line["delta"] for line in lines[:-1])
    return final


def our_genai_spans(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [s for s in spans if s.scope == OUR_SCOPE]


def is_llm_call_span(span: ReceivedSpan) -> bool:
    """A span for one Ollama call, from our instrumentor or any other GenAI instrumentation."""
    operation = span.attributes.get(sc.GEN_AI_OPERATION_NAME)
    llm_operations = (sc.OPERATION_CHAT, sc.OPERATION_TEXT_COMPLETION, sc.OPERATION_EMBEDDINGS)
    return operation in llm_operations or span.name.startswith("ollama.")


def spans_of(count: int, scope: str = OUR_SCOPE) -> Callable[[OtlpReceiver], list[ReceivedSpan]]:
    """A ``wait_for`` predicate: the spans of ``scope`` once there are ``count`` of them."""

    def predicate(receiver: OtlpReceiver) -> list[ReceivedSpan]:
        found = [s for s in receiver.spans() if s.scope == scope]
        return found if len(found) >= count else []

    return predicate


def metrics_text_or_empty(app: AppProcess) -> str:
    """The pull endpoint's text, or "" when nothing listens (the SDK may skip starting it)."""
    try:
        return httpx.get(app.metrics_url, timeout=5).text
    except httpx.ConnectError:
        return ""


def run_traffic(app: AppProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(TRAFFIC), "--url", app.url, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def export_report_lines(app: AppProcess) -> list[str]:
    """stderr records (JSON or plain) that report an OTLP export problem."""
    found = []
    for line in app.stderr().splitlines():
        text = line
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event_type") == "request":
                continue
            text = str(record.get("message", ""))
        elif line.startswith((" ", "Traceback")):
            continue  # continuation of a plain-text traceback
        if "export" in text.lower():
            found.append(text)
    return found
