"""Fixtures for the end-to-end tests (the helpers live in tests/e2e/processes.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.processes import AppProcess, SimulatorProcess


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    # A tenth of real time: realistic shapes (first chunk, then a stream), quick tests.
    log = tmp_path_factory.mktemp("simulator") / "simulator.log"
    sim = SimulatorProcess(log, "--time-scale", "0.1")
    try:
        sim.wait_ready()
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def launch_app(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], AppProcess]]:
    """Starts an instrumented app per call; every one is stopped when the test ends."""
    started: list[AppProcess] = []

    def launch(env: dict[str, str]) -> AppProcess:
        app = AppProcess(tmp_path, env, name=f"app{len(started)}")
        started.append(app)
        app.wait_ready()
        return app

    try:
        yield launch
    finally:
        for app in started:
            app.stop()
