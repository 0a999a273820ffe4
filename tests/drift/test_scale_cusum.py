from __future__ import annotations

import math

import pytest

from otel_taskmaster.drift import ScaleCusum


def test_variance_doubling_detected_at_pinned_indices(gauss_stream, events):
    stream = gauss_stream((300, 0.0, 1.0), (300, 0.0, math.sqrt(2.0)))
    assert events(ScaleCusum(mean=0.0, std=1.0), stream) == {"warning": [404], "drift": [418]}


def test_a_large_mean_shift_also_raises_it(gauss_stream, events):
    stream = gauss_stream((300, 0.0, 1.0), (300, 2.0, 1.0))
    assert events(ScaleCusum(mean=0.0, std=1.0), stream) == {"warning": [312], "drift": [314]}


def test_a_variance_drop_is_not_flagged(gauss_stream, events):
    stream = gauss_stream((300, 0.0, 1.0), (3000, 0.0, 0.5))
    assert events(ScaleCusum(mean=0.0, std=1.0), stream) == {"warning": [], "drift": []}


def test_no_false_alarm_in_a_long_stationary_stream(gauss_stream, events):
    found = events(ScaleCusum(mean=0.0, std=1.0), gauss_stream((100_000, 0.0, 1.0)))
    assert found["drift"] == []


def test_reference_value_matches_the_likelihood_ratio_for_the_ratio():
    # N(0, 2) vs N(0, 1): log LR = z**2 / 4 - ln(2) / 2, zero at z**2 = 2 ln 2.
    assert ScaleCusum(mean=0.0, std=1.0, ratio=2.0)._k == pytest.approx(2 * math.log(2))


@pytest.mark.parametrize(
    "kwargs", [{"std": 0.0}, {"ratio": 1.0}, {"ratio": 0.5}, {"clip": 0.0}, {"h_warning": -1.0}]
)
def test_bad_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        ScaleCusum(**{"mean": 0.0, "std": 1.0, **kwargs})
