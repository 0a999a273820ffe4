"""Drift detection on quality metrics: sequential change detectors, baselines, a monitor."""

from __future__ import annotations

from otel_taskmaster.drift.base import ChangeDetector
from otel_taskmaster.drift.baseline import Baseline, BaselineEntry, BaselineError, fit
from otel_taskmaster.drift.bernoulli_cusum import BernoulliCusum
from otel_taskmaster.drift.cusum import GaussianCusum
from otel_taskmaster.drift.detector import DriftAlert, DriftDetector
from otel_taskmaster.drift.detector_set import DetectorSet
from otel_taskmaster.drift.monitor import DriftMonitor
from otel_taskmaster.drift.scale_cusum import ScaleCusum
from otel_taskmaster.drift.tail_cusum import TailCusum

__all__ = [
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BernoulliCusum",
    "ChangeDetector",
    "DetectorSet",
    "DriftAlert",
    "DriftDetector",
    "DriftMonitor",
    "GaussianCusum",
    "ScaleCusum",
    "TailCusum",
    "fit",
]
