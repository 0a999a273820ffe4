"""Settings are read once from the environment; bad values fall back with a warning."""

from __future__ import annotations

import logging

import pytest

from otel_taskmaster.config import Settings, normalize_ollama_url


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.ollama_base_url == "http://127.0.0.1:11434"
    assert ("localhost", 11434) in settings.ollama_endpoints
    assert settings.capture_content is False
    assert settings.skip_instrumentors == frozenset({"ollama"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("ollama:11434", "http://ollama:11434"),
        ("https://gpu.example.internal", "https://gpu.example.internal:443"),
        ("http://[::1]:9999", "http://[::1]:9999"),
        ("127.0.0.1:11500", "http://127.0.0.1:11500"),
    ],
)
def test_ollama_host_is_read_like_the_ollama_client_reads_it(raw: str, expected: str) -> None:
    assert normalize_ollama_url(raw) == expected


def test_extra_ollama_hosts_are_instrumented_too() -> None:
    settings = Settings.from_env(
        {"OLLAMA_HOST": "gpu1:11434", "TASKMASTER_OLLAMA_HOSTS": "gpu2:8080, gpu3"}
    )
    assert settings.ollama_endpoints == frozenset(
        {("gpu1", 11434), ("gpu2", 8080), ("gpu3", 11434)}
    )


def test_every_setting_can_be_overridden() -> None:
    settings = Settings.from_env(
        {
            "TASKMASTER_MODEL": "qwen3:4b",
            "TASKMASTER_SUPPRESS_HTTP_SPANS": "true",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "TRUE",
            "TASKMASTER_CAPTURE_CONTENT_MAX_LENGTH": "100",
            "TASKMASTER_MAX_MODELS": "3",
            "TASKMASTER_FEATURE_MAX_CHARS": "1000",
            "TASKMASTER_MODEL_PROBE_INTERVAL": "0",
            "TASKMASTER_LOG_FORMAT": "off",
            "TASKMASTER_QUALITY_ENABLED": "false",
            "TASKMASTER_QUALITY_CONFIG": "/etc/q.toml",
            "TASKMASTER_EVALUATION_EVENTS": "both",
            "TASKMASTER_DRIFT_ENABLED": "no",
            "TASKMASTER_DRIFT_BASELINE": "/etc/b.json",
            "TASKMASTER_SKIP_INSTRUMENTORS": "ollama, openai_v2",
        }
    )
    assert settings.model == "qwen3:4b"
    assert settings.suppress_http_spans is True
    assert settings.capture_content is True
    assert settings.capture_content_max_length == 100
    assert settings.max_models == 3
    assert settings.feature_max_chars == 1000
    assert settings.model_probe_interval == 0.0
    assert settings.log_format == "off"
    assert settings.quality_enabled is False
    assert settings.quality_config_path == "/etc/q.toml"
    assert settings.evaluation_events == "both"
    assert settings.drift_enabled is False
    assert settings.drift_baseline_path == "/etc/b.json"
    assert settings.skip_instrumentors == frozenset({"ollama", "openai_v2"})


@pytest.mark.parametrize(
    ("name", "value", "field", "default"),
    [
        ("TASKMASTER_SUPPRESS_HTTP_SPANS", "maybe", "suppress_http_spans", False),
        ("TASKMASTER_MAX_MODELS", "-4", "max_models", 20),
        ("TASKMASTER_MAX_MODELS", "many", "max_models", 20),
        ("TASKMASTER_MODEL_PROBE_INTERVAL", "soon", "model_probe_interval", 15.0),
        ("TASKMASTER_LOG_FORMAT", "xml", "log_format", "json"),
    ],
)
def test_bad_value_falls_back_to_default_and_says_so(
    name: str, value: str, field: str, default: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_taskmaster.config"):
        settings = Settings.from_env({name: value})
    assert getattr(settings, field) == default
    assert name in caplog.text


def test_sdk_disabled_is_read_from_the_standard_variable() -> None:
    assert Settings.from_env({"OTEL_SDK_DISABLED": "true"}).sdk_disabled is True
    assert Settings.from_env({}).sdk_disabled is False
