"""Response quality: numeric features, the scorer, its config and the span processor."""

from __future__ import annotations

from otel_taskmaster.quality.features import ResponseFeatures
from otel_taskmaster.quality.processor import QualitySpanProcessor
from otel_taskmaster.quality.scorer import QualityScorer, Scores
from otel_taskmaster.quality.settings import QualityConfig, QualityConfigError

__all__ = [
    "QualityConfig",
    "QualityConfigError",
    "QualityScorer",
    "QualitySpanProcessor",
    "ResponseFeatures",
    "Scores",
]
