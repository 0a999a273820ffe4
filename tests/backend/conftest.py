"""Fixtures for the back-end tests (compose, Collector, rules, dashboards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.prometheus import Prometheus, running_prometheus

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="module")
def empty_prometheus() -> Iterator[Prometheus]:
    """A real Prometheus with no targets: its query API is the PromQL parser of record."""
    with running_prometheus() as prom:
        yield prom
