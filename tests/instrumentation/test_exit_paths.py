"""Every way a call can end: the span ends exactly once and the app sees what it sees without us.

Each scenario runs twice against the same server, first uninstrumented, then instrumented, and
the app-visible outcome (values or exception type and message) must be identical.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import ollama
import orjson
import pytest

from otel_taskmaster.instrumentation.ollama import invocation
from otel_taskmaster.quality.features import text_features
from tests.instrumentation.expect import diff, request_attrs, without_ttft
from tests.instrumentation.harness import BytesPlan, Instrument, Telemetry, serving_bytes
from tests.support.net import free_port
from tests.support.ollama_server import CHUNKS_HEADER, running_simulator

MESSAGES = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]
PROMPT_CHARS = len(MESSAGES[0]["content"])
Outcome = tuple[Any, ...]


def outcome(scenario: Callable[[], Any]) -> Outcome:
    try:
        return ("returned", scenario())
    except Exception as exc:
        return ("raised", type(exc), str(exc))


async def aoutcome(scenario: Callable[[], Awaitable[Any]]) -> Outcome:
    try:
        return ("returned", await scenario())
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def same_outcome(instrument: Instrument, url: str, scenario: Callable[[], Any]) -> Telemetry:
    plain = outcome(scenario)
    telemetry = instrument(url)
    assert outcome(scenario) == plain
    return telemetry


async def same_async_outcome(
    instrument: Instrument, url: str, scenario: Callable[[], Awaitable[Any]]
) -> Telemetry:
    plain = await aoutcome(scenario)
    telemetry = instrument(url)
    assert await aoutcome(scenario) == plain
    return telemetry


def ended_once(telemetry: Telemetry, caplog: pytest.LogCaptureFixture) -> Any:
    """The one span; its call recorded one duration and one request, and nothing re-ended it."""
    (span,) = telemetry.spans()
    (duration,) = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    # Each endpoint also has its other status series, pre-created at 0.
    (requests,) = [p for p in telemetry.points("taskmaster_requests") if p.value]
    assert requests.value == 1
    assert "ended span" not in caplog.text
    return span


def pieces(parts: Any) -> list[str]:
    return [p.message.content for p in parts]


@pytest.fixture(autouse=True)
def _sdk_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="opentelemetry.sdk.trace")


def test_stream_consumed_to_the_end_is_complete(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    def scenario() -> list[str]:
        client = ollama.Client(host=simulator)
        return pieces(client.chat(model="llama3.2", messages=MESSAGES, stream=True))

    telemetry = same_outcome(instrument, simulator, scenario)

    span = ended_once(telemetry, caplog)
    assert span.status.status_code.name == "UNSET"
    assert "taskmaster.stream.abandoned" not in span.attributes
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_stream_break_ends_span_once_as_abandoned_with_partial_tokens(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[str] = []

    def scenario() -> list[str]:
        got.clear()
        for part in ollama.Client(host=simulator).chat(
            model="llama3.2", messages=MESSAGES, stream=True
        ):
            got.append(part.message.content)
            if len(got) == 3:
                break
        gc.collect()  # the client's generator closes its response when collected
        return list(got)

    telemetry = same_outcome(instrument, simulator, scenario)

    span = ended_once(telemetry, caplog)
    assert span.status.status_code.name == "UNSET"
    expected = {
        **request_attrs(simulator, "/api/chat", "chat", "llama3.2", True, PROMPT_CHARS),
        "gen_ai.response.model": "llama3.2",
        "gen_ai.usage.output_tokens": 3,
        "taskmaster.stream.abandoned": True,
        **text_features("".join(got)),
    }
    actual = without_ttft(span.attributes)
    assert actual == expected, diff(actual, expected)


def test_break_after_the_final_chunk_is_not_abandoned(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    def scenario() -> str | None:
        with (
            httpx.Client() as client,
            client.stream(
                "POST", f"{simulator}/api/chat", json={"model": "llama3.2", "messages": MESSAGES}
            ) as response,
        ):
            for line in response.iter_lines():
                if orjson.loads(line)["done"]:
                    return str(orjson.loads(line)["done_reason"])
        return None

    telemetry = same_outcome(instrument, simulator, scenario)

    span = ended_once(telemetry, caplog)
    assert "taskmaster.stream.abandoned" not in span.attributes
    assert span.status.status_code.name == "UNSET"


def test_explicit_close_ends_span_once_as_abandoned(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    def scenario() -> list[str]:
        with httpx.Client() as client:
            request = client.build_request(
                "POST", f"{simulator}/api/chat", json={"model": "llama3.2", "messages": MESSAGES}
            )
            response = client.send(request, stream=True)
            lines = response.iter_lines()
            got = [next(lines), next(lines)]
            response.close()
            return [orjson.loads(line)["message"]["content"] for line in got]

    telemetry = same_outcome(instrument, simulator, scenario)

    span = ended_once(telemetry, caplog)
    assert span.attributes["taskmaster.stream.abandoned"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 2
    assert span.status.status_code.name == "UNSET"


def test_stream_dropped_without_close_ends_span_on_garbage_collection(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument(simulator)
    client = httpx.Client()
    request = client.build_request(
        "POST", f"{simulator}/api/chat", json={"model": "llama3.2", "messages": MESSAGES}
    )
    response = client.send(request, stream=True)
    lines = response.iter_lines()
    next(lines)
    assert telemetry.spans() == ()

    del lines, response
    gc.collect()

    span = ended_once(telemetry, caplog)
    assert span.attributes["taskmaster.stream.abandoned"] is True
    client.close()


async def test_async_task_cancelled_mid_stream_ends_span_once(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    # Chunks every 50 ms, so the cancel lands while the app waits for the next one.
    with running_simulator({"slow_chunk": 0.05}) as url:

        async def scenario() -> tuple[str, list[str]]:
            got: list[str] = []

            async def consume() -> None:
                client = ollama.AsyncClient(host=url)
                stream = await client.chat(model="llama3.2", messages=MESSAGES, stream=True)
                async for part in stream:
                    got.append(part.message.content or "")

            task = asyncio.create_task(consume())
            while len(got) < 2 and not task.done():  # a failed stream must not hang us
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return "cancelled", got[:2]

        telemetry = await same_async_outcome(instrument, url, scenario)

    span = ended_once(telemetry, caplog)
    assert span.attributes["taskmaster.stream.abandoned"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] >= 2
    assert span.status.status_code.name == "UNSET"


def test_error_line_mid_stream_sets_error_and_keeps_partial_tokens(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[str] = []

    def scenario() -> None:
        got.clear()
        for part in ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES, stream=True):
            got.append(part.message.content)

    with running_simulator({"stream_errors": 1.0}) as url:
        telemetry = same_outcome(instrument, url, scenario)

    span = ended_once(telemetry, caplog)
    assert span.attributes["error.type"] == "ollama_error"
    assert span.status.status_code.name == "ERROR"
    assert span.status.description == (
        "an error was encountered while running the model: unexpected EOF"
    )
    assert span.attributes["gen_ai.usage.output_tokens"] == len(got) > 0
    assert "taskmaster.stream.abandoned" not in span.attributes


def test_server_disconnect_mid_stream_keeps_partial_tokens_and_sets_error_type(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[str] = []

    def scenario() -> None:
        got.clear()
        for part in ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES, stream=True):
            got.append(part.message.content)

    with running_simulator({"disconnect": 1.0}) as url:
        telemetry = same_outcome(instrument, url, scenario)

    span = ended_once(telemetry, caplog)
    assert span.attributes["error.type"] == "RemoteProtocolError"
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["gen_ai.usage.output_tokens"] == len(got) > 0
    assert span.attributes["taskmaster.response.chars"] == len("".join(got))


def test_disconnect_of_a_whole_body_call_is_an_error_without_response_model(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    with running_simulator({"disconnect": 1.0}) as url:
        telemetry = same_outcome(
            instrument,
            url,
            lambda: ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES),
        )

    span = ended_once(telemetry, caplog)
    assert span.attributes["error.type"] == "RemoteProtocolError"
    assert "gen_ai.response.model" not in span.attributes


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_server_500_is_an_error_span_with_the_status_code(
    instrument: Instrument, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def scenario() -> Any:
        result = ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES, stream=stream)
        return pieces(result) if stream else result.message.content

    with running_simulator({"errors": 1.0}) as url:
        telemetry = same_outcome(instrument, url, scenario)

    span = ended_once(telemetry, caplog)
    expected = {
        **request_attrs(url, "/api/chat", "chat", "llama3.2", stream, PROMPT_CHARS),
        "error.type": "500",
    }
    actual = without_ttft(span.attributes)
    assert actual == expected, diff(actual, expected)
    assert span.status.description == "llama runner process has terminated: signal: killed"


def test_unknown_model_404_is_an_error_span(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = same_outcome(
        instrument,
        simulator,
        lambda: ollama.Client(host=simulator).chat(model="nope", messages=MESSAGES),
    )

    span = ended_once(telemetry, caplog)
    assert span.name == "chat nope"
    assert dict(span.attributes) == {
        **request_attrs(simulator, "/api/chat", "chat", "nope", False, PROMPT_CHARS),
        "error.type": "404",
    }
    assert span.status.description == 'model "nope" not found, try pulling it first'


def test_connection_refused_is_an_error_span_and_the_same_exception(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    telemetry = same_outcome(
        instrument, url, lambda: ollama.Client(host=url).chat(model="m", messages=MESSAGES)
    )

    span = ended_once(telemetry, caplog)
    assert dict(span.attributes) == {
        **request_attrs(url, "/api/chat", "chat", "m", False, PROMPT_CHARS),
        "error.type": "ConnectError",
    }
    assert span.status.status_code.name == "ERROR"


def test_timeout_is_an_error_span_and_the_same_exception(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    with running_simulator({"slow": 0.5}) as url:
        telemetry = same_outcome(
            instrument,
            url,
            lambda: ollama.Client(host=url, timeout=0.1).chat(model="llama3.2", messages=MESSAGES),
        )

    span = ended_once(telemetry, caplog)
    assert dict(span.attributes) == {
        **request_attrs(url, "/api/chat", "chat", "llama3.2", False, PROMPT_CHARS),
        "error.type": "ReadTimeout",
    }


def _error_count(telemetry: Telemetry, component: str) -> int:
    return sum(
        p.value
        for p in telemetry.points("taskmaster_instrumentation_errors")
        if p.attributes == {"component": component}
    )


def test_malformed_json_line_is_counted_and_passed_to_the_app_untouched(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    chunks = [
        b'{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}\n',
        b"{this is not json\n",
        b'{"model":"m","message":{"role":"assistant","content":""},"done":true,'
        b'"done_reason":"stop","prompt_eval_count":3,"eval_count":2,"eval_duration":4000}\n',
    ]

    with serving_bytes(BytesPlan(chunks)) as url:

        def scenario() -> list[str]:
            with (
                httpx.Client() as client,
                client.stream(
                    "POST", f"{url}/api/chat", json={"model": "m", "messages": MESSAGES}
                ) as response,
            ):
                return list(response.iter_lines())

        telemetry = same_outcome(instrument, url, scenario)

    span = ended_once(telemetry, caplog)
    assert span.status.status_code.name == "UNSET"
    assert span.attributes["gen_ai.usage.output_tokens"] == 2
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert _error_count(telemetry, "malformed_body") == 1


def test_non_json_body_reaches_the_app_unchanged_and_is_counted(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    plan = BytesPlan([b"<html><body>bad gateway</body></html>"], 200, "text/html")

    with serving_bytes(plan) as url:
        telemetry = same_outcome(
            instrument, url, lambda: ollama.Client(host=url).chat(model="m", messages=MESSAGES)
        )

    span = ended_once(telemetry, caplog)
    assert span.attributes["error.type"] == "incomplete_response"
    assert _error_count(telemetry, "malformed_body") == 1


def test_huge_stream_beyond_keep_bytes_still_reads_the_final_chunk(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    final: dict[str, Any] = {}

    def scenario() -> int:
        count = 0
        for part in ollama.Client(host=simulator, headers={CHUNKS_HEADER: "45000"}).chat(
            model="llama3.2", messages=MESSAGES, stream=True
        ):
            count += 1
            if part.done:
                final.update(part.model_dump())
        return count

    telemetry = same_outcome(instrument, simulator, scenario)

    span = ended_once(telemetry, caplog)
    assert final["eval_count"] == 45000
    assert span.status.status_code.name == "UNSET"
    assert span.attributes["gen_ai.usage.output_tokens"] == 45000
    assert span.attributes["gen_ai.usage.input_tokens"] == final["prompt_eval_count"]
    assert span.attributes["gen_ai.response.finish_reasons"] == (final["done_reason"],)
    assert span.attributes["ollama.eval_duration"] == pytest.approx(final["eval_duration"] * 1e-9)


@pytest.mark.parametrize("tail_chunks", [1, 3])
def test_final_chunk_is_found_when_it_is_the_first_chunk_past_the_keep_limit(
    instrument: Instrument,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tail_chunks: int,
) -> None:
    # The keep limit falls so that only `tail_chunks` whole lines land in the tail.
    line = b'{"model":"m","message":{"role":"assistant","content":"word "},"done":false}\n'
    last = (
        b'{"model":"m","message":{"role":"assistant","content":""},"done":true,'
        b'"done_reason":"length","prompt_eval_count":5,"eval_count":9,"eval_duration":9000}\n'
    )
    chunks = [line] * 8 + [last]
    monkeypatch.setattr(invocation, "KEEP_BYTES", len(line) * (9 - tail_chunks))

    with serving_bytes(BytesPlan(chunks)) as url:
        telemetry = instrument(url)
        with (
            httpx.Client() as client,
            client.stream(
                "POST", f"{url}/api/chat", json={"model": "m", "messages": MESSAGES}
            ) as response,
        ):
            for _ in response.iter_raw():
                pass

    span = ended_once(telemetry, caplog)
    assert span.attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 9
    assert "error.type" not in span.attributes


async def test_async_break_and_collect_ends_span_once_as_abandoned(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> list[str]:
        got: list[str] = []
        stream = await ollama.AsyncClient(host=simulator).chat(
            model="llama3.2", messages=MESSAGES, stream=True
        )
        async for part in stream:
            got.append(part.message.content or "")
            if len(got) == 2:
                break
        await stream.aclose()  # what the event loop's async-generator finalizer would do
        return got

    telemetry = await same_async_outcome(instrument, simulator, scenario)

    span = ended_once(telemetry, caplog)
    assert span.attributes["taskmaster.stream.abandoned"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 2


async def test_async_response_dropped_without_close_ends_span_on_garbage_collection(
    instrument: Instrument, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument(simulator)
    client = httpx.AsyncClient()
    request = client.build_request(
        "POST", f"{simulator}/api/chat", json={"model": "llama3.2", "messages": MESSAGES}
    )
    response = await client.send(request, stream=True)
    lines = response.aiter_lines()
    await lines.__anext__()

    del lines, response
    gc.collect()
    # Collected async generators are closed by tasks the event loop schedules.
    for _ in range(5):
        await asyncio.sleep(0.01)
    gc.collect()

    span = ended_once(telemetry, caplog)
    assert span.attributes["taskmaster.stream.abandoned"] is True
    await client.aclose()


async def test_async_disconnect_mid_stream_keeps_partial_tokens(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[str] = []

    async def scenario() -> None:
        got.clear()
        stream = await ollama.AsyncClient(host=url).generate(
            model="llama3.2", prompt="hi", stream=True
        )
        async for part in stream:
            got.append(part.response)

    with running_simulator({"disconnect": 1.0}) as url:
        telemetry = await same_async_outcome(instrument, url, scenario)

    span = ended_once(telemetry, caplog)
    assert span.attributes["error.type"] == "RemoteProtocolError"
    assert span.attributes["gen_ai.usage.output_tokens"] == len(got) > 0


async def test_async_timeout_and_refused_are_error_spans(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    refused = f"http://127.0.0.1:{free_port()}"
    with running_simulator({"slow": 0.5}) as url:
        telemetry = instrument(url, {"TASKMASTER_OLLAMA_HOSTS": refused})
        with pytest.raises(httpx.ReadTimeout):
            await ollama.AsyncClient(host=url, timeout=0.1).chat(
                model="llama3.2", messages=MESSAGES
            )
        with pytest.raises(ConnectionError):
            await ollama.AsyncClient(host=refused).chat(model="llama3.2", messages=MESSAGES)

    assert [s.attributes["error.type"] for s in telemetry.spans()] == [
        "ReadTimeout",
        "ConnectError",
    ]


async def test_task_cancelled_before_the_answer_starts_is_an_error_span_once(
    instrument: Instrument, caplog: pytest.LogCaptureFixture
) -> None:
    # No answer was produced at all (unlike a stream left mid-way, which is "abandoned").
    with running_simulator({"slow": 0.5}) as url:
        telemetry = instrument(url)
        task = asyncio.create_task(
            ollama.AsyncClient(host=url).chat(model="llama3.2", messages=MESSAGES)
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    span = ended_once(telemetry, caplog)
    assert dict(span.attributes) == {
        **request_attrs(url, "/api/chat", "chat", "llama3.2", False, PROMPT_CHARS),
        "error.type": "CancelledError",
    }


def test_ollama_host_without_scheme_is_matched(instrument: Instrument, simulator: str) -> None:
    telemetry = instrument(None, {"OLLAMA_HOST": simulator.removeprefix("http://")})

    ollama.Client(host=simulator).generate(model="llama3.2", prompt="hi")

    (span,) = telemetry.spans()
    assert span.name == "text_completion llama3.2"
