"""Run the real Prometheus binary for a test and talk to its HTTP API.

``running_prometheus(...)`` starts ``/usr/bin/prometheus`` (Debian package) on a free
127.0.0.1 port with a temporary config and TSDB directory, waits for ``/-/ready``, and
stops it on exit, so no process or directory outlives the ``with`` block.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

PROMETHEUS_BINARY = os.environ.get("PROMETHEUS_BINARY", "/usr/bin/prometheus")
PROMTOOL_BINARY = os.environ.get("PROMTOOL_BINARY", "/usr/bin/promtool")


class PrometheusError(RuntimeError):
    """The Prometheus HTTP API answered with an error (bad PromQL, bad parameters...)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timestamp(value: float | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class Prometheus:
    """A thin client for one running Prometheus server."""

    def __init__(self, url: str, process: subprocess.Popen[bytes] | None = None) -> None:
        self.url = url.rstrip("/")
        self.process = process
        self._client = httpx.Client(base_url=self.url, timeout=10.0)

    def close(self) -> None:
        self._client.close()

    def _api(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self._client.get(f"/api/v1/{path}", params=params)
        try:
            body = response.json()
        except ValueError as exc:
            raise PrometheusError(f"{path}: HTTP {response.status_code}: {response.text}") from exc
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, promql: str) -> list[dict]:
        """Instant query; returns the result list (vector samples, or one scalar entry)."""
        data = self._api("query", {"query": promql})
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def query_range(
        self,
        promql: str,
        start: float | datetime,
        end: float | datetime,
        step: float | str,
    ) -> list[dict]:
        data = self._api(
            "query_range",
            {"query": promql, "start": _timestamp(start), "end": _timestamp(end), "step": step},
        )
        return list(data["result"])

    def targets(self) -> list[dict]:
        return list(self._api("targets")["activeTargets"])

    def wait_for_targets_up(self, timeout: float = 30) -> None:
        """Block until every configured target has been scraped successfully."""
        deadline = time.monotonic() + timeout
        targets: list[dict] = []
        while time.monotonic() < deadline:
            targets = self.targets()
            if targets and all(t["health"] == "up" for t in targets):
                return
            time.sleep(0.2)
        raise TimeoutError(f"targets not up after {timeout}s: {targets}")

    def wait_for(self, promql: str, timeout: float = 30) -> list[dict]:
        """Re-run an instant query until it returns something; bad PromQL raises at once."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no data for {promql!r} after {timeout}s")
            time.sleep(0.2)

    def rules(self) -> list[dict]:
        """Every loaded rule (alerting and recording), flattened across groups."""
        groups = self._api("rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def alerts(self) -> list[dict]:
        return list(self._api("alerts")["alerts"])


def _config(
    scrape_targets: Sequence[str],
    rule_files: Sequence[Path],
    scrape_interval: str,
    evaluation_interval: str,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": [str(Path(p).resolve()) for p in rule_files],
        "scrape_configs": [],
    }
    if scrape_targets:
        config["scrape_configs"].append(
            {"job_name": "test", "static_configs": [{"targets": list(scrape_targets)}]}
        )
    return config


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"prometheus not ready after {timeout}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_prometheus(
    scrape_targets: Sequence[str] = (),
    rule_files: Sequence[Path] = (),
    scrape_interval: str = "1s",
    evaluation_interval: str = "1s",
) -> Iterator[Prometheus]:
    """Start a throwaway Prometheus that scrapes ``scrape_targets`` (``host:port``) and loads
    ``rule_files``; yield a client for it; stop it and delete its data on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="prometheus-test-"))
    config_file = workdir / "prometheus.yml"
    config_file.write_text(
        yaml.safe_dump(_config(scrape_targets, rule_files, scrape_interval, evaluation_interval))
    )
    log = workdir / "prometheus.log"
    process: subprocess.Popen[bytes] | None = None
    client: Prometheus | None = None
    try:
        # A free port can be taken between probe and bind; retry a few times if so.
        for _attempt in range(5):
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            with log.open("wb") as log_out:
                process = subprocess.Popen(
                    [
                        PROMETHEUS_BINARY,
                        f"--config.file={config_file}",
                        f"--storage.tsdb.path={workdir / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--log.level=warn",
                    ],
                    stdout=log_out,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                )
            try:
                _wait_ready(url, process, log, timeout=30)
                break
            except RuntimeError:
                if "address already in use" not in log.read_text():
                    raise
                _stop(process)
        else:
            raise RuntimeError("could not find a free port for prometheus")
        client = Prometheus(url, process)
        yield client
    finally:
        if client is not None:
            client.close()
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
