"""taskmaster_model_loaded comes from a live probe of Ollama, cached between probes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_taskmaster.health import model_probe
from otel_taskmaster.health.model_probe import ModelProbe
from tests.support.net import free_port
from tests.support.ollama_server import clear_faults, get_stats, running_simulator, set_faults


def _gauge(reader: InMemoryMetricReader) -> list[tuple[dict[str, object], float]]:
    data = reader.get_metrics_data()
    return [
        (dict(point.attributes or {}), point.value)
        for rm in (data.resource_metrics if data else [])
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == "taskmaster_model_loaded"
        for point in metric.data.data_points
    ]


def test_model_is_up_when_ollama_serves_it_and_down_when_unloaded() -> None:
    with running_simulator() as url:
        probe = ModelProbe(url, "llama3.2", interval=60)
        assert probe.probe_once() == 1
        set_faults(url, unloaded="*")
        assert probe.probe_once() == 0
        clear_faults(url)
        assert probe.probe_once() == 1


def test_unknown_model_is_down() -> None:
    with running_simulator() as url:
        assert ModelProbe(url, "no-such-model", interval=60).probe_once() == 0


def test_unreachable_ollama_is_down_without_raising() -> None:
    probe = ModelProbe(f"http://127.0.0.1:{free_port()}", "llama3.2", interval=60, timeout=0.5)
    assert probe.probe_once() == 0


def test_collection_reads_the_cached_value_and_never_calls_ollama() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    with running_simulator() as url:
        probe = ModelProbe(url, "llama3.2", interval=60)
        probe.register(meter)
        assert _gauge(reader) == []  # no probe has finished yet: no made-up value
        probe.probe_once()
        before = get_stats(url)["requests"]
        for _ in range(5):
            assert _gauge(reader) == [({"model": "llama3.2"}, 1)]
        after = get_stats(url)["requests"]
        assert (after["/api/tags"], after["/api/ps"]) == (before["/api/tags"], before["/api/ps"])


def test_probes_share_one_http_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # A client per probe reloads the TLS trust store every interval: CPU for nothing.
    built: list[httpx.Client] = []
    real_client = httpx.Client

    def counting_client(*args: Any, **kwargs: Any) -> httpx.Client:
        client = real_client(*args, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(model_probe.httpx, "Client", counting_client)
    with running_simulator() as url:
        probe = ModelProbe(url, "llama3.2", interval=60)
        assert [probe.probe_once() for _ in range(3)] == [1, 1, 1]
        probe.stop()
    assert len(built) == 1
    assert built[0].is_closed
