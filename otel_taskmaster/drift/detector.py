"""The seed's standalone interface (``DriftDetector``, ``DriftAlert``), on sound detectors.

The seed compared the mean of the last 100 values with the baseline and alarmed at a 15% /
30% deviation; that rule misses small drifts and cries wolf on noisy metrics. Here each metric
runs a :class:`~otel_taskmaster.drift.detector_set.DetectorSet` (CUSUMs with a known
false-alarm rate) and the detectors decide whether a metric has drifted. The seed's thresholds
keep a meaning, on the size of the drift (``|current - baseline| / baseline``):

- a critical-level detection is always reported, as ``critical``;
- a warning-level detection is reported as ``warning`` only if the drift is at least
  ``warning_threshold``, and as ``critical`` if it is at least ``critical_threshold``.

So the thresholds can silence weak evidence of a small change or escalate a large one, but
a noisy window alone never raises an alert. Pass ``warning_threshold=0`` to see every warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from otel_taskmaster.drift.base import CRITICAL, WARNING
from otel_taskmaster.drift.baseline import Baseline
from otel_taskmaster.drift.detector_set import DEFAULT_WARMUP, DetectorSet


@dataclass
class DriftAlert:
    """One metric's drift, with the seed's fields."""

    metric: str
    baseline_value: float
    current_value: float
    deviation_percent: float
    severity: str  # "warning" or "critical"
    timestamp: str


def deviation_percent(baseline: float, current: float) -> float:
    """``|current - baseline| / |baseline|`` in percent (inf if the baseline is 0)."""
    if baseline == 0.0:
        return 0.0 if current == 0.0 else math.inf
    return abs(current - baseline) / abs(baseline) * 100.0


class DriftDetector:
    """Detects drift of quality metrics against a baseline (the seed's interface).

    Parameters
    ----------
    baseline_metrics
        ``{metric: mean}`` as in the seed, ``{metric: {"mean": m, "std": s}}``, or a
        :class:`~otel_taskmaster.drift.baseline.Baseline`. Without ``std`` the spread is
        estimated from the first ``warmup`` values of that metric (no alerts meanwhile).
    warning_threshold, critical_threshold
        Relative drift sizes; see the module docstring for how they grade detections.
    warmup
        Values used to estimate a missing spread.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(12345)
    >>> detector = DriftDetector({"overall_quality": {"mean": 0.89, "std": 0.05}})
    >>> for i in range(400):  # the mean drops by 0.04 (4.5%, 0.8 std) after 200
    ...     detector.record_metric("overall_quality", rng.gauss(0.89 if i < 200 else 0.85, 0.05))
    ...     alerts = detector.check_drift()
    ...     if alerts:
    ...         print(i, alerts[0].severity, round(alerts[0].current_value, 3))
    ...         break
    273 critical 0.868
    """

    def __init__(
        self,
        baseline_metrics: Mapping[str, Any] | Baseline,
        warning_threshold: float = 0.15,
        critical_threshold: float = 0.30,
        warmup: int = DEFAULT_WARMUP,
    ) -> None:
        if not 0.0 <= warning_threshold <= critical_threshold:
            raise ValueError(
                "need 0 <= warning_threshold <= critical_threshold, got "
                f"{warning_threshold}, {critical_threshold}"
            )
        if isinstance(baseline_metrics, Baseline):
            baseline = baseline_metrics
        else:
            baseline = Baseline.from_seed(baseline_metrics)
        # As in the seed: what the caller passed in.
        self.baseline = baseline_metrics
        self.warning_threshold = warning_threshold
        self.critical_threshold = critical_threshold
        self.warmup = warmup
        self._detectors = {entry.metric: DetectorSet(entry, warmup=warmup) for entry in baseline}

    def record_metric(self, metric: str, value: float) -> None:
        """Records one observation; metrics without a baseline are ignored, as in the seed."""
        detectors = self._detectors.get(metric)
        if detectors is not None:
            detectors.update(value)

    def check_drift(self) -> list[DriftAlert]:
        """An alert for every metric that is drifting now (repeated while the drift lasts)."""
        alerts = []
        now = datetime.now(UTC).isoformat()
        for metric, detectors in self._detectors.items():
            state = detectors.state
            if state < WARNING:
                continue
            baseline = detectors.baseline_value
            current = detectors.current_value
            if baseline is None or current is None:
                continue
            deviation = deviation_percent(baseline, current)
            if state >= CRITICAL or deviation >= self.critical_threshold * 100.0:
                severity = "critical"
            elif deviation >= self.warning_threshold * 100.0:
                severity = "warning"
            else:
                continue
            alerts.append(DriftAlert(metric, baseline, current, deviation, severity, now))
        return alerts

    def state(self, metric: str) -> int:
        """The detectors' level for ``metric``: 0 ok, 1 warning, 2 critical."""
        detectors = self._detectors.get(metric)
        return 0 if detectors is None else detectors.state
