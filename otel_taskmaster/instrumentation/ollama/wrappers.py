"""``httpx.Client.send`` / ``httpx.AsyncClient.send`` wrappers.

Every httpx transport (LiteLLM's aiohttp one included) goes through ``send``, so patching it
sees every Ollama call whichever library makes it. Anything that is not an Ollama API call
passes straight through after one dict lookup. Our errors are counted and swallowed; the
app's exceptions are re-raised unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.instrumentation.utils import (
    is_instrumentation_enabled,
    suppress_http_instrumentation,
)

from otel_taskmaster.instrumentation.ollama.invocation import CallTelemetry, LLMCall

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _start(
    telemetry: CallTelemetry, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> LLMCall | None:
    request = args[0] if args else kwargs.get("request")
    try:
        route = telemetry.matcher.match(request)  # type: ignore[arg-type]
        if route is None or not is_instrumentation_enabled():
            return None
        return telemetry.start(route, request)  # type: ignore[arg-type]
    except Exception:
        telemetry.internal_error("start")
        return None


def _after(telemetry: CallTelemetry, call: LLMCall, response: Any, streamed: bool) -> None:
    try:
        call.on_response(response, streamed)
    except Exception:
        telemetry.internal_error("response")
        call.give_up()


def make_send_wrapper(telemetry: CallTelemetry) -> Wrapper:
    suppress_http = telemetry.settings.suppress_http_spans

    def send(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _start(telemetry, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            if suppress_http:
                with suppress_http_instrumentation():
                    response = wrapped(*args, **kwargs)
            else:
                response = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            otel_context.detach(token)
        _after(telemetry, call, response, bool(kwargs.get("stream", False)))
        return response

    return send


def make_async_send_wrapper(telemetry: CallTelemetry) -> Wrapper:
    suppress_http = telemetry.settings.suppress_http_spans

    async def send(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _start(telemetry, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(call.context)
        try:
            if suppress_http:
                with suppress_http_instrumentation():
                    response = await wrapped(*args, **kwargs)
            else:
                response = await wrapped(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            otel_context.detach(token)
        _after(telemetry, call, response, bool(kwargs.get("stream", False)))
        return response

    return send
