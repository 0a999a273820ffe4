"""Fixtures for the back-end tests (compose, Collector, rules, dashboards).

Two tools come from outside PyPI; ``scripts/setup.sh`` should install them, and these
fixtures install them on first use if it did not:
- the Compose Specification JSON schema, shipped by the npm package ``dclint``;
- ``amtool`` (Alertmanager's config checker), Debian package ``prometheus-alertmanager``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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


def _run(args: list[str], timeout: float) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def compose_schema_path() -> Path:
    if not COMPOSE_SCHEMA.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed to fetch the Compose schema (package dclint)"
        _run(
            [npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
             "--prefix", str(NPM_PREFIX), f"dclint@{DCLINT_VERSION}"],
            timeout=600,
        )  # fmt: skip
    assert COMPOSE_SCHEMA.is_file(), COMPOSE_SCHEMA
    return COMPOSE_SCHEMA


@pytest.fixture(scope="session")
def amtool() -> Path:
    if not AMTOOL.exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for args in (
            ["apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"],
            ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq",
             "--no-install-recommends", "prometheus-alertmanager"],
        ):  # fmt: skip
            result = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env)
            assert result.returncode == 0, result.stdout + result.stderr
    assert AMTOOL.exists(), AMTOOL
    return AMTOOL


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="module")
def empty_prometheus() -> Iterator[Prometheus]:
    """A real Prometheus with no targets: its query API is the PromQL parser of record."""
    with running_prometheus() as prom:
        yield prom
