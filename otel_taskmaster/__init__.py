"""otel-taskmaster: an OpenTelemetry distro for Python services that serve an LLM through Ollama.

Importing the package is cheap: every instrumented process imports it, so the public names
below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from otel_taskmaster.version import __version__

if TYPE_CHECKING:
    from otel_taskmaster.alerts.rules import AlertRule
    from otel_taskmaster.config import Settings
    from otel_taskmaster.drift import Baseline, DriftAlert, DriftDetector, DriftMonitor
    from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
    from otel_taskmaster.manual.monitor import monitor_request
    from otel_taskmaster.quality import QualityScorer, QualitySpanProcessor

# public name -> module that defines it
_LAZY = {
    "AlertRule": "otel_taskmaster.alerts.rules",
    "Baseline": "otel_taskmaster.drift",
    "DriftAlert": "otel_taskmaster.drift",
    "DriftDetector": "otel_taskmaster.drift",
    "DriftMonitor": "otel_taskmaster.drift",
    "OllamaInstrumentor": "otel_taskmaster.instrumentation.ollama",
    "QualityScorer": "otel_taskmaster.quality",
    "QualitySpanProcessor": "otel_taskmaster.quality",
    "Settings": "otel_taskmaster.config",
    "monitor_request": "otel_taskmaster.manual.monitor",
}

__all__ = [
    "AlertRule",
    "Baseline",
    "DriftAlert",
    "DriftDetector",
    "DriftMonitor",
    "OllamaInstrumentor",
    "QualityScorer",
    "QualitySpanProcessor",
    "Settings",
    "__version__",
    "monitor_request",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'otel_taskmaster' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
