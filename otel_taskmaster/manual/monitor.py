"""The seed's ``monitor_request(endpoint)`` decorator, rebuilt on OpenTelemetry.

It opens a span for the app's own operation and records the seed's request metrics and
"Request completed" log line for it. LLM calls made inside it are still traced by the
instrumentor, but count toward this request instead of being counted a second time.
"""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_taskmaster import semconv as sc
from otel_taskmaster.instrumentation.ollama.instruments import Instruments
from otel_taskmaster.logs.request_log import log_request
from otel_taskmaster.manual.scope import RequestScope, current_scope
from otel_taskmaster.version import __version__

SCOPE_NAME = "otel_taskmaster.manual"
_F = TypeVar("_F", bound=Callable[..., Any])
# provider id -> (provider, what we made for it); keeping the provider keeps its id unique.
_instruments: dict[int, tuple[metrics.MeterProvider, Instruments]] = {}
_tracers: dict[int, tuple[trace.TracerProvider, trace.Tracer]] = {}


def _instruments_for(provider: metrics.MeterProvider) -> Instruments:
    # One set per provider, created on first use so a provider installed after import wins.
    found = _instruments.get(id(provider))
    if found is None:
        meter = provider.get_meter("otel_taskmaster.instrumentation.ollama", __version__)
        found = _instruments[id(provider)] = (provider, Instruments.for_meter(meter))
    return found[1]


def _tracer_for(provider: trace.TracerProvider) -> trace.Tracer:
    # Made once per provider rather than on every request.
    found = _tracers.get(id(provider))
    if found is None:
        found = _tracers[id(provider)] = (provider, provider.get_tracer(SCOPE_NAME, __version__))
    return found[1]


def monitor_request(endpoint: str) -> Callable[[_F], _F]:
    """Decorates a request handler (sync or async) with a span, the seed's metrics and a log.

    ``request_id`` is taken from the handler's keyword argument of that name when given.

    >>> @monitor_request("generate")
    ... def generate(prompt: str) -> str:
    ...     return prompt.upper()
    >>> generate("hi")
    'HI'
    """

    def decorator(func: _F) -> _F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with _Monitored(endpoint, kwargs) as monitored:
                    result = await func(*args, **kwargs)
                    monitored.result = result
                    return result

            return cast(_F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Monitored(endpoint, kwargs) as monitored:
                result = func(*args, **kwargs)
                monitored.result = result
                return result

        return cast(_F, wrapper)

    return decorator


class _Monitored:
    """Context manager doing the work of one monitored call."""

    def __init__(self, endpoint: str, kwargs: dict[str, Any]) -> None:
        request_id = kwargs.get("request_id")
        self.scope = RequestScope(
            endpoint=endpoint,
            request_id=str(request_id) if request_id else uuid.uuid4().hex,
        )
        self.result: Any = None

    def __enter__(self) -> _Monitored:
        tracer = _tracer_for(trace.get_tracer_provider())
        self._span = tracer.start_span(
            self.scope.endpoint,
            kind=SpanKind.INTERNAL,
            attributes={
                sc.TASKMASTER_ENDPOINT: self.scope.endpoint,
                sc.TASKMASTER_REQUEST_ID: self.scope.request_id,
            },
        )
        self._span_cm = trace.use_span(self._span, end_on_exit=False)
        self._span_cm.__enter__()
        self._scope_token = current_scope.set(self.scope)
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        scope = self.scope
        scope.open = False
        current_scope.reset(self._scope_token)
        try:
            latency = time.perf_counter() - self._start
            error_type = None if exc_type is None else exc_type.__qualname__
            inst = _instruments_for(metrics.get_meter_provider())
            status = sc.STATUS_SUCCESS if error_type is None else sc.STATUS_ERROR
            inst.count_request(scope.endpoint, status)
            inst.request_latency.record(latency, {sc.LABEL_ENDPOINT: scope.endpoint})
            if error_type is not None:
                self._span.set_attribute(sc.ERROR_TYPE, error_type)
                self._span.set_status(Status(StatusCode.ERROR, error_type))
            log_request(
                request_id=scope.request_id,
                endpoint=scope.endpoint,
                model=scope.model,
                prompt_length=scope.prompt_chars,
                response_length=scope.response_chars or _length(self.result),
                latency_ms=latency * 1000.0,
                tokens_in=scope.tokens_in,
                tokens_out=scope.tokens_out,
                error_type=error_type,
            )
        finally:
            self._span_cm.__exit__(exc_type, exc, tb)
            self._span.end()


def _length(result: Any) -> int:
    if isinstance(result, str):
        return len(result)
    content = getattr(result, "content", None)
    return len(content) if isinstance(content, str) else 0
