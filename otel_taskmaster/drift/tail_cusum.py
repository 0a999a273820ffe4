"""Bernoulli CUSUM on exceedances: catches a small share of requests getting much slower."""

from __future__ import annotations

import math

from otel_taskmaster.drift.bernoulli_cusum import BernoulliCusum, threshold_for_arl0

# z > 2.326 is the top 1% of a normal. A 5% tail of 5x slower requests (sigma_log 0.6) lifts
# the exceedance rate to about 4%, a likelihood ratio a mean or variance CUSUM sees only weakly.
DEFAULT_TAIL_Z = 2.326
DEFAULT_RATIO = 4.0
# Runs beside a mean and a scale CUSUM, so it takes a smaller share of the false-alarm budget.
DEFAULT_ARL0_WARNING = 15_000.0
DEFAULT_ARL0_CRITICAL = 50_000.0


def normal_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


class TailCusum(BernoulliCusum):
    """Bernoulli CUSUM on ``(x - mean) / std > tail_z``.

    Parameters
    ----------
    mean, std
        In-control mean and standard deviation of ``x`` (for latency: of its logarithm).
    tail_z
        Exceedance threshold in standard deviations.
    p0
        In-control exceedance rate; default the normal tail beyond ``tail_z``. A baseline fit
        records the empirical rate, which is safer for heavy-tailed data.
    ratio
        The rise in exceedance rate the detector is tuned for (``p1 = ratio * p0``).
    h_warning, h_critical
        Thresholds in log-likelihood units; default from this module's ARL0 targets.

    Examples
    --------
    >>> import math, random
    >>> rng = random.Random(12345)
    >>> detector = TailCusum(mean=0.0, std=0.6)
    >>> stream = [rng.gauss(0.0, 0.6) for _ in range(200)]
    >>> stream += [rng.gauss(0.0, 0.6) + (math.log(5) if rng.random() < 0.05 else 0.0)
    ...            for _ in range(1000)]  # 5% of requests 5x slower
    >>> for i, x in enumerate(stream):
    ...     _ = detector.update(x)
    ...     if detector.drift_detected:
    ...         print(f"drift at {i}")
    drift at 372
    """

    def __init__(
        self,
        mean: float,
        std: float,
        tail_z: float = DEFAULT_TAIL_Z,
        p0: float | None = None,
        ratio: float = DEFAULT_RATIO,
        h_warning: float | None = None,
        h_critical: float | None = None,
    ) -> None:
        if not std > 0.0:
            raise ValueError(f"std must be positive, got {std}")
        if not ratio > 1.0:
            raise ValueError(f"ratio must be greater than 1, got {ratio}")
        if p0 is None:
            p0 = normal_tail(tail_z)
        if not 0.0 < p0 < 1.0:
            raise ValueError(f"p0 must be in (0, 1), got {p0}")
        self.mean = float(mean)
        self.std = float(std)
        self.tail_z = float(tail_z)
        self.ratio = float(ratio)
        self._inv_std = 1.0 / self.std
        p1 = min(ratio * p0, (1.0 + p0) / 2.0)
        if h_warning is None:
            h_warning = threshold_for_arl0(p0, p1, DEFAULT_ARL0_WARNING)
        if h_critical is None:
            h_critical = threshold_for_arl0(p0, p1, DEFAULT_ARL0_CRITICAL)
        super().__init__(p0, p1, h_warning, h_critical)

    def update(self, x: float) -> TailCusum:
        self._step_z((x - self.mean) * self._inv_std)
        return self

    def _step_z(self, z: float) -> None:
        s = self._statistic + (self._yes if z > self.tail_z else self._no)
        self._latch(s)
