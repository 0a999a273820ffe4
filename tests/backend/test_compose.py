"""docker-compose.yml: valid against the Compose Specification, pinned, wired consistently."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from backend_sources import (
    ALERTMANAGER_CONFIG,
    COMPOSE_FILE,
    PROMETHEUS_CONFIG,
    PROVISIONING_DIR,
    REPO_ROOT,
    load_yaml,
    volume_mounts,
)

from tests.support.prometheus import PROMTOOL_BINARY

_ENV_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(:-[^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def schema(compose_schema_path: Path) -> dict:
    """The Compose Specification schema as the ``dclint`` npm package ships it."""
    return json.loads(compose_schema_path.read_text())


def test_compose_file_validates_against_the_compose_specification(
    compose: dict, schema: dict
) -> None:
    assert schema["title"] == "Compose Specification"
    jsonschema.Draft7Validator(schema).validate(compose)


def test_the_schema_check_rejects_an_invalid_service(compose: dict, schema: dict) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["prometheus"]["depends_on"] = 5
    broken["services"]["grafana"]["portz"] = ["3000"]
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    assert len(errors) == 2


def test_the_stack_has_every_back_end_service(services: dict[str, dict]) -> None:
    assert set(services) == {
        "otel-collector",
        "jaeger",
        "prometheus",
        "alertmanager",
        "grafana",
        "taskmaster",
        "ollama-simulator",
        "ollama",
        "traffic",
    }


def test_every_image_is_pinned_to_a_version(services: dict[str, dict]) -> None:
    built_here = {s["image"] for s in services.values() if "build" in s}
    for name, service in services.items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", name
        if image not in built_here:
            assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), (name, image)


def test_every_published_port_binds_loopback_only(services: dict[str, dict]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_bind_mounts_and_build_files_exist(services: dict[str, dict]) -> None:
    for name, service in services.items():
        for source, _ in volume_mounts(service):
            if source.startswith("."):
                assert (REPO_ROOT / source).exists(), (name, source)
        if "build" in service:
            build = service["build"]
            assert (REPO_ROOT / build["context"] / build["dockerfile"]).is_file(), name


def test_no_secrets_in_the_compose_file(services: dict[str, dict]) -> None:
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", key):
                assert _ENV_REFERENCE.match(str(value)), (name, key)


def test_simulator_is_the_default_llm_and_real_ollama_sits_behind_a_profile(
    services: dict[str, dict],
) -> None:
    assert services["ollama"]["profiles"] == ["ollama"]
    assert services["ollama"]["image"].startswith("ollama/ollama:")
    simulator = services["ollama-simulator"]
    assert "profiles" not in simulator
    assert simulator["command"][:2] == ["otel-taskmaster", "simulate"]
    command = simulator["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    sim_port = command[command.index("--port") + 1]
    app_env = services["taskmaster"]["environment"]
    default_url = re.fullmatch(r"\$\{TASKMASTER_OLLAMA_URL:-(.+)\}", app_env["OLLAMA_HOST"])
    assert default_url is not None
    target = urlsplit(default_url.group(1))
    assert (target.hostname, str(target.port)) == ("ollama-simulator", sim_port)
    assert "ollama-simulator" in services["taskmaster"]["depends_on"]


def test_app_runs_under_opentelemetry_instrument_and_sends_otlp_to_the_collector(
    services: dict[str, dict],
) -> None:
    app = services["taskmaster"]
    assert app["command"][0] == "opentelemetry-instrument"
    endpoint = urlsplit(app["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == "otel-collector" and endpoint.hostname in services
    collector = load_yaml(REPO_ROOT / "collector" / "config.yaml")
    http = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert http.endswith(f":{endpoint.port}")
    assert app["environment"]["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"


def test_prometheus_targets_are_compose_services_on_the_right_ports(
    services: dict[str, dict],
) -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    collector = load_yaml(REPO_ROOT / "collector" / "config.yaml")
    exporter_port = collector["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    telemetry = collector["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    known = {
        ("otel-collector", exporter_port),
        ("otel-collector", str(telemetry["prometheus"]["port"])),
        ("alertmanager", "9093"),
        ("localhost", "9090"),
    }
    targets = {
        tuple(target.rsplit(":", 1))
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert targets == known
    (alerting,) = config["alerting"]["alertmanagers"]
    assert alerting["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert all(host in services for host, _ in targets if host != "localhost")


def test_prometheus_loads_the_rules_directory_the_compose_file_mounts(
    services: dict[str, dict],
) -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    mounts = dict(volume_mounts(services["prometheus"]))
    assert mounts["./prometheus/rules"] == "/etc/prometheus/rules"
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    assert mounts["./prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    assert "--enable-feature=exemplar-storage" in services["prometheus"]["command"]


def test_prometheus_config_passes_promtool() -> None:
    result = subprocess.run(
        [PROMTOOL_BINARY, "check", "config", "--syntax-only", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_passes_amtool_and_is_mounted(
    services: dict[str, dict], amtool: Path
) -> None:
    result = subprocess.run(
        [str(amtool), "check-config", str(ALERTMANAGER_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    mounts = dict(volume_mounts(services["alertmanager"]))
    assert mounts["./alertmanager/alertmanager.yml"] == "/etc/alertmanager/alertmanager.yml"


def test_grafana_datasources_point_at_compose_services(services: dict[str, dict]) -> None:
    provisioned = load_yaml(PROVISIONING_DIR / "datasources" / "datasources.yml")
    ports = {"prometheus": 9090, "jaeger": 16686}
    for datasource in provisioned["datasources"]:
        url = urlsplit(datasource["url"])
        assert url.hostname in services
        assert url.port == ports[url.hostname]
    published = {p.split(":")[-1] for p in services["jaeger"]["ports"]}
    assert "16686" in published
