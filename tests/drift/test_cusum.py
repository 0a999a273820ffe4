from __future__ import annotations

import pytest

from otel_taskmaster.drift import GaussianCusum


def test_one_sigma_drop_detected_at_pinned_indices(gauss_stream, events):
    stream = gauss_stream((200, 0.85, 0.1), (200, 0.75, 0.1))
    detector = GaussianCusum(mean=0.85, std=0.1)
    assert events(detector, stream) == {"warning": [251], "drift": [254]}
    assert detector.direction == -1
    assert detector.state == 2


def test_detects_up_then_rearms_and_detects_down(gauss_stream):
    stream = gauss_stream((200, 0.0, 1.0), (100, 1.0, 1.0), (300, 0.0, 1.0), (100, -1.0, 1.0))
    detector = GaussianCusum(mean=0.0, std=1.0)
    states = []
    found = {"warning": [], "drift": []}
    for i, x in enumerate(stream):
        detector.update(x)
        if detector.warning_detected:
            found["warning"].append(i)
        if detector.drift_detected:
            found["drift"].append((i, detector.direction))
        if i in (299, 599):
            states.append(detector.state)
    assert found == {"warning": [210, 610], "drift": [(212, 1), (618, -1)]}
    # Critical while the shift lasts, back to ok once the statistic decays below re-arm.
    assert states == [2, 0]


def test_false_alarms_on_a_long_stationary_stream_are_rare(gauss_stream, events):
    detector = GaussianCusum(mean=0.5, std=0.2)
    found = events(detector, gauss_stream((100_000, 0.5, 0.2)))
    # Designed for an in-control ARL near 34,000 (at most 1 per 10,000 is the target).
    assert len(found["drift"]) == 7


def test_single_outlier_cannot_raise_an_alarm():
    detector = GaussianCusum(mean=0.0, std=1.0)
    detector.update(1e9)
    assert detector.state == 0
    assert detector.statistic == pytest.approx(detector.clip - detector.k)


def test_statistic_is_capped_while_drift_persists():
    detector = GaussianCusum(mean=0.0, std=1.0)
    for _ in range(1000):
        detector.update(-3.0)
    assert detector.statistic == pytest.approx(1.5 * detector.h_critical)
    assert detector.level == pytest.approx(1.5)


def test_reset_clears_state():
    detector = GaussianCusum(mean=0.0, std=1.0)
    for _ in range(50):
        detector.update(3.0)
    assert detector.state == 2
    detector._reset()
    assert (detector.state, detector.statistic, detector.direction) == (0, 0.0, 0)


def test_parameters_are_public_attributes():
    detector = GaussianCusum(mean=1.0, std=2.0, k=0.5, h_warning=5.0, h_critical=6.0, clip=3.0)
    assert (detector.mean, detector.std, detector.k) == (1.0, 2.0, 0.5)
    assert (detector.h_warning, detector.h_critical, detector.clip) == (5.0, 6.0, 3.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"std": 0.0},
        {"std": -1.0},
        {"k": -0.1},
        {"clip": 0.2},
        {"h_warning": 0.0},
        {"h_critical": -1.0},
        {"h_warning": 12.0, "h_critical": 11.0},
    ],
)
def test_bad_parameters_raise_value_error(kwargs):
    params = {"mean": 0.0, "std": 1.0, **kwargs}
    with pytest.raises(ValueError):
        GaussianCusum(**params)
