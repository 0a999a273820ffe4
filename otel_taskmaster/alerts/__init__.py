"""Prometheus alerting and recording rules, defined once in Python (``otel-taskmaster rules``)."""

from __future__ import annotations

from otel_taskmaster.alerts.rules import (
    ALERT_RULES,
    RECORDING_RULES,
    AlertRule,
    RecordingRule,
    RuleGroup,
    Severity,
    generate_prometheus_rules,
    generate_recording_rules,
    rule_files,
)

__all__ = [
    "ALERT_RULES",
    "RECORDING_RULES",
    "AlertRule",
    "RecordingRule",
    "RuleGroup",
    "Severity",
    "generate_prometheus_rules",
    "generate_recording_rules",
    "rule_files",
]
