"""Every environment variable the distro reads, with its meaning and default.

Only :mod:`otel_taskmaster.config` and :mod:`otel_taskmaster.distro` read the environment;
everything else gets a :class:`~otel_taskmaster.config.Settings` passed in.
"""

from __future__ import annotations

from typing import Final

OLLAMA_HOST: Final = "OLLAMA_HOST"
"""
Where Ollama listens, as the ``ollama`` client reads it (``host``, ``host:port`` or a URL).
Requests to this host are instrumented.
Default: ``http://127.0.0.1:11434``
"""

TASKMASTER_OLLAMA_HOSTS: Final = "TASKMASTER_OLLAMA_HOSTS"
"""
More Ollama servers to instrument, comma-separated ``host:port`` entries (``*`` = any host
that serves an Ollama API path).
Default: empty (only ``OLLAMA_HOST``, plus ``localhost``/``127.0.0.1`` on its port)
"""

TASKMASTER_MODEL: Final = "TASKMASTER_MODEL"
"""
The model the example app asks for and the model probe looks for.
Default: ``llama3.2``
"""

TASKMASTER_SUPPRESS_HTTP_SPANS: Final = "TASKMASTER_SUPPRESS_HTTP_SPANS"
"""
``true`` hides the HTTP client span (from ``opentelemetry-instrumentation-httpx``) under each
GenAI span, leaving one span per LLM call.
Default: ``false``
"""

OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: Final = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
)
"""
``true`` records prompt and response text on GenAI spans (standard OTel GenAI variable).
Default: ``false``
"""

TASKMASTER_SKIP_INSTRUMENTORS: Final = "TASKMASTER_SKIP_INSTRUMENTORS"
"""
Instrumentor entry points (comma-separated) that ``opentelemetry-instrument`` does not load
under this distro because they would make a second GenAI span for the same Ollama call
(``ollama`` is OpenLLMetry's). Set it empty to load them anyway.
Default: ``ollama``
"""

TASKMASTER_CAPTURE_CONTENT_MAX_LENGTH: Final = "TASKMASTER_CAPTURE_CONTENT_MAX_LENGTH"
"""
With content capture on, the most characters of prompt or response text kept per span.
Default: ``4096``
"""

TASKMASTER_MAX_MODELS: Final = "TASKMASTER_MAX_MODELS"
"""
Distinct model names used as metric labels; later models are reported as ``_other`` so
label sets stay bounded.
Default: ``20``
"""

TASKMASTER_FEATURE_MAX_CHARS: Final = "TASKMASTER_FEATURE_MAX_CHARS"
"""
Response characters kept (in memory, never exported) to compute repetition and structure
features; longer answers are measured on their first this-many characters.
Default: ``32768``
"""

TASKMASTER_MODEL_PROBE_INTERVAL: Final = "TASKMASTER_MODEL_PROBE_INTERVAL"
"""
Seconds between background probes of Ollama's ``/api/tags`` and ``/api/ps`` that set
``taskmaster_model_loaded``; ``0`` turns the probe off.
Default: ``15``
"""

TASKMASTER_LOG_FORMAT: Final = "TASKMASTER_LOG_FORMAT"
"""
How request logs are written to stderr: ``json`` (one JSON object per line), or ``off``
(OTLP only).
Default: ``json``
"""

TASKMASTER_QUALITY_ENABLED: Final = "TASKMASTER_QUALITY_ENABLED"
"""
``false`` turns off the quality-scoring span processor (and with it drift detection).
Default: ``true``
"""

TASKMASTER_QUALITY_CONFIG: Final = "TASKMASTER_QUALITY_CONFIG"
"""
Path to a TOML file with scoring bands, weights and checks; missing keys keep the defaults.
Default: empty (the seed's bands and weights)
"""

TASKMASTER_EVALUATION_EVENTS: Final = "TASKMASTER_EVALUATION_EVENTS"
"""
Where the ``gen_ai.evaluation.result`` events (one per score) go: ``span`` (span events on
the scored call's span, shown by Jaeger), ``log`` (OTel log
records on the scored span's context, for a logs back end), ``both``, or ``off``. Each log
record costs about as much CPU as a whole small span (record, batch queue, OTLP encoding);
five per answer made ``log`` the dearest part of scoring.
Default: ``span``
"""

TASKMASTER_DRIFT_ENABLED: Final = "TASKMASTER_DRIFT_ENABLED"
"""
``false`` turns off drift detection on quality scores.
Default: ``true``
"""

TASKMASTER_DRIFT_BASELINE: Final = "TASKMASTER_DRIFT_BASELINE"
"""
Path to a JSON baseline written by ``otel-taskmaster baseline fit``.
Default: empty (the seed's baseline means)
"""
