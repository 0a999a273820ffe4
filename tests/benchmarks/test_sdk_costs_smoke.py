"""benchmarks/sdk_costs.py with a few calls: every unit cost is measured and printed.

No timing is asserted; the rows and their numbers are.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sdk_costs.py"


def test_prints_a_positive_cost_for_every_unit() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--calls", "20", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = dict(re.findall(r"^\| (.+?) \| ([\d.]+) \|$", proc.stdout, re.MULTILINE))
    assert len(rows) == 8, proc.stdout
    assert "span with 5 evaluation events" in rows
    assert "histogram measurement, 5 attributes, 2 reader(s)" in rows
    assert all(float(value) > 0 for value in rows.values())
    assert "One span attribute, set and encoded:" in proc.stdout
