"""README command 1, `bash scripts/demo.sh`: runs, shows the telemetry, leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess

from tests.e2e.processes import ROOT, clean_environ


def _listening(url: str) -> bool:
    match = re.fullmatch(r"http://([^:/]+):(\d+)", url)
    assert match, url
    try:
        with socket.create_connection((match.group(1), int(match.group(2))), timeout=1):
            return True
    except OSError:
        return False


def test_demo_serves_traffic_shows_metrics_and_logs_then_stops_everything() -> None:
    env = clean_environ() | {"PATH": os.environ["PATH"]}
    result = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "status:   200=12" in out
    assert 'taskmaster_requests_total{endpoint="tasks",status="success"} 12.0' in out
    assert 'taskmaster_model_loaded{model="llama3.2"} 1.0' in out
    logs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(logs) == 2
    assert all(log["event_type"] == "request" and log["trace_id"] for log in logs)
    app_url = re.search(r"^  app +(http://\S+?)/v1/tasks", out, re.M)
    sim_url = re.search(r"^  Ollama \(sim\) +(http://\S+)", out, re.M)
    assert app_url and sim_url
    assert not _listening(app_url.group(1))
    assert not _listening(sim_url.group(1))
