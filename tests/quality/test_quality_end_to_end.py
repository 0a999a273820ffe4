"""End to end: real instrumented calls are scored, a baseline is fitted from a reference
period, and drift stays quiet on steady traffic and fires when answers degrade."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import ollama
import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from otel_taskmaster.config import Settings
from otel_taskmaster.drift import DriftMonitor, fit
from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
from otel_taskmaster.quality import QualityScorer, QualitySpanProcessor
from tests.support.ollama_server import set_faults

PROMPTS = (
    "Plan the quarterly budget review",
    "Draft an agenda for the launch meeting",
    "List the steps to onboard a new engineer",
    "Summarize the open risks for the migration",
    "Schedule the vendor contract renewal",
)


class Recorder:
    """Stands in for the drift monitor during the reference period: keeps what it is fed."""

    def __init__(self) -> None:
        self.observed: list[tuple[str, str, float]] = []

    def observe(
        self, metric: str, model: str, value: float, span_context: SpanContext | None
    ) -> None:
        self.observed.append((metric, model, value))


class Instrumented:
    """The instrumentor and a quality processor on fresh providers; Prometheus exposition."""

    def __init__(self, url: str, make_drift: Callable[[MeterProvider], Any]) -> None:
        self.registry = CollectorRegistry()
        self.meter_provider = MeterProvider(
            metric_readers=[
                PrometheusMetricReader(disable_target_info=True, registry=self.registry)
            ]
        )
        drift = make_drift(self.meter_provider)
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.tracer_provider.add_span_processor(
            QualitySpanProcessor(
                QualityScorer(),
                meter_provider=self.meter_provider,
                tracer_provider=self.tracer_provider,
                drift_monitor=drift,
            )
        )
        self.instrumentor = OllamaInstrumentor()
        self.instrumentor.instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            settings=Settings.from_env({"OLLAMA_HOST": url}),
        )
        self.client = ollama.Client(host=url)

    def chat(self, calls: int) -> None:
        # The same 50 prompts over and over: every period sees the same answer distribution.
        for i in range(calls):
            prompt = f"{PROMPTS[i % len(PROMPTS)]} (team {i % 10})"
            self.client.chat(model="llama3.2", messages=[{"role": "user", "content": prompt}])

    def exposed(self, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Samples of ``name`` on the Prometheus endpoint, by label set (no scope labels)."""
        found = {}
        for family in text_string_to_metric_families(generate_latest(self.registry).decode()):
            for sample in family.samples:
                if sample.name == name:
                    labels = tuple(
                        sorted(
                            (k, v) for k, v in sample.labels.items() if not k.startswith("otel_")
                        )
                    )
                    found[labels] = sample.value
        return found

    def close(self) -> None:
        self.instrumentor.uninstrument()


def _status(instrumented: Instrumented) -> dict[str, float]:
    return {
        dict(labels)["metric"]: value
        for labels, value in instrumented.exposed("taskmaster_drift_status").items()
    }


def test_steady_traffic_stays_quiet_and_repetition_loops_fire_drift(
    simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Reference period: score real answers, fit the baseline from them.
    recorder = Recorder()
    reference = Instrumented(simulator, lambda _: recorder)
    try:
        reference.chat(50)  # warm-up: connections, imports
        recorder.observed.clear()
        reference.chat(300)
    finally:
        reference.close()
    assert len({metric for metric, _, _ in recorder.observed}) == 9
    baseline = fit(recorder.observed)

    # Production: the same traffic is steady, then the model falls into repetition loops.
    live = Instrumented(simulator, lambda provider: DriftMonitor(provider.get_meter("d"), baseline))
    try:
        live.chat(400)
        steady = _status(live)
        quality = live.exposed("taskmaster_quality_score")

        set_faults(simulator, repetition=1.0)
        with caplog.at_level(logging.WARNING, logger="otel_taskmaster.drift"):
            live.chat(150)
        degraded = _status(live)
    finally:
        live.close()

    # Wall-clock latency on a shared 2-core machine is not stationary; everything read from
    # the answers is.
    steady.pop("latency_seconds")
    assert len(steady) == 8 and set(steady.values()) == {0.0}, steady
    assert {dict(labels)["dimension"] for labels in quality} == {
        "length_score",
        "latency_score",
        "format_score",
        "coherence_score",
        "overall_quality",
    }
    assert degraded["coherence_score"] == 2.0
    assert degraded["overall_quality"] == 2.0
    drift_records = [r for r in caplog.records if r.name == "otel_taskmaster.drift"]
    assert drift_records, "a drift warning log event"
    assert all(getattr(r, "event_type", None) == "drift" for r in drift_records)


@pytest.mark.parametrize(
    ("fault", "check", "dimension"),
    [
        ({"truncate": 1.0}, "truncated", None),
        ({"refusal": 1.0}, "refusal", None),
        ({"repetition": 1.0}, None, "coherence_score"),
    ],
)
def test_simulator_faults_show_in_the_scores_of_real_calls(
    simulator: str, fault: dict[str, float], check: str | None, dimension: str | None
) -> None:
    clean = Instrumented(simulator, lambda _: None)
    try:
        clean.chat(5)
        set_faults(simulator, **fault)
        clean.chat(5)
    finally:
        clean.close()
    evaluations = [s for s in clean.spans.get_finished_spans() if s.name.startswith("evaluate ")]
    assert len(evaluations) == 10
    before, after = evaluations[:5], evaluations[5:]
    if check is not None:
        key = f"taskmaster.quality.check.{check}"
        assert [s.attributes[key] for s in before] == [False] * 5  # type: ignore[index]
        assert [s.attributes[key] for s in after] == [True] * 5  # type: ignore[index]
    if dimension is not None:
        key = f"taskmaster.quality.{dimension}"
        assert min(s.attributes[key] for s in before) > max(  # type: ignore[index,type-var]
            s.attributes[key]
            for s in after  # type: ignore[index]
        )
    overall = "taskmaster.quality.overall_quality"
    assert max(s.attributes[overall] for s in after) < min(  # type: ignore[index,type-var]
        s.attributes[overall]
        for s in before  # type: ignore[index]
    )
