"""Reads the back-end files the tests check: compose, Collector, dashboards, rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
COLLECTOR_CONFIG = REPO_ROOT / "collector" / "config.yaml"
PROMETHEUS_CONFIG = REPO_ROOT / "prometheus" / "prometheus.yml"
RULES_DIR = REPO_ROOT / "prometheus" / "rules"
PROMTOOL_TESTS_DIR = REPO_ROOT / "prometheus" / "tests"
DASHBOARDS_DIR = REPO_ROOT / "dashboards"
PROVISIONING_DIR = DASHBOARDS_DIR / "provisioning"
ALERTMANAGER_CONFIG = REPO_ROOT / "alertmanager" / "alertmanager.yml"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def iter_panels(panels: list[dict]) -> Iterator[dict]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


@dataclass(frozen=True)
class Expression:
    source: str  # where it was found, for failure messages
    promql: str  # as written (may hold Grafana variables)


# Grafana's built-in interval variables and the dashboards' own template variables.
_GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}
_TEMPLATE_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}?")
_LABEL_VALUES = re.compile(r"^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$", re.S)


def to_promql(expr: str, variable_value: str = ".+") -> str:
    """Replace Grafana variables the way Grafana would before sending the query."""
    for name, value in _GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return _TEMPLATE_VARIABLE.sub(variable_value, expr)


def dashboard_expressions(path: Path) -> list[Expression]:
    """Panel targets, annotation queries and template-variable selectors of one dashboard."""
    dashboard = json.loads(path.read_text())
    found: list[Expression] = []
    for panel in iter_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append(Expression(f"{path.name}: {panel['title']}", target["expr"]))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            found.append(
                Expression(f"{path.name}: annotation {annotation['name']}", annotation["expr"])
            )
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = (
            variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        )
        match = _LABEL_VALUES.match(query.strip())
        found.append(
            Expression(
                f"{path.name}: variable {variable['name']}", match.group(1) if match else query
            )
        )
    return found


def rule_expressions() -> list[Expression]:
    found = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                found.append(Expression(f"{path.name}: {name}", rule["expr"]))
    return found


def volume_mounts(service: dict) -> list[tuple[str, str]]:
    """(source, container path) of each short-syntax volume entry, mode dropped."""
    mounts = []
    for entry in service.get("volumes", []):
        parts = entry.split(":")
        if len(parts) == 3:
            parts = parts[:2]
        source, target = parts
        mounts.append((source, target))
    return mounts
