"""The README's configuration table follows otel_taskmaster/environment_variables.py."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from unittest import mock

from otel_taskmaster import environment_variables
from otel_taskmaster.distro import TaskMasterDistro

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _config_table_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("config_table", ROOT / "scripts/config_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("config_table", module)
    spec.loader.exec_module(module)
    return module


def _readme_table_rows() -> dict[str, str]:
    script = _config_table_script()
    text = README.read_text()
    block = text[text.index(script.START) : text.index(script.END)]
    rows = {}
    for line in block.splitlines():
        match = re.match(r"\| `([A-Z0-9_]+)` \|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def _module_names() -> set[str]:
    return {
        name
        for name, value in vars(environment_variables).items()
        if not name.startswith("_") and isinstance(value, str) and value == name
    }


def test_every_environment_variable_has_a_readme_row() -> None:
    missing = _module_names() - set(_readme_table_rows())
    assert not missing, (
        f"README configuration table lacks {sorted(missing)}: "
        "run .venv/bin/python scripts/config_table.py --write"
    )


def test_readme_rows_show_each_documented_default() -> None:
    script = _config_table_script()
    rows = _readme_table_rows()
    documented = script.variables()
    assert {v.name for v in documented} == _module_names()
    for variable in documented:
        assert variable.default != "(none)", f"{variable.name} docstring has no 'Default:'"
        cells = rows[variable.name].split(" | ")
        assert cells[-1].rstrip(" |") == variable.default, (
            f"README default for {variable.name} is stale: "
            "run .venv/bin/python scripts/config_table.py --write"
        )


def test_readme_table_has_no_variable_the_module_lacks() -> None:
    assert set(_readme_table_rows()) <= _module_names()


def test_table_generator_reads_meaning_and_default_from_docstrings() -> None:
    script = _config_table_script()
    source = (
        "from typing import Final\n"
        'A_VAR: Final = "A_VAR"\n'
        '"""\nWhat it | does, in ``code``.\nDefault: ``7``\n"""\n'
        'NOT_A_VAR = "something else"\n'
        'B_VAR = "B_VAR"\n'
    )
    (a_var, b_var) = script.variables(source)
    assert (a_var.name, a_var.meaning, a_var.default) == (
        "A_VAR",
        "What it \\| does, in `code`.",
        "`7`",
    )
    assert b_var == script.Variable("B_VAR", "", "(none)")


@mock.patch.dict("os.environ", {}, clear=True)
def test_readme_lists_every_default_the_distro_sets() -> None:
    TaskMasterDistro()._configure()
    defaults = dict(os.environ)
    assert defaults, "the distro set no defaults"
    text = " ".join(README.read_text().split())
    missing = [f"{k}={v}" for k, v in defaults.items() if f"`{k}={v}`" not in text]
    assert not missing, f"README's distro defaults lack {missing}"
