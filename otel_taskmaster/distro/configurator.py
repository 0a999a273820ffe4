"""The configurator: the SDK's own setup first, then the parts this distro adds."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import Meter
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED
from opentelemetry.sdk.trace import TracerProvider

from otel_taskmaster.config import Settings
from otel_taskmaster.distro import export_errors
from otel_taskmaster.health.model_probe import ModelProbe
from otel_taskmaster.logs.json_format import JsonFormatter
from otel_taskmaster.version import __version__

_logger = logging.getLogger(__name__)
SCOPE_NAME = "otel_taskmaster"
# Our loggers: request logs, drift events. Their records go to stderr as JSON and, through
# the SDK's logging handler on the root logger, out over OTLP.
PACKAGE_LOGGER = "otel_taskmaster"


class TaskMasterConfigurator(_OTelSDKConfigurator):
    """Extends the SDK configurator with quality scoring, the model probe, JSON logs and
    once-only export error reports."""

    def _configure(self, **kwargs: Any) -> None:
        super()._configure(**kwargs)
        if os.environ.get(OTEL_SDK_DISABLED, "").strip().lower() == "true":
            return
        configure_extras(Settings.from_env())


def configure_extras(settings: Settings) -> None:
    """Adds our parts to the global providers the SDK configurator just installed.

    Each part starts on its own: one failing is reported and never takes the app down.
    """
    meter = metrics.get_meter(SCOPE_NAME, __version__)
    for part in (_install_export_errors, _configure_logging, _start_model_probe, _add_quality):
        try:
            part(settings, meter)
        except Exception:
            _logger.warning("otel-taskmaster: %s failed", part.__name__, exc_info=True)


def _install_export_errors(settings: Settings, meter: Meter) -> None:
    export_errors.install(meter)


def _start_model_probe(settings: Settings, meter: Meter) -> None:
    if settings.model_probe_interval > 0:
        probe = ModelProbe(settings.ollama_base_url, settings.model, settings.model_probe_interval)
        probe.register(meter)
        probe.start()


def _add_quality(settings: Settings, meter: Meter) -> None:
    tracer_provider = trace.get_tracer_provider()
    if settings.quality_enabled and isinstance(tracer_provider, TracerProvider):
        from otel_taskmaster.distro.quality_setup import build_quality_processor
        from otel_taskmaster.instrumentation.ollama.hooks import set_default_ending_hook

        processor = build_quality_processor(settings)
        tracer_provider.add_span_processor(processor)
        # Scored while the call's span is still open: the scores and their events go on that
        # span, where the GenAI conventions want them, and no evaluate child span is needed.
        set_default_ending_hook(processor.score_ending)


def _configure_logging(settings: Settings, meter: Meter) -> None:
    package_logger = logging.getLogger(PACKAGE_LOGGER)
    if package_logger.level == logging.NOTSET:
        package_logger.setLevel(logging.INFO)
    if settings.log_format == "json" and not any(
        isinstance(h.formatter, JsonFormatter) for h in package_logger.handlers
    ):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(service=_service_name()))
        package_logger.addHandler(handler)


def _service_name() -> str:
    resource = getattr(trace.get_tracer_provider(), "resource", None)
    name = resource.attributes.get("service.name") if resource is not None else None
    return str(name) if name else "taskmaster"
