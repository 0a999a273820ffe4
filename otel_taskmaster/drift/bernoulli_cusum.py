"""Bernoulli CUSUM for yes/no checks (refusal, truncation, empty answer)."""

from __future__ import annotations

import math

from otel_taskmaster.drift.base import ChangeDetector

# In-control average run lengths the default thresholds aim for. The thresholds come from
# ARL0 ~ (e**h - h - 1) / I0 (Wald's approximation without overshoot, which makes the real
# ARL0 longer than the target); the benchmark measures the false alarms that result.
DEFAULT_ARL0_WARNING = 8_000.0
DEFAULT_ARL0_CRITICAL = 20_000.0


def threshold_for_arl0(p0: float, p1: float, arl0: float) -> float:
    """The threshold (log-likelihood units) whose approximate in-control ARL is ``arl0``."""
    i0 = p0 * math.log(p0 / p1) + (1.0 - p0) * math.log((1.0 - p0) / (1.0 - p1))
    h = math.log(arl0 * i0 + 1.0)
    for _ in range(20):  # fixed point of h = ln(arl0 * i0 + h + 1); converges fast
        h = math.log(arl0 * i0 + h + 1.0)
    return h


class BernoulliCusum(ChangeDetector):
    """Upper CUSUM of the log-likelihood ratio of rate ``p1`` against ``p0``.

    Each observation is a yes (``x >= 0.5``) or a no. A yes adds ``ln(p1 / p0)``, a no adds
    ``ln((1 - p1) / (1 - p0))`` (negative); the sum is kept at or above 0. Only a rising rate is
    flagged: fewer refusals or truncations are not a drift anyone is paged for.

    Parameters
    ----------
    p0
        In-control rate of yes, in (0, 1).
    p1
        The raised rate the detector is tuned for; default ``2 * p0`` (at most ``(1 + p0) / 2``).
    h_warning, h_critical
        Thresholds in log-likelihood units; default from ``DEFAULT_ARL0_WARNING`` and
        ``DEFAULT_ARL0_CRITICAL`` through :func:`threshold_for_arl0`.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(12345)
    >>> detector = BernoulliCusum(p0=0.05)
    >>> stream = [rng.random() < 0.05 for _ in range(500)]
    >>> stream += [rng.random() < 0.10 for _ in range(1000)]  # refusal rate doubles
    >>> for i, refused in enumerate(stream):
    ...     _ = detector.update(refused)
    ...     if detector.drift_detected:
    ...         print(f"drift at {i}")
    drift at 704

    References
    ----------
    M. R. Reynolds Jr., Z. G. Stoumbos (1999). A CUSUM chart for monitoring a proportion
    when inspecting continuously. Journal of Quality Technology 31(1), 87-108.
    """

    def __init__(
        self,
        p0: float,
        p1: float | None = None,
        h_warning: float | None = None,
        h_critical: float | None = None,
    ) -> None:
        if not 0.0 < p0 < 1.0:
            raise ValueError(f"p0 must be in (0, 1), got {p0}")
        if p1 is None:
            p1 = min(2.0 * p0, (1.0 + p0) / 2.0)
        if not p0 < p1 < 1.0:
            raise ValueError(f"p1 must be in (p0, 1), got {p1=} with {p0=}")
        self.p0 = float(p0)
        self.p1 = float(p1)
        self._yes = math.log(self.p1 / self.p0)
        self._no = math.log((1.0 - self.p1) / (1.0 - self.p0))
        if h_warning is None:
            h_warning = threshold_for_arl0(self.p0, self.p1, DEFAULT_ARL0_WARNING)
        if h_critical is None:
            h_critical = threshold_for_arl0(self.p0, self.p1, DEFAULT_ARL0_CRITICAL)
        super().__init__(h_warning, h_critical)

    def update(self, x: float) -> BernoulliCusum:
        self._step(x)
        return self

    def _step(self, x: float) -> None:
        s = self._statistic + (self._yes if x >= 0.5 else self._no)
        self._latch(s)
