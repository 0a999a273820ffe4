"""Fixtures for the simulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.ollama_server import running_simulator


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    """A fault-free, zero-delay simulator shared by a test module (tests must not set faults)."""
    with running_simulator() as url:
        yield url
