"""Reads the environment once into a frozen :class:`Settings`."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from otel_taskmaster import environment_variables as env

_logger = logging.getLogger(__name__)

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass(frozen=True)
class Settings:
    """Everything the distro is told by ``TASKMASTER_*`` and the GenAI ``OTEL_*`` variables."""

    # OTEL_SDK_DISABLED: the SDK makes no telemetry, so we patch nothing either.
    sdk_disabled: bool = False
    ollama_base_url: str = DEFAULT_OLLAMA_HOST
    # (host, port) pairs whose Ollama API paths are instrumented; ("*", 0) matches any host.
    ollama_endpoints: frozenset[tuple[str, int]] = field(
        default_factory=lambda: _endpoints(DEFAULT_OLLAMA_HOST, "")
    )
    model: str = "llama3.2"
    suppress_http_spans: bool = False
    # Entry points of instrumentors that would duplicate our GenAI spans (OpenLLMetry's).
    skip_instrumentors: frozenset[str] = frozenset({"ollama"})
    capture_content: bool = False
    capture_content_max_length: int = 4096
    max_models: int = 20
    feature_max_chars: int = 32768
    model_probe_interval: float = 15.0
    log_format: str = "json"
    quality_enabled: bool = True
    quality_config_path: str | None = None
    evaluation_events: str = "span"
    drift_enabled: bool = True
    drift_baseline_path: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Builds settings from ``environ`` (default ``os.environ``); bad values fall back."""
        environ = os.environ if environ is None else environ
        base_url = normalize_ollama_url(environ.get(env.OLLAMA_HOST, "") or DEFAULT_OLLAMA_HOST)
        return cls(
            sdk_disabled=_bool(environ, "OTEL_SDK_DISABLED", False),
            ollama_base_url=base_url,
            ollama_endpoints=_endpoints(base_url, environ.get(env.TASKMASTER_OLLAMA_HOSTS, "")),
            model=environ.get(env.TASKMASTER_MODEL, "").strip() or cls.model,
            suppress_http_spans=_bool(environ, env.TASKMASTER_SUPPRESS_HTTP_SPANS, False),
            skip_instrumentors=_names(environ, env.TASKMASTER_SKIP_INSTRUMENTORS, "ollama"),
            capture_content=_bool(
                environ, env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, False
            ),
            capture_content_max_length=_int(
                environ, env.TASKMASTER_CAPTURE_CONTENT_MAX_LENGTH, 4096
            ),
            max_models=_int(environ, env.TASKMASTER_MAX_MODELS, 20),
            feature_max_chars=_int(environ, env.TASKMASTER_FEATURE_MAX_CHARS, 32768),
            model_probe_interval=_float(environ, env.TASKMASTER_MODEL_PROBE_INTERVAL, 15.0),
            log_format=_choice(environ, env.TASKMASTER_LOG_FORMAT, ("json", "off"), "json"),
            quality_enabled=_bool(environ, env.TASKMASTER_QUALITY_ENABLED, True),
            quality_config_path=environ.get(env.TASKMASTER_QUALITY_CONFIG) or None,
            evaluation_events=_choice(
                environ, env.TASKMASTER_EVALUATION_EVENTS, ("span", "log", "both", "off"), "span"
            ),
            drift_enabled=_bool(environ, env.TASKMASTER_DRIFT_ENABLED, True),
            drift_baseline_path=environ.get(env.TASKMASTER_DRIFT_BASELINE) or None,
        )


def normalize_ollama_url(value: str) -> str:
    """Turns an ``OLLAMA_HOST`` value into a base URL, the way the ``ollama`` client does."""
    value = value.strip()
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    host = parts.hostname or "127.0.0.1"
    if host == "0.0.0.0":
        host = "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 11434)
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


def _endpoints(base_url: str, extra: str) -> frozenset[tuple[str, int]]:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 11434
    found = {(host, port)}
    if host in _LOOPBACK_NAMES:
        found.update((name, port) for name in _LOOPBACK_NAMES)
    for item in extra.split(","):
        item = item.strip()
        if not item:
            continue
        if item == "*":
            found.add(("*", 0))
            continue
        url = urlsplit(item if "://" in item else "http://" + item)
        try:
            item_port = url.port or 11434
        except ValueError:
            _logger.warning("%s: ignoring %r (bad port)", env.TASKMASTER_OLLAMA_HOSTS, item)
            continue
        if url.hostname:
            found.add((url.hostname, item_port))
    return frozenset(found)


def _names(environ: Mapping[str, str], name: str, default: str) -> frozenset[str]:
    raw = environ.get(name, default)
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    _logger.warning("%s=%r is not a boolean; using %s", name, raw, default)
    return default


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        _logger.warning("%s=%r is not a non-negative integer; using %s", name, raw, default)
        return default
    return value


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        _logger.warning("%s=%r is not a non-negative number; using %s", name, raw, default)
        return default
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        _logger.warning("%s=%r is not one of %s; using %s", name, raw, choices, default)
        return default
    return raw
