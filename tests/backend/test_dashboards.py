"""Grafana dashboards: provisioning-ready raw JSON, current panel types, valid PromQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backend_sources import (
    COMPOSE_FILE,
    PROVISIONING_DIR,
    dashboard_expressions,
    dashboard_files,
    iter_panels,
    load_yaml,
    rule_expressions,
    to_promql,
    volume_mounts,
)

from tests.support.prometheus import Prometheus, PrometheusError

# Panel types Grafana 11+ ships; `graph` (and other Angular panels) are gone.
CURRENT_PANEL_TYPES = {
    "row",
    "timeseries",
    "stat",
    "gauge",
    "bargauge",
    "table",
    "heatmap",
    "state-timeline",
    "status-history",
    "piechart",
    "text",
    "logs",
    "traces",
    "nodeGraph",
    "alertlist",
}
SEED_PANELS = (
    "Request Rate",
    "Latency (P50, P95, P99)",
    "Error Rate",
    "Model Status",
    "Quality Score",
    "Tokens Processed",
)


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _all_panels() -> list[tuple[str, dict]]:
    return [
        (path.name, panel)
        for path in dashboard_files()
        for panel in iter_panels(_load(path)["panels"])
    ]


def _datasource_uids() -> set[str]:
    provisioned = load_yaml(PROVISIONING_DIR / "datasources" / "datasources.yml")
    return {ds["uid"] for ds in provisioned["datasources"]}


def test_there_are_dashboards() -> None:
    assert [p.name for p in dashboard_files()] == [
        "taskmaster-overview.json",
        "taskmaster-quality.json",
    ]


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda p: p.name)
def test_dashboard_is_raw_json_that_file_provisioning_loads(path: Path) -> None:
    dashboard = _load(path)
    assert "dashboard" not in dashboard
    assert "__inputs" not in dashboard and "__requires" not in dashboard
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    assert dashboard.get("id") is None  # an id would clash with Grafana's own


def test_dashboard_uids_and_titles_are_unique() -> None:
    dashboards = [_load(p) for p in dashboard_files()]
    assert len({d["uid"] for d in dashboards}) == len(dashboards)
    assert len({d["title"] for d in dashboards}) == len(dashboards)


def test_no_graph_or_other_removed_panel_types() -> None:
    types = {(name, panel["type"]) for name, panel in _all_panels()}
    assert {t for _, t in types} <= CURRENT_PANEL_TYPES
    assert all(t != "graph" for _, t in types)


def test_panels_use_the_datasource_variable_or_a_provisioned_uid() -> None:
    allowed = _datasource_uids() | {"${datasource}", "-- Grafana --"}
    for path in dashboard_files():
        dashboard = _load(path)
        names = [v["name"] for v in dashboard["templating"]["list"]]
        assert "datasource" in names, path.name
        for panel in iter_panels(dashboard["panels"]):
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] in allowed, (path.name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in allowed, (path.name, panel["title"])


def test_panel_ids_are_unique_within_each_dashboard() -> None:
    for path in dashboard_files():
        ids = [p["id"] for p in iter_panels(_load(path)["panels"])]
        assert len(ids) == len(set(ids)), path.name


def test_seed_panels_are_present_with_current_types() -> None:
    overview = {p["title"]: p for p in iter_panels(_load(dashboard_files()[0])["panels"])}
    for title in SEED_PANELS:
        assert title in overview
    assert overview["Request Rate"]["type"] == "timeseries"
    assert overview["Tokens Processed"]["type"] == "timeseries"
    assert overview["Quality Score"]["type"] == "gauge"
    mappings = overview["Model Status"]["fieldConfig"]["defaults"]["mappings"]
    assert {text for m in mappings for text in (v["text"] for v in m["options"].values())} == {
        "UP",
        "DOWN",
    }


def test_llm_panels_cover_ttft_speed_per_model_dimensions_and_drift() -> None:
    exprs = " ".join(
        target["expr"] for _, panel in _all_panels() for target in panel.get("targets", [])
    )
    for needle in (
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",  # time to first token
        "gen_ai_server_time_per_output_token_seconds_count",  # tokens per second
        "sum by (gen_ai_request_model",  # per-model breakdown
        "avg by (dimension) (taskmaster_quality_score",  # quality by dimension
        "taskmaster_drift_status",  # drift status
        "taskmaster:response_quality:mean1w",  # hour vs week, from the recording rules
    ):
        assert needle in exprs, needle


def test_latency_panels_link_to_traces_through_exemplars_and_data_links() -> None:
    latency = [
        panel
        for _, panel in _all_panels()
        if panel.get("fieldConfig", {}).get("defaults", {}).get("unit") == "s"
        and "histogram_quantile" in json.dumps(panel.get("targets"))
    ]
    assert len(latency) >= 3
    for panel in latency:
        assert any(t.get("exemplar") for t in panel["targets"]), panel["title"]
        links = panel["fieldConfig"]["defaults"]["links"]
        assert any("16686" in link["url"] for link in links), panel["title"]
    provisioned = load_yaml(PROVISIONING_DIR / "datasources" / "datasources.yml")
    prometheus = next(d for d in provisioned["datasources"] if d["type"] == "prometheus")
    (destination,) = prometheus["jsonData"]["exemplarTraceIdDestinations"]
    assert destination == {**destination, "name": "trace_id", "datasourceUid": "jaeger"}


def test_provisioning_points_at_the_mounted_dashboards() -> None:
    providers = load_yaml(PROVISIONING_DIR / "dashboards" / "dashboards.yml")["providers"]
    grafana = load_yaml(COMPOSE_FILE)["services"]["grafana"]
    mounts = dict(volume_mounts(grafana))
    for provider in providers:
        host_dir = next(h for h, c in mounts.items() if c == provider["options"]["path"])
        assert sorted(Path(COMPOSE_FILE.parent, host_dir).resolve().glob("*.json")) == [
            p.resolve() for p in dashboard_files()
        ]
    assert mounts["./dashboards/provisioning"] == "/etc/grafana/provisioning"


def _parse(prom: Prometheus, promql: str) -> str | None:
    try:
        prom.query(promql)
    except PrometheusError as exc:
        return str(exc)
    return None


def test_every_dashboard_and_rule_expression_parses_in_real_prometheus(
    empty_prometheus: Prometheus,
) -> None:
    expressions = [e for p in dashboard_files() for e in dashboard_expressions(p)]
    expressions += rule_expressions()
    assert len(expressions) > 40
    errors = {
        e.source: error
        for e in expressions
        if (error := _parse(empty_prometheus, to_promql(e.promql))) is not None
    }
    assert errors == {}


def test_the_parse_check_rejects_broken_promql(empty_prometheus: Prometheus) -> None:
    assert _parse(empty_prometheus, to_promql("sum by (le (rate(x[$__rate_interval]))"))
    assert _parse(empty_prometheus, to_promql('rate(x{job=~"$job"}[$__rate_interval])')) is None
