"""Real subprocesses for the end-to-end tests: the simulator CLI and the instrumented app."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tests.support.net import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "examples" / "serve.py"
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 90.0  # importing litellm alone can take tens of seconds on a busy CI box

# Variables of the outer environment that would change what the app does.
_OUTER_PREFIXES = ("OTEL_", "TASKMASTER_")
_OUTER_NAMES = ("OLLAMA_HOST", "PORT", "HOST", "PYTHONPATH")


def clean_environ() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_OUTER_PREFIXES) and key not in _OUTER_NAMES
    }


def stop_process(process: subprocess.Popen[Any], grace: float = 30.0) -> None:
    """SIGTERM (so the SDK flushes on exit), then SIGKILL if it does not go."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class SimulatorProcess:
    """``otel-taskmaster simulate --port <free>`` as a real subprocess."""

    def __init__(self, log_path: Path, *extra_args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "otel-taskmaster"), "simulate", "--port", str(self.port), *extra_args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=clean_environ(),
        )
        self.log_path = log_path

    def wait_ready(self) -> None:
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError:
            raise RuntimeError(f"simulator did not start:\n{self.log_path.read_text()}") from None

    def stop(self) -> None:
        stop_process(self.process, grace=10)
        self._log.close()


class AppProcess:
    """``opentelemetry-instrument python examples/serve.py`` as a real subprocess."""

    def __init__(self, log_dir: Path, env: Mapping[str, str], name: str = "app") -> None:
        self.port = int(env["PORT"])
        self.metrics_port = int(env.get("OTEL_EXPORTER_PROMETHEUS_PORT", "9464"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_url = f"http://localhost:{self.metrics_port}/metrics"
        self.stdout_path = log_dir / f"{name}.stdout.log"
        self.stderr_path = log_dir / f"{name}.stderr.log"
        self._out = self.stdout_path.open("wb")
        self._err = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "opentelemetry-instrument"), sys.executable, str(SERVE)],
            stdout=self._out,
            stderr=self._err,
            env=dict(env),
            cwd=ROOT,
        )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited with {self.process.returncode}:\n{self.stderr()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"app not healthy after {timeout}s:\n{self.stderr()}")
            time.sleep(0.2)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def json_log_lines(self) -> list[dict[str, Any]]:
        """Every stderr line that is a JSON object (uvicorn's own lines are plain text)."""
        return [json.loads(line) for line in self.stderr().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        stop_process(self.process)
        self._out.close()
        self._err.close()


def app_environ(simulator_url: str, otlp_endpoint: str, **overrides: str) -> dict[str, str]:
    """The app's environment: test-speed export intervals, our distro named explicitly.

    ``opentelemetry-distro`` is installed too (dev extras), so, as the README says, the
    distro and configurator are picked by name.
    """
    env = clean_environ()
    env.update(
        {
            "PORT": str(free_port()),
            "OLLAMA_HOST": simulator_url,
            "OTEL_PYTHON_DISTRO": "taskmaster",
            "OTEL_PYTHON_CONFIGURATOR": "taskmaster",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            "OTEL_EXPORTER_PROMETHEUS_PORT": str(free_port()),
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_BLRP_SCHEDULE_DELAY": "200",
            "TASKMASTER_MODEL_PROBE_INTERVAL": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env
