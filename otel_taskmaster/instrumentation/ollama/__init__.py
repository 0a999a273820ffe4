"""Auto-instrumentation for Ollama API traffic, whichever client sends it.

Usage::

    from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor

    OllamaInstrumentor().instrument(tracer_provider=..., meter_provider=...)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import httpx
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.metrics import get_meter
from opentelemetry.trace import get_tracer
from wrapt import wrap_function_wrapper

from otel_taskmaster.config import Settings
from otel_taskmaster.instrumentation.ollama.hooks import default_ending_hook
from otel_taskmaster.instrumentation.ollama.instruments import Instruments
from otel_taskmaster.instrumentation.ollama.invocation import CallTelemetry
from otel_taskmaster.instrumentation.ollama.package import _instruments
from otel_taskmaster.instrumentation.ollama.wrappers import (
    make_async_send_wrapper,
    make_send_wrapper,
)
from otel_taskmaster.version import __version__

SCOPE_NAME = "otel_taskmaster.instrumentation.ollama"

__all__ = ["OllamaInstrumentor"]


class OllamaInstrumentor(BaseInstrumentor):
    """One GenAI CLIENT span (plus metrics and a request log) per Ollama API call.

    Keyword arguments to ``instrument()``: ``tracer_provider``, ``meter_provider``,
    ``settings`` (a :class:`~otel_taskmaster.config.Settings`; default: read from the
    environment once, now) and ``ending_hook`` (called with each call's span and duration
    just before the span ends, e.g. ``QualitySpanProcessor.score_ending``; default: the one
    the configurator set, for an instrumentor on the global tracer provider; see
    ``hooks.py``).
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        settings = kwargs.get("settings") or Settings.from_env()
        if settings.sdk_disabled:
            return
        tracer_provider = kwargs.get("tracer_provider")
        tracer = get_tracer(
            SCOPE_NAME,
            __version__,
            tracer_provider=tracer_provider,
            schema_url="https://opentelemetry.io/schemas/1.37.0",
        )
        meter = get_meter(SCOPE_NAME, __version__, meter_provider=kwargs.get("meter_provider"))
        ending_hook = kwargs.get(
            "ending_hook", default_ending_hook() if tracer_provider is None else None
        )
        telemetry = CallTelemetry(tracer, Instruments.for_meter(meter), settings, ending_hook)
        wrap_function_wrapper(httpx.Client, "send", make_send_wrapper(telemetry))
        wrap_function_wrapper(httpx.AsyncClient, "send", make_async_send_wrapper(telemetry))

    def _uninstrument(self, **kwargs: Any) -> None:
        unwrap(httpx.Client, "send")
        unwrap(httpx.AsyncClient, "send")
