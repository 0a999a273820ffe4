from __future__ import annotations

import math
import random

import pytest

from otel_taskmaster.drift import BernoulliCusum, TailCusum
from otel_taskmaster.drift.bernoulli_cusum import threshold_for_arl0
from otel_taskmaster.drift.tail_cusum import normal_tail


def _yes_no(rng: random.Random, *segments: tuple[int, float]) -> list[float]:
    return [1.0 if rng.random() < p else 0.0 for n, p in segments for _ in range(n)]


def test_refusal_rate_doubling_detected_at_pinned_indices(rng, events):
    stream = _yes_no(rng, (500, 0.05), (1000, 0.10))
    assert events(BernoulliCusum(p0=0.05), stream) == {"warning": [586], "drift": [704]}


def test_a_falling_rate_is_not_flagged(rng, events):
    stream = _yes_no(rng, (500, 0.05), (5000, 0.01))
    assert events(BernoulliCusum(p0=0.05), stream) == {"warning": [], "drift": []}


def test_false_alarms_on_a_long_stationary_stream_are_rare(rng, events):
    found = events(BernoulliCusum(p0=0.05), _yes_no(rng, (100_000, 0.05)))
    assert len(found["drift"]) == 5  # designed for an in-control ARL of 20,000 or more


def test_booleans_are_accepted():
    detector = BernoulliCusum(p0=0.05)
    detector.update(True)
    assert detector.statistic == pytest.approx(math.log(2))


def test_default_p1_doubles_p0_but_stays_below_one():
    assert BernoulliCusum(p0=0.05).p1 == pytest.approx(0.10)
    assert BernoulliCusum(p0=0.8).p1 == pytest.approx(0.9)


def test_threshold_grows_with_the_target_run_length():
    assert threshold_for_arl0(0.05, 0.1, 1_000) < threshold_for_arl0(0.05, 0.1, 20_000)
    assert threshold_for_arl0(0.05, 0.1, 20_000) == pytest.approx(5.8318, abs=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [{"p0": 0.0}, {"p0": 1.0}, {"p0": 0.1, "p1": 0.05}, {"p0": 0.1, "p1": 1.0}],
)
def test_bad_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        BernoulliCusum(**kwargs)


def test_tail_of_slow_requests_detected_at_pinned_indices(rng, events):
    stream = [rng.gauss(0.0, 0.6) for _ in range(300)]
    stream += [rng.gauss(0.0, 0.6) + (math.log(5) if rng.random() < 0.05 else 0.0)
               for _ in range(1000)]  # fmt: skip
    assert events(TailCusum(mean=0.0, std=0.6), stream) == {"warning": [438], "drift": [512]}


def test_tail_detector_quiet_on_a_long_stationary_stream(rng, events):
    stream = [rng.gauss(0.0, 0.6) for _ in range(100_000)]
    assert events(TailCusum(mean=0.0, std=0.6), stream)["drift"] == []


def test_tail_p0_defaults_to_the_normal_tail():
    assert normal_tail(2.326) == pytest.approx(0.01, abs=1e-4)
    detector = TailCusum(mean=0.0, std=1.0, tail_z=3.0)
    assert detector.p0 == pytest.approx(0.0013499, abs=1e-6)
    assert detector.p1 == pytest.approx(4 * detector.p0)


@pytest.mark.parametrize("kwargs", [{"std": 0.0}, {"ratio": 1.0}, {"p0": 1.5}])
def test_bad_tail_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        TailCusum(**{"mean": 0.0, "std": 1.0, **kwargs})
