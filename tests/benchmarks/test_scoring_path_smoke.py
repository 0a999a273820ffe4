"""benchmarks/scoring_path.py end to end with a few pairs: it runs and reports (no timing
asserted); the script itself checks each block took the scoring path it was switched to."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "scoring_path.py"


def test_pairs_of_blocks_scored_before_and_after_the_span_ends_are_measured() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--pairs", "4", "--calls", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr[-4000:]
    assert re.fullmatch(
        r"chat: scored before its span ends minus scored in on_end with the child span: "
        r"[+-]\d+ µs CPU per call \(quartiles [+-]\d+, [+-]\d+; 4 pairs of 5-call blocks, "
        r"whole process\)\n",
        proc.stdout,
    ), proc.stdout
