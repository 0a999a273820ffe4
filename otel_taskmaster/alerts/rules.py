"""Prometheus alerting and recording rules, defined once in Python.

``otel-taskmaster rules`` writes them to ``prometheus/rules/*.yml``; a test fails when the
checked-in YAML differs from :func:`rule_files`. The seed's five alerts keep their names,
thresholds, ``for`` durations and runbooks; their expressions are rewritten against the
names the distro really exposes, and aggregate over replicas (``sum by (job, ...)``) so a
fleet is judged as one service. ``job`` is the app's ``service.name`` (through the Collector)
or the scrape job (direct scrape of the app's :9464); ``instance`` is one replica.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import yaml

from otel_taskmaster import semconv


class Severity(Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class AlertRule:
    """One Prometheus alerting rule; ``annotations`` holds summary, description and runbook."""

    name: str
    description: str
    condition: str
    severity: Severity
    for_duration: str
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def expr(self) -> str:
        return self.condition

    def to_prometheus(self) -> dict[str, object]:
        rule: dict[str, object] = {"alert": self.name, "expr": self.condition}
        if self.for_duration not in ("", "0s", "0m"):
            rule["for"] = self.for_duration
        rule["labels"] = {"severity": self.severity.value}
        rule["annotations"] = dict(self.annotations)
        return rule


@dataclass(frozen=True)
class RecordingRule:
    """One Prometheus recording rule (``level:metric:operations`` naming)."""

    record: str
    expr: str
    description: str = ""

    def to_prometheus(self) -> dict[str, object]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: Sequence[AlertRule | RecordingRule]
    interval: str | None = None

    def to_prometheus(self) -> dict[str, object]:
        group: dict[str, object] = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        group["rules"] = [rule.to_prometheus() for rule in self.rules]
        return group


# Exposed Prometheus names, derived from semconv (the exporter adds _total / _seconds).
_REQUESTS = f"{semconv.TASKMASTER_REQUESTS}_total"
_LATENCY = f"{semconv.TASKMASTER_REQUEST_LATENCY}_seconds"
_TOKENS_OUT = f"{semconv.TASKMASTER_TOKENS_OUTPUT}_total"
_TOKENS_IN = f"{semconv.TASKMASTER_TOKENS_INPUT}_total"
_MODEL_LOADED = semconv.TASKMASTER_MODEL_LOADED
_QUALITY = semconv.TASKMASTER_QUALITY_SCORE
_RESPONSE_QUALITY = semconv.TASKMASTER_RESPONSE_QUALITY
_DRIFT_STATUS = semconv.TASKMASTER_DRIFT_STATUS
_DRIFT_ALERTS = f"{semconv.TASKMASTER_DRIFT_ALERTS}_total"
_EXPORT_FAILURES = f"{semconv.TASKMASTER_EXPORT_FAILURES}_total"
_INSTRUMENTATION_ERRORS = f"{semconv.TASKMASTER_INSTRUMENTATION_ERRORS}_total"
_TTFT = semconv.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK.replace(".", "_") + "_seconds"
_TIME_PER_TOKEN = semconv.GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN.replace(".", "_") + "_seconds"
_TOKEN_USAGE = semconv.GEN_AI_CLIENT_TOKEN_USAGE.replace(".", "_")
_OPERATION_DURATION = semconv.GEN_AI_CLIENT_OPERATION_DURATION.replace(".", "_") + "_seconds"
_GENAI_MODEL = semconv.GEN_AI_REQUEST_MODEL.replace(".", "_")
_GENAI_TOKEN_TYPE = semconv.GEN_AI_TOKEN_TYPE.replace(".", "_")
# The overall score is the EWMA level the seed's QualityDrift alert meant to read.
OVERALL_QUALITY = "overall_quality"

# Availability SLO: share of requests that succeed over 30 days. The burn-rate alerts follow
# the multi-window, multi-burn-rate pattern: a long window proves the budget is really being
# spent, a short one that it still is (so the alert resolves soon after the fix).
SLO_TARGET = 0.99
ERROR_BUDGET = round(1 - SLO_TARGET, 6)
FAST_BURN = 14.4  # 2% of a 30-day budget in 1 hour
SLOW_BURN = 6.0  # 5% of a 30-day budget in 6 hours
ERROR_RATIO_WINDOWS = ("5m", "30m", "1h", "6h")


def _burn(long: str, short: str, factor: float) -> str:
    threshold = round(factor * ERROR_BUDGET, 6)
    return (
        f"taskmaster:request_errors:ratio_rate{long} > {threshold}\n"
        f"and\n"
        f"taskmaster:request_errors:ratio_rate{short} > {threshold}"
    )


def _ratio(numerator: str, denominator: str) -> str:
    return f"{numerator}\n/\n{denominator}"


ALERT_RULES: list[AlertRule] = [
    # Seed: histogram_quantile over un-aggregated rate() gives one quantile per replica and
    # drops nothing; summing the buckets by le first gives the fleet's P95 per endpoint.
    AlertRule(
        name="TaskMasterHighLatency",
        description="TaskMaster response latency is too high",
        condition=(
            f"histogram_quantile(0.95, sum by (job, endpoint, le) "
            f"(rate({_LATENCY}_bucket[5m]))) > 2"
        ),
        severity=Severity.WARNING,
        for_duration="5m",
        annotations={
            "summary": "High latency detected",
            "description": (
                "P95 latency of {{ $labels.job }} {{ $labels.endpoint }} is "
                "{{ $value | humanizeDuration }}, above 2 seconds for the last 5 minutes"
            ),
            "runbook": "Check GPU utilization and concurrent request count",
        },
    ),
    # Seed: rate(x{status='error'}) / rate(x) matches series label by label, so the error
    # series is divided by itself (ratio 1 on the first error) and success-only series vanish.
    # Summing both sides by job gives the real share of failed requests.
    AlertRule(
        name="TaskMasterHighErrorRate",
        description="TaskMaster error rate is elevated",
        condition=(
            f'sum by (job) (rate({_REQUESTS}{{status="{semconv.STATUS_ERROR}"}}[5m])) '
            f"/ sum by (job) (rate({_REQUESTS}[5m])) > 0.05"
        ),
        severity=Severity.CRITICAL,
        for_duration="2m",
        annotations={
            "summary": "High error rate detected",
            "description": (
                "Error rate of {{ $labels.job }} is {{ $value | humanizePercentage }}, "
                "above 5% for the last 2 minutes"
            ),
            "runbook": "Check model health and review error logs",
        },
    ),
    AlertRule(
        name="TaskMasterModelDown",
        description="TaskMaster model is not responding",
        condition=f"{_MODEL_LOADED} == 0",
        severity=Severity.CRITICAL,
        for_duration="1m",
        annotations={
            "summary": "Model is down",
            "description": (
                "Model {{ $labels.model }} is not loaded or responding on {{ $labels.instance }}"
            ),
            "runbook": "Restart Ollama service and check model loading",
        },
    ),
    # Seed: `taskmaster_quality_score < 0.7` fires on any dimension (some sit low by design);
    # the overall score, averaged over replicas per model, is what the seed meant.
    AlertRule(
        name="TaskMasterQualityDrift",
        description="TaskMaster response quality has degraded",
        condition=(f'avg by (job, model) ({_QUALITY}{{dimension="{OVERALL_QUALITY}"}}) < 0.7'),
        severity=Severity.WARNING,
        for_duration="15m",
        annotations={
            "summary": "Quality degradation detected",
            "description": (
                "Response quality score of {{ $labels.model }} on {{ $labels.job }} is "
                '{{ $value | printf "%.2f" }}, below the 0.7 threshold'
            ),
            "runbook": "Review recent responses and consider retraining",
        },
    ),
    # Seed: `increase(taskmaster_requests_total[10m]) == 0` is per series, so it fires for an
    # error series that merely saw no errors, and never fires when no request was ever
    # counted (the SDK creates the series on the first request). Sum per job, and add jobs
    # that are alive (their model probe reports) but have no request series at all.
    AlertRule(
        name="TaskMasterNoRequests",
        description="TaskMaster has not received requests",
        condition=(
            f"sum by (job) (increase({_REQUESTS}[10m])) == 0 "
            f"or (group by (job) ({_MODEL_LOADED}) "
            f"unless on (job) group by (job) ({_REQUESTS})) * 0"
        ),
        severity=Severity.WARNING,
        for_duration="10m",
        annotations={
            "summary": "No requests received",
            "description": "{{ $labels.job }} has not received any requests in 10 minutes",
            "runbook": "Check client connectivity and load balancer health",
        },
    ),
    AlertRule(
        name="TaskMasterErrorBudgetBurnFast",
        description="Failures are spending the 30-day error budget 14.4 times too fast",
        condition=_burn("1h", "5m", FAST_BURN),
        severity=Severity.CRITICAL,
        for_duration="2m",
        annotations={
            "summary": "Error budget burning fast",
            "description": (
                "{{ $value | humanizePercentage }} of {{ $labels.job }} requests failed in the "
                f"last hour; at this rate the {SLO_TARGET:.0%} availability SLO's 30-day "
                "budget is gone in about 2 days"
            ),
            "runbook": "Check model health and review error logs; roll back recent changes",
        },
    ),
    AlertRule(
        name="TaskMasterErrorBudgetBurnSlow",
        description="Failures are spending the 30-day error budget 6 times too fast",
        condition=_burn("6h", "30m", SLOW_BURN),
        severity=Severity.WARNING,
        for_duration="15m",
        annotations={
            "summary": "Error budget burning",
            "description": (
                "{{ $value | humanizePercentage }} of {{ $labels.job }} requests failed in the "
                f"last 6 hours; at this rate the {SLO_TARGET:.0%} availability SLO's 30-day "
                "budget is gone in 5 days"
            ),
            "runbook": "Find the failing model, prompt or client; fix it before the budget is gone",
        },
    ),
    AlertRule(
        name="TaskMasterSlowTimeToFirstToken",
        description="Users wait too long for the first token of streamed answers",
        condition=(
            f"histogram_quantile(0.95, sum by (job, {_GENAI_MODEL}, le) "
            f"(rate({_TTFT}_bucket[5m]))) > 2"
        ),
        severity=Severity.WARNING,
        for_duration="5m",
        annotations={
            "summary": "Slow time to first token",
            "description": (
                "P95 time to first token of {{ $labels.gen_ai_request_model }} on "
                "{{ $labels.job }} is {{ $value | humanizeDuration }}, above 2 seconds"
            ),
            "runbook": "Check model load time (keep_alive), prompt length and Ollama queueing",
        },
    ),
    # taskmaster_drift_status: 0 ok, 1 warning, 2 critical (one series per metric and model).
    AlertRule(
        name="TaskMasterDriftWarning",
        description="A drift detector reports a warning-level shift in response quality",
        condition=f"max by (job, model, metric) ({_DRIFT_STATUS}) == 1",
        severity=Severity.WARNING,
        for_duration="10m",
        annotations={
            "summary": "Quality drift warning",
            "description": (
                "Drift detector on {{ $labels.metric }} for {{ $labels.model }} "
                "({{ $labels.job }}) has been at warning for 10 minutes"
            ),
            "runbook": "Compare quality by dimension with the baseline; check prompt mix changes",
        },
    ),
    AlertRule(
        name="TaskMasterDriftCritical",
        description="A drift detector reports a critical shift in response quality",
        condition=f"max by (job, model, metric) ({_DRIFT_STATUS}) >= 2",
        severity=Severity.CRITICAL,
        for_duration="5m",
        annotations={
            "summary": "Critical quality drift",
            "description": (
                "Drift detector on {{ $labels.metric }} for {{ $labels.model }} "
                "({{ $labels.job }}) is critical"
            ),
            "runbook": "Switch to the fallback model, review recent responses, refit the baseline",
        },
    ),
    # Fleet-wide drift: the last hour's mean quality against the last week's, across replicas.
    # Thresholds follow the seed's drift detector (15% warning deviation).
    AlertRule(
        name="TaskMasterFleetQualityDrop",
        description="Fleet-wide mean quality in the last hour fell well below the weekly mean",
        condition="taskmaster:response_quality:ratio_1h_1w < 0.85",
        severity=Severity.WARNING,
        for_duration="30m",
        annotations={
            "summary": "Fleet quality below its weekly level",
            "description": (
                "Mean {{ $labels.dimension }} score of {{ $labels.model }} over the last hour is "
                "{{ $value | humanizePercentage }} of the weekly mean"
            ),
            "runbook": "Check model and prompt changes deployed in the last hour; compare replicas",
        },
    ),
    # The counter is read from the direct scrape (or the Collector when only one signal
    # fails), so it reports the OTLP exports that are failing.
    AlertRule(
        name="TaskMasterTelemetryExportFailing",
        description="The app fails to export telemetry to the Collector",
        condition=f"sum by (job, signal) (increase({_EXPORT_FAILURES}[10m])) > 0",
        severity=Severity.WARNING,
        for_duration="5m",
        annotations={
            "summary": "Telemetry export failing",
            "description": (
                "{{ $labels.job }} failed to export {{ $labels.signal }} "
                "{{ $value | humanize }} times in 10 minutes"
            ),
            "runbook": "Check the Collector health (:13133) and OTEL_EXPORTER_OTLP_ENDPOINT",
        },
    ),
    AlertRule(
        name="TaskMasterInstrumentationErrors",
        description="The distro caught errors in its own instrumentation code",
        condition=f"sum by (job, component) (increase({_INSTRUMENTATION_ERRORS}[10m])) > 0",
        severity=Severity.INFO,
        for_duration="1m",
        annotations={
            "summary": "Instrumentation errors",
            "description": (
                "{{ $labels.component }} on {{ $labels.job }} caught {{ $value | humanize }} "
                "errors in 10 minutes; telemetry may be incomplete, the app is unaffected"
            ),
            "runbook": "Read the app's debug logs for otel_taskmaster and report the traceback",
        },
    ),
]


RECORDING_RULES: list[RecordingRule] = [
    RecordingRule(
        "taskmaster:requests:rate5m",
        f"sum by (job, endpoint, status) (rate({_REQUESTS}[5m]))",
        "Requests per second across replicas, by endpoint and status",
    ),
    *(
        RecordingRule(
            f"taskmaster:request_errors:ratio_rate{window}",
            _ratio(
                f'sum by (job) (rate({_REQUESTS}{{status="{semconv.STATUS_ERROR}"}}[{window}]))',
                f"sum by (job) (rate({_REQUESTS}[{window}]))",
            ),
            f"Share of failed requests across replicas over {window}",
        )
        for window in ERROR_RATIO_WINDOWS
    ),
    RecordingRule(
        "taskmaster:request_latency_seconds:p95_5m",
        f"histogram_quantile(0.95, sum by (job, endpoint, le) (rate({_LATENCY}_bucket[5m])))",
        "Fleet P95 request latency by endpoint",
    ),
    # The SLA view: requests answered in under 500 ms (0.5 is one of the seed's buckets).
    RecordingRule(
        "taskmaster:requests_under_500ms:ratio_rate5m",
        _ratio(
            f'sum by (job) (rate({_LATENCY}_bucket{{le="0.5"}}[5m]))',
            f"sum by (job) (rate({_LATENCY}_count[5m]))",
        ),
        "Share of requests answered within 500 ms",
    ),
    RecordingRule(
        "taskmaster:requests_under_500ms:ratio_rate1h",
        _ratio(
            f'sum by (job) (rate({_LATENCY}_bucket{{le="0.5"}}[1h]))',
            f"sum by (job) (rate({_LATENCY}_count[1h]))",
        ),
        "Share of requests answered within 500 ms, last hour",
    ),
    RecordingRule(
        "taskmaster:output_tokens:rate5m",
        f"sum by (job) (rate({_TOKENS_OUT}[5m]))",
        "Output tokens per second across replicas",
    ),
    RecordingRule(
        "taskmaster:input_tokens:rate5m",
        f"sum by (job) (rate({_TOKENS_IN}[5m]))",
        "Input tokens per second across replicas",
    ),
    RecordingRule(
        "taskmaster:gen_ai_token_usage:rate5m",
        f"sum by (job, {_GENAI_MODEL}, {_GENAI_TOKEN_TYPE}) (rate({_TOKEN_USAGE}_sum[5m]))",
        "GenAI tokens per second by model and token type (input/output)",
    ),
    # Decode speed as users feel it: output tokens per second of generation time.
    RecordingRule(
        "taskmaster:generation_tokens_per_second:rate5m",
        _ratio(
            f"sum by (job, {_GENAI_MODEL}) (rate({_TIME_PER_TOKEN}_count[5m]))",
            f"sum by (job, {_GENAI_MODEL}) (rate({_TIME_PER_TOKEN}_sum[5m]))",
        ),
        "Generated tokens per second (inverse of mean time per output token) by model",
    ),
    RecordingRule(
        "taskmaster:time_to_first_chunk_seconds:p95_5m",
        f"histogram_quantile(0.95, sum by (job, {_GENAI_MODEL}, le) (rate({_TTFT}_bucket[5m])))",
        "Fleet P95 time to first token by model",
    ),
    RecordingRule(
        "taskmaster:gen_ai_operation_duration_seconds:p95_5m",
        "histogram_quantile(0.95, sum by (job, "
        f"{_GENAI_MODEL}, le) (rate({_OPERATION_DURATION}_bucket[5m])))",
        "Fleet P95 GenAI call duration by model",
    ),
    # Mean score per response, weighted by request count (not an average of replica EWMAs).
    RecordingRule(
        "taskmaster:response_quality:mean1h",
        _ratio(
            f"sum by (job, model, dimension) (rate({_RESPONSE_QUALITY}_sum[1h]))",
            f"sum by (job, model, dimension) (rate({_RESPONSE_QUALITY}_count[1h]))",
        ),
        "Mean quality score per dimension and model, last hour, all replicas",
    ),
    RecordingRule(
        "taskmaster:drift_status:max",
        f"max by (job, model, metric) ({_DRIFT_STATUS})",
        "Worst drift state across replicas",
    ),
    RecordingRule(
        "taskmaster:drift_alerts:increase1h",
        f"sum by (job, model) (increase({_DRIFT_ALERTS}[1h]))",
        "Drift alerts raised in the last hour across replicas",
    ),
]

# A week of raw samples is costly to read, so the weekly baseline is evaluated rarely.
WEEKLY_RECORDING_RULES: list[RecordingRule] = [
    RecordingRule(
        "taskmaster:response_quality:mean1w",
        _ratio(
            f"sum by (job, model, dimension) (rate({_RESPONSE_QUALITY}_sum[1w]))",
            f"sum by (job, model, dimension) (rate({_RESPONSE_QUALITY}_count[1w]))",
        ),
        "Mean quality score per dimension and model, last week, all replicas",
    ),
]

# Reads the two recorded means, so it can be evaluated as often as the hourly one.
COMPARISON_RECORDING_RULES: list[RecordingRule] = [
    RecordingRule(
        "taskmaster:response_quality:ratio_1h_1w",
        "taskmaster:response_quality:mean1h\n/\ntaskmaster:response_quality:mean1w",
        "Last hour's mean quality as a share of the last week's (1 = unchanged)",
    ),
]

RECORDING_GROUPS: list[RuleGroup] = [
    RuleGroup("taskmaster-recording", RECORDING_RULES),
    RuleGroup("taskmaster-recording-weekly", WEEKLY_RECORDING_RULES, interval="2m"),
    RuleGroup("taskmaster-recording-comparison", COMPARISON_RECORDING_RULES),
]
ALERT_GROUPS: list[RuleGroup] = [RuleGroup("taskmaster", ALERT_RULES)]

ALERTS_FILE = "taskmaster-alerts.yml"
RECORDING_FILE = "taskmaster-recording.yml"

_HEADER = (
    "# Generated by `otel-taskmaster rules` from otel_taskmaster/alerts/rules.py; do not edit.\n"
)


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (long PromQL) as literal blocks, so diffs stay readable."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def _dump(groups: Sequence[RuleGroup]) -> str:
    body = yaml.dump(
        {"groups": [group.to_prometheus() for group in groups]},
        Dumper=_Dumper,
        sort_keys=False,
        width=1000,
        allow_unicode=True,
    )
    return _HEADER + body


def generate_prometheus_rules() -> str:
    """The alerting rules as Prometheus rule-file YAML (the seed's function, kept)."""
    return _dump(ALERT_GROUPS)


def generate_recording_rules() -> str:
    return _dump(RECORDING_GROUPS)


def rule_files() -> dict[str, str]:
    """File name -> YAML text, as written under ``prometheus/rules/``."""
    return {ALERTS_FILE: generate_prometheus_rules(), RECORDING_FILE: generate_recording_rules()}
