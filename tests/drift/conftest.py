"""Seeded streams for the drift tests."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from otel_taskmaster.drift.base import ChangeDetector


def _events(detector: ChangeDetector, stream: list[float]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {"warning": [], "drift": []}
    for i, x in enumerate(stream):
        detector.update(x)
        if detector.warning_detected:
            found["warning"].append(i)
        if detector.drift_detected:
            found["drift"].append(i)
    return found


@pytest.fixture
def events() -> Callable[[ChangeDetector, list[float]], dict[str, list[int]]]:
    """``events(detector, stream)``: indices where the level rose to warning and to critical."""
    return _events


@pytest.fixture
def rng() -> random.Random:
    return random.Random(12345)


@pytest.fixture
def gauss_stream(rng: random.Random) -> Callable[..., list[float]]:
    """``gauss_stream((n, mean, std), ...)``: consecutive normal segments."""

    def make(*segments: tuple[int, float, float]) -> list[float]:
        return [rng.gauss(mean, std) for n, mean, std in segments for _ in range(n)]

    return make
