"""Every attribute name, metric name, unit and bucket list the distro emits.

GenAI names follow the OpenTelemetry GenAI semantic conventions. The ``taskmaster_*``
instrument names are chosen so that the Prometheus exporter (which appends ``_total`` to
counters and a unit suffix such as ``_seconds``) exposes exactly the seed design's names.
"""

from __future__ import annotations

from typing import Final

# --- GenAI semantic-convention attributes -------------------------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"
GEN_AI_EVALUATION_RESULT_EVENT: Final = "gen_ai.evaluation.result"
# Written by other GenAI instrumentations (older semconv); used to spot their spans.
GEN_AI_SYSTEM: Final = "gen_ai.system"

SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"

PROVIDER_OLLAMA: Final = "ollama"
OPERATION_CHAT: Final = "chat"
OPERATION_TEXT_COMPLETION: Final = "text_completion"
OPERATION_EMBEDDINGS: Final = "embeddings"

# --- Ollama's own measurements (server side, converted from ns to seconds) ----------------

OLLAMA_TOTAL_DURATION: Final = "ollama.total_duration"
OLLAMA_LOAD_DURATION: Final = "ollama.load_duration"
OLLAMA_PROMPT_EVAL_DURATION: Final = "ollama.prompt_eval_duration"
OLLAMA_EVAL_DURATION: Final = "ollama.eval_duration"
OLLAMA_TIME_PER_OUTPUT_TOKEN: Final = "ollama.time_per_output_token"
OLLAMA_TOOL_CALL_COUNT: Final = "ollama.response.tool_calls"
OLLAMA_API_PATH: Final = "ollama.api.path"

# --- Numeric response features (no text), read by the quality processor ------------------

FEATURE_PREFIX: Final = "taskmaster.response."
FEATURE_CHARS: Final = "taskmaster.response.chars"
FEATURE_WORDS: Final = "taskmaster.response.words"
FEATURE_UNIQUE_WORD_RATIO: Final = "taskmaster.response.unique_word_ratio"
FEATURE_NGRAM_REPETITION: Final = "taskmaster.response.ngram_repetition"
FEATURE_COMPRESSION_RATIO: Final = "taskmaster.response.compression_ratio"
FEATURE_STRUCTURE_MARKERS: Final = "taskmaster.response.structure_markers"
FEATURE_REFUSAL: Final = "taskmaster.response.refusal"
FEATURE_PROMPT_CHARS: Final = "taskmaster.request.prompt_chars"
# Scores on the scored call's span (or its evaluate child span): taskmaster.quality.<dimension>
# (float) and taskmaster.quality.check.<check> (bool).
QUALITY_SCORE_PREFIX: Final = "taskmaster.quality."
QUALITY_CHECK_PREFIX: Final = "taskmaster.quality.check."
# done_reason itself travels as gen_ai.response.finish_reasons.

TASKMASTER_ENDPOINT: Final = "taskmaster.endpoint"
TASKMASTER_REQUEST_ID: Final = "taskmaster.request_id"
# The app stopped reading a stream before its end (break, close(), garbage collection).
TASKMASTER_STREAM_ABANDONED: Final = "taskmaster.stream.abandoned"

# --- Metric attribute (label) names ---------------------------------------------------------

LABEL_ENDPOINT: Final = "endpoint"
LABEL_STATUS: Final = "status"
LABEL_MODEL: Final = "model"
LABEL_DIMENSION: Final = "dimension"
LABEL_METRIC: Final = "metric"
LABEL_SEVERITY: Final = "severity"
LABEL_COMPONENT: Final = "component"
LABEL_SIGNAL: Final = "signal"

STATUS_SUCCESS: Final = "success"
STATUS_ERROR: Final = "error"

# --- The seed's metrics (instrument name -> exposed Prometheus name) -------------------------

TASKMASTER_REQUESTS: Final = "taskmaster_requests"  # -> taskmaster_requests_total
TASKMASTER_REQUEST_LATENCY: Final = "taskmaster_request_latency"  # -> ..._seconds
TASKMASTER_TOKENS_INPUT: Final = "taskmaster_tokens_input"  # -> ..._total
TASKMASTER_TOKENS_OUTPUT: Final = "taskmaster_tokens_output"  # -> ..._total
TASKMASTER_RESPONSE_LENGTH: Final = "taskmaster_response_length_chars"
TASKMASTER_MODEL_LOADED: Final = "taskmaster_model_loaded"
TASKMASTER_LAST_SUCCESS: Final = "taskmaster_last_successful_request_timestamp"
TASKMASTER_QUALITY_SCORE: Final = "taskmaster_quality_score"

# --- Metrics this project adds --------------------------------------------------------------

TASKMASTER_RESPONSE_QUALITY: Final = "taskmaster_response_quality"  # histogram per dimension
TASKMASTER_DRIFT_STATUS: Final = "taskmaster_drift_status"  # 0 ok, 1 warning, 2 critical
TASKMASTER_DRIFT_STATISTIC: Final = "taskmaster_drift_statistic"  # detector statistic / h
TASKMASTER_DRIFT_ALERTS: Final = "taskmaster_drift_alerts"  # -> taskmaster_drift_alerts_total
TASKMASTER_INSTRUMENTATION_ERRORS: Final = "taskmaster_instrumentation_errors"  # -> _total
TASKMASTER_EXPORT_FAILURES: Final = "taskmaster_telemetry_export_failures"  # -> _total

# --- GenAI semconv metrics --------------------------------------------------------------------

GEN_AI_CLIENT_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
GEN_AI_CLIENT_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"
GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN: Final = "gen_ai.server.time_per_output_token"

# --- Units ------------------------------------------------------------------------------------

UNIT_SECONDS: Final = "s"
UNIT_TOKEN: Final = "{token}"
UNIT_REQUEST: Final = "{request}"
UNIT_CHAR: Final = "{char}"
UNIT_ERROR: Final = "{error}"
UNIT_ALERT: Final = "{alert}"
UNIT_SCORE: Final = "1"

# --- Buckets ---------------------------------------------------------------------------------

# The seed's buckets, kept so its PromQL and dashboards read the same.
SEED_LATENCY_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEED_RESPONSE_LENGTH_BUCKETS: Final = (50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)
# GenAI semconv bucket advice.
GEN_AI_DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
GEN_AI_TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
GEN_AI_PER_TOKEN_BUCKETS: Final = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
)  # fmt: skip
QUALITY_SCORE_BUCKETS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
