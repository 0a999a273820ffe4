"""The quality package's public surface is explicit."""

from __future__ import annotations

import otel_taskmaster.quality as quality


def test_quality_exports_exactly_its_public_names() -> None:
    assert sorted(quality.__all__) == [
        "QualityConfig",
        "QualityConfigError",
        "QualityScorer",
        "QualitySpanProcessor",
        "ResponseFeatures",
        "Scores",
    ]
    public = {name for name in vars(quality) if not name.startswith("_")}
    modules = {"features", "processor", "scorer", "settings", "annotations"}
    assert public - modules == set(quality.__all__)
