"""benchmarks/sdk_costs.py with a few calls: every unit cost is measured and printed.

No timing is asserted; the rows and their numbers are.
"""

from __future__ import annotations

import re

from tests.benchmarks.scripts import run_script


def test_prints_a_positive_cost_for_every_unit() -> None:
    stdout = run_script("sdk_costs.py", "--calls", "20", "--repeats", "1", timeout=120)
    rows = dict(re.findall(r"^\| (.+?) \| ([\d.]+) \|$", stdout, re.MULTILINE))
    assert len(rows) == 8, stdout
    assert "span with 5 evaluation events" in rows
    assert "histogram measurement, 5 attributes, 2 reader(s)" in rows
    assert all(float(value) > 0 for value in rows.values())
    assert "One span attribute, set and encoded:" in stdout
