"""Builds the quality span processor (and its drift monitor) from settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from opentelemetry import metrics

from otel_taskmaster.config import Settings
from otel_taskmaster.version import __version__

if TYPE_CHECKING:
    from otel_taskmaster.quality import QualitySpanProcessor

_logger = logging.getLogger(__name__)


def build_quality_processor(settings: Settings) -> QualitySpanProcessor:
    """The processor the configurator installs; imported only when quality is on.

    A bad config or baseline file is reported with its file and field, and the defaults are
    used instead: a typo in a tuning file must not take away scoring altogether.
    """
    from otel_taskmaster.drift import Baseline, BaselineError, DriftMonitor
    from otel_taskmaster.quality import QualityConfig, QualityScorer, QualitySpanProcessor
    from otel_taskmaster.quality.settings import QualityConfigError

    config = QualityConfig()
    if settings.quality_config_path:
        try:
            config = QualityConfig.load(settings.quality_config_path)
        except (OSError, QualityConfigError) as exc:
            _logger.error("otel-taskmaster: %s; using the default quality config", exc)
    monitor = None
    if settings.drift_enabled:
        baseline = Baseline.default()
        if settings.drift_baseline_path:
            try:
                baseline = Baseline.load(settings.drift_baseline_path)
            except (OSError, BaselineError) as exc:
                _logger.error("otel-taskmaster: %s; using the default drift baseline", exc)
        meter = metrics.get_meter("otel_taskmaster.drift", __version__)
        monitor = DriftMonitor(meter, baseline, max_models=settings.max_models)
    return QualitySpanProcessor(
        QualityScorer(config),
        drift_monitor=monitor,
        max_models=settings.max_models,
        evaluation_events=settings.evaluation_events,
    )
