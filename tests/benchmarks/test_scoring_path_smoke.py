"""benchmarks/scoring_path.py end to end with a few pairs: it runs and reports (no timing
asserted); the script itself checks each block took the scoring path it was switched to."""

from __future__ import annotations

import re

from tests.benchmarks.scripts import run_script


def test_pairs_of_blocks_scored_before_and_after_the_span_ends_are_measured() -> None:
    stdout = run_script("scoring_path.py", "--pairs", "4", "--calls", "5")

    assert re.fullmatch(
        r"chat: scored before its span ends minus scored in on_end with the child span: "
        r"[+-]\d+ µs CPU per call \(quartiles [+-]\d+, [+-]\d+; 4 pairs of 5-call blocks, "
        r"whole process\)\n",
        stdout,
    ), stdout
