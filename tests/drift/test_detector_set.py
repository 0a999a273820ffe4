from __future__ import annotations

import math

import pytest

from otel_taskmaster.drift import BaselineEntry, DetectorSet


def _first_drift(detectors: DetectorSet, stream: list[float]) -> list[int]:
    found = []
    for i, x in enumerate(stream):
        detectors.update(x)
        if detectors.drift_detected:
            found.append(i)
    return found


def test_gaussian_entry_runs_mean_and_scale_detectors(gauss_stream):
    detectors = DetectorSet(BaselineEntry("q", "gaussian", mean=0.85, std=0.1))
    assert detectors.armed
    assert _first_drift(detectors, gauss_stream((200, 0.85, 0.1), (200, 0.75, 0.1))) == [254]
    assert (detectors.reason, detectors.direction, detectors.state) == ("mean", -1, 2)


def test_variance_rise_is_reported_by_the_scale_detector(gauss_stream):
    detectors = DetectorSet(BaselineEntry("q", "gaussian", mean=0.0, std=1.0))
    assert _first_drift(detectors, gauss_stream((150, 0.0, 1.0), (300, 0.0, 2.0))) == [181]
    assert detectors.reason == "scale"


def test_lognormal_entry_watches_the_log_and_reports_medians(rng):
    entry = BaselineEntry("latency_seconds", "lognormal", mean=math.log(1.2), std=0.6)
    detectors = DetectorSet(entry)
    stream = [rng.lognormvariate(math.log(1.2), 0.6) for _ in range(300)]
    stream += [rng.lognormvariate(math.log(1.2), 0.6) * (5.0 if rng.random() < 0.05 else 1.0)
               for _ in range(1000)]  # fmt: skip
    assert _first_drift(detectors, stream) == [396]
    assert detectors.reason == "tail"
    assert detectors.baseline_value == pytest.approx(1.2)
    assert detectors.current_value > 1.2


def test_lognormal_uses_the_fitted_tail_rate(rng):
    entry = BaselineEntry("l", "lognormal", mean=0.0, std=1.0, tail_rate=0.02)
    detectors = DetectorSet(entry)
    detectors.update(1.0)
    assert detectors._tail_cusum.p0 == 0.02


def test_bernoulli_entry_runs_a_rate_detector(rng):
    detectors = DetectorSet(BaselineEntry("refusal", "bernoulli", rate=0.05))
    stream = [1.0 if rng.random() < (0.05 if i < 500 else 0.10) else 0.0 for i in range(1500)]
    assert _first_drift(detectors, stream) == [704]
    assert detectors.reason == "rate"
    assert detectors.baseline_value == 0.05


def test_mean_only_baseline_warms_up_then_keeps_the_given_mean(gauss_stream):
    detectors = DetectorSet(BaselineEntry("q", mean=0.85), warmup=200)
    stream = gauss_stream((200, 0.80, 0.05))
    for x in stream[:199]:
        detectors.update(x)
    assert not detectors.armed
    assert detectors.state == 0
    detectors.update(stream[199])
    assert detectors.armed
    assert detectors.mean == 0.85  # the baseline's, not the warm-up's
    assert detectors.std == pytest.approx(0.05, rel=0.1)
    # The warm-up saw a mean one std below the baseline: that is drift, found quickly.
    assert _first_drift(detectors, gauss_stream((100, 0.80, 0.05))) == [53]


def test_no_alarm_is_possible_during_warm_up(gauss_stream):
    detectors = DetectorSet(BaselineEntry("q", mean=0.85), warmup=500)
    assert _first_drift(detectors, gauss_stream((499, 0.2, 0.05))) == []


def test_self_starting_rate_estimated_from_warm_up(rng):
    detectors = DetectorSet(BaselineEntry("refusal", "bernoulli"), warmup=1000)
    for _ in range(1000):
        detectors.update(1.0 if rng.random() < 0.1 else 0.0)
    assert detectors.armed
    assert detectors.rate == pytest.approx(0.1, abs=0.02)


def test_constant_reference_is_floored_by_min_std():
    detectors = DetectorSet(BaselineEntry("format_score", mean=1.0, std=0.0))
    assert detectors.std == 0.01
    detectors.update(0.5)  # one odd value: clipped, not an alarm
    assert detectors.state == 0


def test_nan_is_skipped():
    detectors = DetectorSet(BaselineEntry("q", mean=0.0, std=1.0))
    detectors.update(float("nan"))
    detectors.update(0.0)
    assert detectors.level == 0.0
    assert detectors.current_value == 0.0


@pytest.mark.parametrize("kwargs", [{"warmup": 1}, {"min_std": 0.0}])
def test_bad_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        DetectorSet(BaselineEntry("q", mean=0.0), **kwargs)
