"""benchmarks/app_span.py end to end with a few pairs: it runs and reports (no timing asserted)."""

from __future__ import annotations

import re

import pytest

from tests.benchmarks.scripts import run_script


@pytest.mark.parametrize("variant", ["ours", "openllmetry"])
def test_pairs_of_chats_inside_and_beside_an_app_span_are_measured(variant: str) -> None:
    stdout = run_script("app_span.py", "--variant", variant, "--pairs", "20")

    # The worker itself checked that every call, inside the span or beside it, was traced.
    assert re.fullmatch(
        rf"{variant}, exemplar filter trace_based: a chat inside the app's server span costs "
        r"[+-]\d+\.\d µs CPU more than one beside it \(quartiles [+-]\d+\.\d, [+-]\d+\.\d; "
        r"20 pairs, calling thread\)\n",
        stdout,
    ), stdout
