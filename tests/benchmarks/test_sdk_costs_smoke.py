"""benchmarks/sdk_costs.py with a few calls: every unit cost is measured and printed, alone
and, with ``--sdk-versions``, per SDK release in its own virtualenv.

No timing is asserted; the rows and their numbers are.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.scripts import BENCHMARKS, run_script

FEW_CALLS = ("--calls", "20", "--repeats", "1")


def test_prints_a_positive_cost_for_every_unit() -> None:
    stdout = run_script("sdk_costs.py", *FEW_CALLS, timeout=120)
    rows = dict(re.findall(r"^\| (.+?) \| ([\d.]+) \|$", stdout, re.MULTILINE))
    assert len(rows) == 9, stdout
    assert "span with 5 evaluation events" in rows
    assert "histogram measurement, no attributes, 1 reader(s)" in rows
    assert "histogram measurement, 5 attributes, 2 reader(s)" in rows
    assert all(float(value) > 0 for value in rows.values())
    assert "One span attribute, set and encoded:" in stdout


def test_json_carries_the_sdk_version_and_the_same_rows() -> None:
    report = json.loads(run_script("sdk_costs.py", *FEW_CALLS, "--json", timeout=120))
    assert report["sdk"] == importlib.metadata.version("opentelemetry-sdk")
    assert len(report["rows"]) == 9
    assert all(us > 0 for _, us in report["rows"])


def test_a_release_measured_in_its_own_virtualenv(tmp_path: Path) -> None:
    # The installed release, fetched again from PyPI into a fresh virtualenv: the comparison
    # path runs end to end, with no second release to download.
    version = importlib.metadata.version("opentelemetry-sdk")
    venvs = tmp_path / "venvs"
    stdout = run_script(
        "sdk_costs.py",
        *FEW_CALLS,
        "--rounds",
        "1",
        "--sdk-versions",
        version,
        "--venvs",
        str(venvs),
        timeout=600,
    )
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| ([\d.]+) \|$", stdout, re.MULTILINE)
    assert len(rows) == 9, stdout
    assert all(float(us) > 0 and float(ratio) == 1.0 for _, us, ratio in rows)
    venv = venvs / f"opentelemetry-sdk-{version}"
    assert (venv / "bin" / "python").exists()
    assert f"opentelemetry-sdk=={version}" in (venv / "installed").read_text()


def test_a_release_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "sdk_costs.py"),
            "--sdk-versions",
            "0.0.0",
            "--venvs",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2
    assert "sdk_costs.py: could not set up a virtualenv" in proc.stderr
    assert "opentelemetry-sdk==0.0.0" in proc.stderr
    assert not (tmp_path / "opentelemetry-sdk-0.0.0" / "installed").exists()
