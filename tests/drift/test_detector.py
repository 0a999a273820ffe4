"""The seed's standalone interface: DriftDetector / DriftAlert."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime

import pytest

from otel_taskmaster.drift import DriftAlert, DriftDetector

SEED_BASELINE = {
    "latency_score": 0.85,
    "length_score": 0.90,
    "format_score": 0.88,
    "coherence_score": 0.95,
    "overall_quality": 0.89,
}


def _feed(detector: DriftDetector, metric: str, values: list[float]) -> list[tuple[int, str]]:
    """(index, severity) of the first alert for ``metric`` at each severity."""
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        detector.record_metric(metric, value)
        for alert in detector.check_drift():
            if alert.metric == metric:
                seen.setdefault(alert.severity, i)
    return sorted((i, severity) for severity, i in seen.items())


def test_alert_keeps_the_seed_fields():
    names = [field.name for field in dataclasses.fields(DriftAlert)]
    assert names == [
        "metric", "baseline_value", "current_value", "deviation_percent", "severity", "timestamp"
    ]  # fmt: skip


def test_mean_only_seed_baseline_warms_up_then_detects_a_drop():
    rng = random.Random(12345)
    detector = DriftDetector(SEED_BASELINE, warmup=300)
    values = [rng.gauss(0.89, 0.05) for _ in range(1300)] + [
        rng.gauss(0.79, 0.05) for _ in range(200)
    ]
    found = _feed(detector, "overall_quality", values)
    assert found == [(1305, "critical")]
    (alert,) = detector.check_drift()
    assert alert.metric == "overall_quality"
    assert alert.baseline_value == 0.89
    assert alert.current_value == pytest.approx(0.79, abs=0.02)
    assert alert.deviation_percent == pytest.approx(100 * (0.89 - alert.current_value) / 0.89)
    assert alert.severity == "critical"
    datetime.fromisoformat(alert.timestamp)


def test_mean_and_std_baseline_needs_no_warm_up():
    rng = random.Random(12345)
    detector = DriftDetector({"overall_quality": {"mean": 0.89, "std": 0.05}})
    values = [rng.gauss(0.89, 0.05) for _ in range(200)] + [
        rng.gauss(0.84, 0.05) for _ in range(200)
    ]
    # A 1-std drop is only 5.6% of the mean: the seed's 15% rule never sees it.
    assert _feed(detector, "overall_quality", values) == [(254, "critical")]


def test_warning_threshold_silences_weak_evidence_of_a_small_change():
    values = [0.89] * 10 + [0.85] * 100
    quiet = DriftDetector({"q": {"mean": 0.89, "std": 0.05}}, warning_threshold=0.15)
    loud = DriftDetector({"q": {"mean": 0.89, "std": 0.05}}, warning_threshold=0.0)
    assert [severity for _, severity in _feed(quiet, "q", values)] == ["critical"]
    assert [severity for _, severity in _feed(loud, "q", values)] == ["warning", "critical"]


def test_critical_threshold_escalates_a_large_change_seen_at_warning_level():
    detector = DriftDetector({"q": {"mean": 1.0, "std": 2.0}}, critical_threshold=0.30)
    for _ in range(7):
        detector.record_metric("q", 5.0)  # z = 2: mean CUSUM 7 x 1.625 = 11.4, warning level
    assert detector.state("q") == 1
    (alert,) = detector.check_drift()
    assert alert.severity == "critical"
    assert alert.deviation_percent >= 30.0


def test_steady_stream_alerts_rarely():
    rng = random.Random(12345)
    detector = DriftDetector({name: {"mean": m, "std": 0.05} for name, m in SEED_BASELINE.items()})
    episodes, alerting = [], set()
    for i in range(4000):  # 20,000 observations over five metrics
        for name, mean in SEED_BASELINE.items():
            detector.record_metric(name, rng.gauss(mean, 0.05))
        now = {(alert.metric, alert.severity) for alert in detector.check_drift()}
        episodes += [(i, *key) for key in sorted(now - alerting)]
        alerting = now
    # One false alarm in 20,000 (design: at most 1 per 10,000 per metric).
    assert episodes == [(916, "overall_quality", "critical")]


def test_unknown_metrics_are_ignored_as_in_the_seed():
    detector = DriftDetector(SEED_BASELINE)
    detector.record_metric("not_a_metric", 1.0)
    assert detector.check_drift() == []
    assert detector.state("not_a_metric") == 0


@pytest.mark.parametrize(("warning", "critical"), [(-0.1, 0.3), (0.3, 0.15)])
def test_bad_thresholds_raise_value_error(warning, critical):
    with pytest.raises(ValueError):
        DriftDetector(SEED_BASELINE, warning_threshold=warning, critical_threshold=critical)


def test_baseline_attribute_is_what_the_caller_passed():
    assert DriftDetector(SEED_BASELINE).baseline is SEED_BASELINE
