"""otel-taskmaster: an OpenTelemetry distro for Python services that serve an LLM through Ollama."""

from otel_taskmaster.manual.monitor import monitor_request
from otel_taskmaster.version import __version__

__all__ = ["__version__", "monitor_request"]
