"""No prompt or response text and no request headers in telemetry unless content capture is on."""

from __future__ import annotations

import json
import logging
from typing import Any

import ollama
import pytest

from tests.instrumentation.harness import Instrument, Telemetry

PROMPT = "Zanzibar-quokka-7731 is the password; write me a haiku"
SECRET = "sk-live-very-secret-4242"
HEADERS = {"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET, "Cookie": f"s={SECRET}"}


def _strings(telemetry: Telemetry, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every string our telemetry carries: span names, attribute and event values, logs."""
    found: list[str] = []
    for span in telemetry.spans():
        found.append(span.name)
        found.extend(str(v) for v in span.attributes.values())
        found.append(str(span.status.description))
        for event in span.events:
            found.append(event.name)
            found.extend(str(v) for v in (event.attributes or {}).values())
    for record in caplog.records:
        found.append(record.getMessage())
        found.extend(str(v) for v in vars(record).values())
    data = telemetry.reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for point in metric.data.data_points:
                    found.extend(str(v) for v in point.attributes.values())
    return found


def _chat(url: str, stream: bool) -> str:
    client = ollama.Client(host=url, headers=HEADERS)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
    result: Any = client.chat(model="llama3.2", messages=messages, stream=stream)
    if stream:
        return "".join(p.message.content or "" for p in result)
    return str(result.message.content)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_no_content_by_default_anywhere_in_spans_events_metrics_or_logs(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture, stream: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    telemetry = instrument(simulator)

    answer = _chat(simulator, stream)
    ollama.Client(host=simulator, headers=HEADERS).embed(model="all-minilm", input=PROMPT)

    strings = _strings(telemetry, caplog)
    assert len(telemetry.spans()) == 2
    assert any("Request completed" in s for s in strings)  # the logs were searched too
    assert len(answer) > 40
    for needle in (PROMPT, "Zanzibar", answer, answer[:40], SECRET, "Be brief."):
        assert not [s for s in strings if needle in s], needle
    (span, _) = telemetry.spans()
    assert "gen_ai.input.messages" not in span.attributes
    assert "gen_ai.output.messages" not in span.attributes
    assert span.attributes["taskmaster.request.prompt_chars"] == len(PROMPT) + len("Be brief.")


def test_request_headers_are_never_recorded_even_with_content_capture(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    telemetry = instrument(
        simulator, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    )

    _chat(simulator, stream=True)

    strings = _strings(telemetry, caplog)
    assert any(PROMPT in s for s in strings)  # capture is on...
    assert not [s for s in strings if SECRET in s]  # ...and still no credentials
    assert not [k for k in telemetry.spans()[0].attributes if "header" in k]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_content_capture_opt_in_records_semconv_messages(
    instrument: Instrument, simulator: str, stream: bool
) -> None:
    telemetry = instrument(
        simulator, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    )

    answer = _chat(simulator, stream)

    (span,) = telemetry.spans()
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]},
    ]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": answer}],
            "finish_reason": "stop",
        }
    ]


def test_content_capture_length_limit_cuts_text_and_keeps_valid_json(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(
        simulator,
        {
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
            "TASKMASTER_CAPTURE_CONTENT_MAX_LENGTH": "12",
        },
    )

    answer = _chat(simulator, stream=True)

    (span,) = telemetry.spans()
    inputs = json.loads(span.attributes["gen_ai.input.messages"])
    # 12 characters in all: "Be brief." (9) and the first 3 of the prompt.
    assert [m["parts"][0]["content"] for m in inputs] == ["Be brief.", PROMPT[:3]]
    outputs = json.loads(span.attributes["gen_ai.output.messages"])
    assert outputs[0]["parts"][0]["content"] == answer[:12]
    # Features still describe the whole answer, not the captured part.
    assert span.attributes["taskmaster.response.chars"] == len(answer)


def test_quality_off_skips_features_but_content_capture_still_works(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(
        simulator,
        {
            "TASKMASTER_QUALITY_ENABLED": "false",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        },
    )
    answer = ollama.Client(host=simulator).chat(
        model="llama3.2", messages=[{"role": "user", "content": "hi"}]
    )
    (span,) = telemetry.spans()
    attributes = dict(span.attributes or {})
    assert not [key for key in attributes if key.startswith("taskmaster.response.")]
    assert answer.message.content[:50] in str(attributes["gen_ai.output.messages"])
