"""collector/config.yaml: every component defined and used, ports and hosts match compose."""

from __future__ import annotations

import re

import pytest
from backend_sources import COLLECTOR_CONFIG, COMPOSE_FILE, load_yaml, volume_mounts

# Names deprecated by the Collector's 2026 lower_snake_case renames (still aliases, but warn),
# and the exporter option replaced by resource_constant_labels.
DEPRECATED_COMPONENTS = {"otlp": "otlp_grpc", "otlphttp": "otlp_http"}
SECTIONS = ("receivers", "processors", "exporters", "connectors")


@pytest.fixture(scope="module")
def config() -> dict:
    return load_yaml(COLLECTOR_CONFIG)


@pytest.fixture(scope="module")
def compose_services() -> dict[str, dict]:
    return load_yaml(COMPOSE_FILE)["services"]


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _port(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[1]


def test_every_pipeline_component_is_defined(config: dict) -> None:
    for name, pipeline in config["service"]["pipelines"].items():
        for section in ("receivers", "processors", "exporters"):
            for component in pipeline.get(section, []):
                assert component in (config.get(section) or {}), (name, section, component)
    for extension in config["service"]["extensions"]:
        assert extension in config["extensions"]


def test_every_defined_component_is_used(config: dict) -> None:
    used = {
        (section, component)
        for pipeline in config["service"]["pipelines"].values()
        for section in ("receivers", "processors", "exporters")
        for component in pipeline.get(section, [])
    }
    for section in SECTIONS:
        for component in config.get(section) or {}:
            assert (section, component) in used, (section, component)
    assert set(config["extensions"]) == set(config["service"]["extensions"])


def test_pipelines_cover_every_signal_with_memory_limiter_first(config: dict) -> None:
    pipelines = config["service"]["pipelines"]
    assert {_type(name) for name in pipelines} == {"metrics", "traces", "logs"}
    for name, pipeline in pipelines.items():
        assert pipeline["processors"][0] == "memory_limiter", name
        assert pipeline["receivers"] == ["otlp"], name


def test_metrics_keep_the_seed_names_through_the_prometheus_exporter(config: dict) -> None:
    # The exporter appends _ratio to unit-"1" gauges (taskmaster_quality_score has unit "1").
    processors = config["service"]["pipelines"]["metrics"]["processors"]
    assert processors == ["memory_limiter", "transform/seed_names"]
    (statement,) = config["processors"]["transform/seed_names"]["metric_statements"]
    assert statement.startswith('set(metric.unit, "") where metric.type == METRIC_DATA_TYPE_GAUGE')
    assert 'IsMatch(metric.name, "^taskmaster_")' in statement


def test_signals_go_to_prometheus_jaeger_and_debug(config: dict) -> None:
    pipelines = config["service"]["pipelines"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    (traces,) = pipelines["traces"]["exporters"]
    assert _type(traces) == "otlp_grpc"
    assert config["exporters"][traces]["endpoint"].startswith("jaeger:")
    assert [_type(e) for e in pipelines["logs"]["exporters"]] == ["debug"]


def test_current_component_names_and_options_are_used(config: dict) -> None:
    for section in SECTIONS:
        for component in config.get(section) or {}:
            if section == "exporters":
                assert _type(component) not in DEPRECATED_COMPONENTS, component
    prometheus = config["exporters"]["prometheus"]
    assert "resource_to_telemetry_conversion" not in prometheus
    assert prometheus["resource_constant_labels"]["included"]
    assert prometheus["enable_open_metrics"] is True  # exemplars need OpenMetrics
    assert "batch" not in (config.get("processors") or {})  # batching lives in the exporter
    (traces,) = config["service"]["pipelines"]["traces"]["exporters"]
    assert "batch" in config["exporters"][traces]["sending_queue"]


def test_otlp_receiver_listens_on_4317_and_4318(config: dict) -> None:
    protocols = config["receivers"]["otlp"]["protocols"]
    assert _port(protocols["grpc"]["endpoint"]) == "4317"
    assert _port(protocols["http"]["endpoint"]) == "4318"


def test_collector_ports_match_the_compose_service(
    config: dict, compose_services: dict[str, dict]
) -> None:
    service = compose_services["otel-collector"]
    published = {port.split(":")[-1] for port in service["ports"]}
    protocols = config["receivers"]["otlp"]["protocols"]
    assert {_port(protocols["grpc"]["endpoint"]), _port(protocols["http"]["endpoint"])} <= published
    assert _port(config["extensions"]["health_check"]["endpoint"]) in published


def test_exporter_hostnames_are_compose_services_listening_on_otlp(
    config: dict, compose_services: dict[str, dict]
) -> None:
    for component, settings in config["exporters"].items():
        endpoint = settings.get("endpoint") if isinstance(settings, dict) else None
        if not endpoint or endpoint.startswith("0.0.0.0"):
            continue
        host, port = endpoint.rsplit(":", 1)
        assert host in compose_services, component
        # Jaeger v2 receives OTLP on the standard ports.
        assert (host, port) == ("jaeger", "4317"), component


def test_compose_mounts_this_config_where_the_command_reads_it(
    compose_services: dict[str, dict],
) -> None:
    service = compose_services["otel-collector"]
    mounts = dict(volume_mounts(service))
    (flag,) = [arg for arg in service["command"] if arg.startswith("--config=")]
    assert mounts["./collector/config.yaml"] == flag.removeprefix("--config=")


def test_header_names_the_image_release_compose_pins(compose_services: dict[str, dict]) -> None:
    image = compose_services["otel-collector"]["image"]
    assert image.startswith("otel/opentelemetry-collector-contrib:")
    header = COLLECTOR_CONFIG.read_text().split("\n\n", 1)[0]
    assert re.search(re.escape(image), header), header
