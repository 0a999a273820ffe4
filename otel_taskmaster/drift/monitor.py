"""Feeds per-(metric, model) detectors and records drift as OTel metrics and log events.

- ``taskmaster_drift_status{metric,model}``: 0 ok, 1 warning, 2 critical (observable gauge);
- ``taskmaster_drift_statistic{metric,model}``: the furthest detector's statistic as a share
  of its critical threshold (1.0 = critical), for dashboards (observable gauge);
- ``taskmaster_drift_alerts_total{metric,model,severity}``: +1 each time a series' level
  rises (an episode usually counts a warning, then a critical);
- a WARNING record on the ``otel_taskmaster.drift`` logger with ``event_type="drift"`` and the
  seed's alert fields as ``extra``, emitted in the triggering span's context so an OTel log
  handler stamps it with that trace id.

Gauges are read at collection time, so an observation costs the detectors' arithmetic and
nothing from the metrics SDK. Levels latch and re-arm as described in
:mod:`otel_taskmaster.drift.base`: a critical series stays critical while the drift lasts and
returns to 0 once its detectors have forgotten the evidence, tens (mean) to a couple of hundred
(scale, rate) observations after the metric is back to its baseline. To accept a new normal
(a new model version), fit and load a new baseline and build a new monitor.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.trace import NonRecordingSpan, SpanContext

from otel_taskmaster import semconv
from otel_taskmaster.drift.base import SEVERITY_NAMES
from otel_taskmaster.drift.baseline import Baseline
from otel_taskmaster.drift.detector import deviation_percent
from otel_taskmaster.drift.detector_set import DEFAULT_MIN_STD, DEFAULT_WARMUP, DetectorSet
from otel_taskmaster.labels import BoundedLabels

LOGGER_NAME = "otel_taskmaster.drift"
UNKNOWN_MODEL = "unknown"

_logger = logging.getLogger(__name__)


class DriftMonitor:
    """One :class:`DetectorSet` per (metric, model), fed by the quality span processor.

    Parameters
    ----------
    meter
        Where the drift instruments are created.
    baseline
        Which metrics to watch and their in-control description; default
        :meth:`Baseline.default` (the seed's means, self-starting spreads). Metrics without
        an entry are ignored.
    logger
        Receives drift events; default the ``otel_taskmaster.drift`` logger.
    max_models
        Distinct models watched; observations for later models share the ``_other`` series.
    warmup, min_std
        Passed to each :class:`DetectorSet` (self-starting baselines, spread floor).
    """

    def __init__(
        self,
        meter: Meter,
        baseline: Baseline | None = None,
        logger: logging.Logger | None = None,
        max_models: int = 20,
        warmup: int = DEFAULT_WARMUP,
        min_std: float = DEFAULT_MIN_STD,
    ) -> None:
        if max_models < 1:
            raise ValueError(f"max_models must be at least 1, got {max_models}")
        self.baseline = Baseline.default() if baseline is None else baseline
        self.logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        self.max_models = max_models
        self.warmup = warmup
        self.min_std = min_std
        # Validate once here, so a bad value fails at start-up and not per observation.
        DetectorSet.validate(warmup, min_std)
        self._metrics = self.baseline.metrics
        self._models = BoundedLabels(max_models)
        self._series: dict[tuple[str, str], DetectorSet] = {}
        self._lock = threading.Lock()
        meter.create_observable_gauge(
            semconv.TASKMASTER_DRIFT_STATUS,
            callbacks=[self._observe_status],
            description="Drift level per metric and model: 0 ok, 1 warning, 2 critical.",
        )
        meter.create_observable_gauge(
            semconv.TASKMASTER_DRIFT_STATISTIC,
            callbacks=[self._observe_statistic],
            description="Drift detector statistic as a share of its critical threshold.",
        )
        self._alerts = meter.create_counter(
            semconv.TASKMASTER_DRIFT_ALERTS,
            unit=semconv.UNIT_ALERT,
            description="Drift alerts: a metric's drift level rose to warning or critical.",
        )

    def observe(
        self, metric: str, model: str, value: float, span_context: SpanContext | None = None
    ) -> None:
        """Feeds one observation; never raises (internal errors are logged at debug)."""
        try:
            series = self._series.get((metric, model))
            if series is None:
                if metric not in self._metrics:
                    return
                series = self._series_for(metric, model)
                if series is None:
                    return
            # The lock keeps a series' sums consistent when spans end on several threads.
            with self._lock:
                series.update(value)
                rose = series._rose
            if rose:
                self._alert(metric, series, rose, span_context)
        except Exception:
            _logger.debug("drift monitor: observe(%r, %r) failed", metric, model, exc_info=True)

    def state(self, metric: str, model: str) -> int:
        """The current level of a series (0 if it is not watched yet)."""
        series = self._series.get((metric, self._label(model, admit=False)))
        return 0 if series is None else series.state

    @property
    def series_count(self) -> int:
        return len(self._series)

    def _label(self, model: str, admit: bool) -> str:
        return self._models.get(model or UNKNOWN_MODEL, admit)

    def _series_for(self, metric: str, model: str) -> DetectorSet | None:
        with self._lock:
            label = self._label(model, admit=True)
            series = self._series.get((metric, label))
            if series is None:
                entry = self.baseline.entry(metric, label)
                if entry is None:
                    return None
                series = DetectorSet(entry, warmup=self.warmup, min_std=self.min_std)
                series.labels = {semconv.LABEL_METRIC: metric, semconv.LABEL_MODEL: label}
                self._series[(metric, label)] = series
                # Alert counters start at 0, so increase() and rate() see the first alert.
                for severity in SEVERITY_NAMES.values():
                    self._alerts.add(0, {**series.labels, semconv.LABEL_SEVERITY: severity})
        return series

    def _alert(
        self, metric: str, series: DetectorSet, rose: int, span_context: SpanContext | None
    ) -> None:
        severity = SEVERITY_NAMES[rose]
        labels = series.labels
        self._alerts.add(1, {**labels, semconv.LABEL_SEVERITY: severity})
        baseline = series.baseline_value
        current = series.current_value
        deviation = None
        if baseline is not None and current is not None:
            deviation = deviation_percent(baseline, current)
            if not math.isfinite(deviation):
                deviation = None
        extra: dict[str, Any] = {
            "event_type": "drift",
            "metric": metric,
            "model": labels[semconv.LABEL_MODEL],
            "baseline_value": baseline,
            "current_value": current,
            "deviation_percent": None if deviation is None else round(deviation, 2),
            "severity": severity,
            "detector": series.reason,
            "direction": series.direction,
            "kind": series.entry.kind,
        }
        with _in_span(span_context):
            self.logger.warning(
                "Drift %s: %s on model %s (%s detector)",
                severity,
                metric,
                labels[semconv.LABEL_MODEL],
                extra["detector"],
                extra=extra,
            )

    def _observe_status(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.state, s.labels) for s in list(self._series.values())]

    def _observe_statistic(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.level, s.labels) for s in list(self._series.values())]


def _in_span(span_context: SpanContext | None) -> AbstractContextManager[Any]:
    if span_context is None or not span_context.is_valid:
        return nullcontext()
    return trace.use_span(NonRecordingSpan(span_context), end_on_exit=False)
