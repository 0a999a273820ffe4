"""Per-test OpenTelemetry providers and an instrumentor that is always uninstrumented after."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from otel_taskmaster.config import Settings
from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
from tests.instrumentation.harness import Instrument, Telemetry, make_providers
from tests.support.ollama_server import running_replay, running_simulator


@pytest.fixture
def instrument() -> Iterator[Instrument]:
    """``instrument(url, env)``: instruments for the Ollama at ``url`` with ``env`` settings."""
    instrumentor = OllamaInstrumentor()

    def _instrument(url: str | None = None, env: Mapping[str, str] | None = None) -> Telemetry:
        environ = dict(env or {})
        if url is not None:
            environ.setdefault("OLLAMA_HOST", url)
        settings = Settings.from_env(environ)
        exporter, tracer_provider, reader, meter_provider = make_providers()
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, settings=settings
        )
        return Telemetry(exporter, reader, tracer_provider, meter_provider, settings)

    yield _instrument
    instrumentor.uninstrument()


@pytest.fixture
def simulator() -> Iterator[str]:
    """A fresh simulator (no sleeps) on a free loopback port."""
    with running_simulator() as url:
        yield url


@pytest.fixture
def replay() -> Iterator[str]:
    """A replay server for every shared recording."""
    with running_replay() as url:
        yield url
