"""Builds the quality span processor (and its drift monitor) from settings."""

from __future__ import annotations

from opentelemetry import metrics
from opentelemetry.sdk.trace import SpanProcessor

from otel_taskmaster.config import Settings
from otel_taskmaster.version import __version__


def build_quality_processor(settings: Settings) -> SpanProcessor:
    """The processor the configurator installs; imported only when quality is on."""
    from otel_taskmaster.drift import Baseline, DriftMonitor
    from otel_taskmaster.quality import QualityConfig, QualityScorer, QualitySpanProcessor

    config = (
        QualityConfig.load(settings.quality_config_path)
        if settings.quality_config_path
        else QualityConfig()
    )
    monitor = None
    if settings.drift_enabled:
        baseline = (
            Baseline.load(settings.drift_baseline_path)
            if settings.drift_baseline_path
            else Baseline.default()
        )
        meter = metrics.get_meter("otel_taskmaster.drift", __version__)
        monitor = DriftMonitor(meter, baseline, max_models=settings.max_models)
    return QualitySpanProcessor(
        QualityScorer(config), drift_monitor=monitor, max_models=settings.max_models
    )
