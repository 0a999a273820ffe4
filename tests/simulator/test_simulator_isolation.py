"""The simulator never imports OpenTelemetry (so it cannot instrument itself)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import otel_taskmaster.simulator

SIMULATOR_DIR = Path(otel_taskmaster.simulator.__file__).parent
CLI_MODULE = SIMULATOR_DIR.parent / "cli" / "simulate.py"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_simulator_modules_import_only_stdlib_orjson_yaml_and_themselves() -> None:
    files = [*SIMULATOR_DIR.glob("*.py"), CLI_MODULE]
    imported = set().union(*(_imports(f) for f in files))

    outside = {
        name
        for name in imported
        if name.split(".")[0] not in ("otel_taskmaster", "orjson", "yaml", "__future__")
        and name.split(".")[0] not in sys.stdlib_module_names
    }
    ours = {n for n in imported if n.startswith("otel_taskmaster")}

    assert len(files) >= 8
    assert outside == set()
    assert all(n.startswith("otel_taskmaster.simulator") for n in ours)


_WITHOUT_EXTRAS = r"""
import importlib.abc, json, sys, urllib.request

BLOCKED = ("ollama", "httpx", "starlette", "uvicorn", "litellm", "opentelemetry", "yaml")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(BLOCKED):
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Block())
from otel_taskmaster.cli.main import build_parser
from otel_taskmaster.simulator import make_server

build_parser(only="simulate").parse_args(["simulate", "--fast"])

server = make_server("127.0.0.1", 0, time_scale=0).start()
request = urllib.request.Request(
    server.url + "/api/chat",
    data=json.dumps({"model": "llama3.2", "stream": False,
                     "messages": [{"role": "user", "content": "hi"}]}).encode(),
)
print(json.loads(urllib.request.urlopen(request).read())["done_reason"])
server.stop()
"""


def test_simulator_serves_without_app_extras_or_any_opentelemetry_import() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stop"
