"""examples/Dockerfile: builds from what the repo holds and runs the app the zero-code way.

No Docker engine here, so this reads the file: every COPY source exists in the build context
(the repo root, as docker-compose.yml builds it) and the command is the README's.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml

from tests.e2e.processes import ROOT

DOCKERFILE = ROOT / "examples" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    found = []
    for raw in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_base_image_is_python_311_slim() -> None:
    assert _instructions()[0] == ("FROM", "python:3.11-slim")


def test_every_copy_source_exists_in_the_build_context() -> None:
    copies = [shlex.split(rest) for keyword, rest in _instructions() if keyword == "COPY"]
    assert copies
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), source


def test_installs_the_app_and_litellm_extras_and_runs_under_opentelemetry_instrument() -> None:
    runs = [rest for keyword, rest in _instructions() if keyword == "RUN"]
    assert any('pip install ".[app,litellm]"' in run for run in runs)
    (cmd,) = [json.loads(rest) for keyword, rest in _instructions() if keyword == "CMD"]
    assert cmd == ["opentelemetry-instrument", "python", "serve.py"]


def test_compose_builds_it_from_the_repo_root() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    builds = [s["build"] for s in compose["services"].values() if "build" in s]
    assert builds
    for build in builds:
        assert Path(ROOT / build["context"]).resolve() == ROOT
        assert build["dockerfile"] == "examples/Dockerfile"
