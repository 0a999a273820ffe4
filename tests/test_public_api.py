"""The public surface is explicit, importable, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import otel_taskmaster


def test_all_names_every_public_name_and_each_resolves() -> None:
    public = {name for name in dir(otel_taskmaster) if not name.startswith("_")}
    assert public == {name for name in otel_taskmaster.__all__ if not name.startswith("_")}
    for name in otel_taskmaster.__all__:
        assert getattr(otel_taskmaster, name) is not None


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, otel_taskmaster, otel_taskmaster.distro;"
        "heavy = [m for m in ('litellm', 'ollama', 'starlette', 'yaml', 'numpy',"
        " 'otel_taskmaster.quality', 'otel_taskmaster.drift', 'otel_taskmaster.simulator')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
