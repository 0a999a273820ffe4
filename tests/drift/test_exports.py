from __future__ import annotations

import otel_taskmaster.drift as drift


def test_all_lists_every_public_name():
    public = {
        name
        for name, value in vars(drift).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(drift.__name__)
    }
    assert sorted(drift.__all__) == sorted(public)
    assert {"DriftDetector", "DriftAlert", "DriftMonitor", "Baseline"} <= set(drift.__all__)
