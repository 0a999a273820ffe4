"""The test helper really runs Prometheus, scrapes, evaluates rules and cleans up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support.prometheus import PrometheusError, running_prometheus

_METRICS = b'# TYPE demo_hits_total counter\ndemo_hits_total{path="/a"} 7\n'


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(_METRICS)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metrics_target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MetricsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_scrapes_target_and_answers_instant_and_range_queries(metrics_target: str) -> None:
    with running_prometheus(scrape_targets=[metrics_target]) as prom:
        prom.wait_for_targets_up(timeout=30)
        (sample,) = prom.wait_for('demo_hits_total{path="/a"}', timeout=30)
        assert sample["metric"]["instance"] == metrics_target
        assert sample["value"][1] == "7"
        end = float(sample["value"][0])
        series = prom.query_range("demo_hits_total", end - 5, end, "1s")
        assert series[0]["values"][-1][1] == "7"


def test_loads_rule_files_and_fires_alerts(metrics_target: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n"
        "- name: demo\n"
        "  rules:\n"
        "  - record: demo:hits:sum\n"
        "    expr: sum(demo_hits_total)\n"
        "  - alert: DemoHitsHigh\n"
        "    expr: demo:hits:sum > 5\n"
    )
    with running_prometheus(scrape_targets=[metrics_target], rule_files=[rules]) as prom:
        names = {rule["name"] for rule in prom.rules()}
        assert names == {"demo:hits:sum", "DemoHitsHigh"}
        (value,) = prom.wait_for("demo:hits:sum", timeout=30)
        assert value["value"][1] == "7"
        prom.wait_for('ALERTS{alertname="DemoHitsHigh",alertstate="firing"}', timeout=30)
        assert [a["labels"]["alertname"] for a in prom.alerts()] == ["DemoHitsHigh"]


def test_bad_promql_raises_with_prometheus_error_message() -> None:
    with running_prometheus() as prom, pytest.raises(PrometheusError, match="parse error"):
        prom.query("sum(rate(x[5m])")


def test_server_is_stopped_and_data_removed_on_exit() -> None:
    with running_prometheus() as prom:
        url = prom.url
        process = prom.process
        assert httpx.get(f"{url}/-/healthy").status_code == 200
    assert process is not None and process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/-/healthy", timeout=2)
