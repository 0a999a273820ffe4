"""Every instrument the Ollama instrumentor and ``monitor_request`` record, created once."""

from __future__ import annotations

from opentelemetry.metrics import Meter

from otel_taskmaster import semconv as sc


class Instruments:
    """The GenAI semconv metrics and the seed's ``taskmaster_*`` metrics, with explicit buckets."""

    def __init__(self, meter: Meter) -> None:
        # GenAI semantic conventions.
        self.operation_duration = meter.create_histogram(
            sc.GEN_AI_CLIENT_OPERATION_DURATION,
            unit=sc.UNIT_SECONDS,
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            sc.GEN_AI_CLIENT_TOKEN_USAGE,
            unit=sc.UNIT_TOKEN,
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_TOKEN_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            sc.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time from request start to the first streamed response chunk",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_DURATION_BUCKETS,
        )
        self.time_per_output_chunk = meter.create_histogram(
            sc.GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time between streamed response chunks after the first",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_PER_TOKEN_BUCKETS,
        )
        self.server_time_per_output_token = meter.create_histogram(
            sc.GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN,
            unit=sc.UNIT_SECONDS,
            description="Ollama's eval_duration divided by eval_count",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_PER_TOKEN_BUCKETS,
        )
        # The seed's names; see semconv.py for the exposed Prometheus names.
        self.requests = meter.create_counter(
            sc.TASKMASTER_REQUESTS, unit=sc.UNIT_REQUEST, description="Total requests to TaskMaster"
        )
        self.request_latency = meter.create_histogram(
            sc.TASKMASTER_REQUEST_LATENCY,
            unit=sc.UNIT_SECONDS,
            description="Request latency in seconds",
            explicit_bucket_boundaries_advisory=sc.SEED_LATENCY_BUCKETS,
        )
        self.tokens_input = meter.create_counter(
            sc.TASKMASTER_TOKENS_INPUT,
            unit=sc.UNIT_TOKEN,
            description="Total input tokens processed",
        )
        self.tokens_output = meter.create_counter(
            sc.TASKMASTER_TOKENS_OUTPUT,
            unit=sc.UNIT_TOKEN,
            description="Total output tokens generated",
        )
        self.response_length = meter.create_histogram(
            sc.TASKMASTER_RESPONSE_LENGTH,
            unit=sc.UNIT_CHAR,
            description="Response length in characters",
            explicit_bucket_boundaries_advisory=sc.SEED_RESPONSE_LENGTH_BUCKETS,
        )
        # No unit: "s" would make the exporter append _seconds to the seed's name.
        self.last_success = meter.create_gauge(
            sc.TASKMASTER_LAST_SUCCESS,
            description="Unix time of the last successful request",
        )
        self._endpoints_seen: set[str] = set()
        self.instrumentation_errors = meter.create_counter(
            sc.TASKMASTER_INSTRUMENTATION_ERRORS,
            unit=sc.UNIT_ERROR,
            description="Errors inside the instrumentation, caught and not raised into the app",
        )

    def count_request(self, endpoint: str, status: str) -> None:
        """Adds one to ``taskmaster_requests``; the first time an endpoint is seen, both of
        its status series start at 0, so ``rate()`` sees the first error too (a series that
        appears already at 1 has no increase to measure)."""
        if endpoint not in self._endpoints_seen:
            self._endpoints_seen.add(endpoint)
            for each in (sc.STATUS_SUCCESS, sc.STATUS_ERROR):
                self.requests.add(0, {sc.LABEL_ENDPOINT: endpoint, sc.LABEL_STATUS: each})
        self.requests.add(1, {sc.LABEL_ENDPOINT: endpoint, sc.LABEL_STATUS: status})
