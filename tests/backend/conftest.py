"""Fixtures for the back-end tests (compose, Collector, rules, dashboards).

Two tools come from outside PyPI; ``scripts/setup.sh`` installs them:
- the Compose Specification JSON schema, shipped by the npm package ``dclint``;
- ``amtool`` (Alertmanager's config checker), Debian package ``prometheus-alertmanager``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.prometheus import Prometheus, running_prometheus

REPO_ROOT = Path(__file__).resolve().parents[2]
DCLINT_VERSION = "3.1.0"
NPM_PREFIX = REPO_ROOT / ".venv" / "npm"
COMPOSE_SCHEMA = Path(
    os.environ.get(
        "COMPOSE_SCHEMA",
        NPM_PREFIX / "node_modules" / "dclint" / "schemas" / "compose.schema.json",
    )
)
AMTOOL = Path(os.environ.get("AMTOOL_BINARY", "/usr/bin/amtool"))


@pytest.fixture(scope="session")
def compose_schema_path() -> Path:
    assert COMPOSE_SCHEMA.is_file(), f"{COMPOSE_SCHEMA} missing: run bash scripts/setup.sh"
    return COMPOSE_SCHEMA


@pytest.fixture(scope="session")
def amtool() -> Path:
    assert AMTOOL.exists(), f"{AMTOOL} missing: run bash scripts/setup.sh"
    return AMTOOL


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="module")
def empty_prometheus() -> Iterator[Prometheus]:
    """A real Prometheus with no targets: its query API is the PromQL parser of record."""
    with running_prometheus() as prom:
        yield prom
