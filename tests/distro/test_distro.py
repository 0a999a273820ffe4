"""The distro only sets defaults; every OTEL_* value the user sets wins."""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from unittest import mock

import pytest

from otel_taskmaster.distro import TaskMasterDistro

EXPECTED_DEFAULTS = {
    "OTEL_SERVICE_NAME": "taskmaster",
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "otlp_prometheus",
    "OTEL_LOGS_EXPORTER": "otlp",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_EXPORTER_PROMETHEUS_HOST": "localhost",
    "OTEL_EXPORTER_PROMETHEUS_PORT": "9464",
    "OTEL_METRIC_EXPORT_INTERVAL": "15000",
}


@mock.patch.dict("os.environ", {}, clear=True)
def test_default_configuration_sets_every_default_by_value() -> None:
    TaskMasterDistro().configure()
    assert dict(os.environ) == EXPECTED_DEFAULTS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_TRACES_EXPORTER", "console"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"),
        ("OTEL_SERVICE_NAME", "checkout"),
    ],
)
def test_user_configured_otel_variable_wins(name: str, value: str) -> None:
    with mock.patch.dict("os.environ", {name: value}, clear=True):
        TaskMasterDistro().configure()
        assert os.environ[name] == value


def test_package_registers_distro_configurator_and_instrumentor_entry_points() -> None:
    def names(group: str) -> dict[str, str]:
        return {ep.name: ep.value for ep in entry_points(group=group)}

    assert names("opentelemetry_distro")["taskmaster"] == "otel_taskmaster.distro:TaskMasterDistro"
    assert (
        names("opentelemetry_configurator")["taskmaster"]
        == "otel_taskmaster.distro.configurator:TaskMasterConfigurator"
    )
    assert (
        names("opentelemetry_instrumentor")["ollama_http"]
        == "otel_taskmaster.instrumentation.ollama:OllamaInstrumentor"
    )
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts["otel-taskmaster"] == "otel_taskmaster.cli.main:main"


def _openllmetry_entry_point():  # type: ignore[no-untyped-def]
    (found,) = [
        ep
        for ep in entry_points(group="opentelemetry_instrumentor")
        if ep.name == "ollama" and ep.value.startswith("opentelemetry.instrumentation.ollama")
    ]
    return found


@mock.patch.dict("os.environ", {}, clear=True)
def test_distro_skips_openllmetry_ollama_instrumentor_by_default() -> None:
    entry_point = _openllmetry_entry_point()
    with mock.patch(
        "opentelemetry.instrumentation.distro.BaseDistro.load_instrumentor"
    ) as load_instrumentor:
        TaskMasterDistro().load_instrumentor(entry_point, skip_dep_check=True)
    load_instrumentor.assert_not_called()


@mock.patch.dict("os.environ", {"TASKMASTER_SKIP_INSTRUMENTORS": ""}, clear=True)
def test_distro_loads_openllmetry_when_skip_list_is_emptied() -> None:
    entry_point = _openllmetry_entry_point()
    with mock.patch(
        "opentelemetry.instrumentation.distro.BaseDistro.load_instrumentor"
    ) as load_instrumentor:
        TaskMasterDistro().load_instrumentor(entry_point, skip_dep_check=True)
    load_instrumentor.assert_called_once()
