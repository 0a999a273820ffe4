"""One-sided CUSUM on squared standardized values: catches a rise in variance."""

from __future__ import annotations

import math

from otel_taskmaster.drift.base import ChangeDetector

# Thresholds in units of z**2. With ratio 2 (k = 1.386) the in-control drift is -0.386 per
# observation and h = 40 gives an in-control ARL above 50,000 (measured in the benchmark);
# a doubled variance drifts +0.614 per observation, so it is caught in about 70.
DEFAULT_RATIO = 2.0
DEFAULT_H_WARNING = 30.0
DEFAULT_H_CRITICAL = 40.0
# z**2 is clipped at clip**2: one wild value moves the sum by at most 16 - k.
DEFAULT_CLIP = 4.0


class ScaleCusum(ChangeDetector):
    """CUSUM for a variance increase: ``S = max(0, S + min(z**2, clip**2) - k)``.

    ``k = ratio * ln(ratio) / (ratio - 1)`` makes the increments proportional to the
    log-likelihood ratio of ``N(0, ratio)`` against ``N(0, 1)``, so the detector is tuned
    for the variance growing ``ratio``-fold. A mean shift also raises it.

    Parameters
    ----------
    mean, std
        In-control mean and standard deviation of ``x``.
    ratio
        The variance ratio (> 1) the detector is tuned for.
    h_warning, h_critical
        Thresholds on the statistic, in units of ``z**2``.
    clip
        Standardized values are clipped to ``[-clip, clip]`` before squaring.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(12345)
    >>> detector = ScaleCusum(mean=0.0, std=1.0)
    >>> stream = [rng.gauss(0.0, 1.0) for _ in range(200)]
    >>> stream += [rng.gauss(0.0, 2.0**0.5) for _ in range(500)]  # variance doubles
    >>> for i, x in enumerate(stream):
    ...     _ = detector.update(x)
    ...     if detector.drift_detected:
    ...         print(f"drift at {i}")
    drift at 245

    References
    ----------
    D. M. Hawkins, D. H. Olwell (1998). Cumulative Sum Charts and Charting for Quality
    Improvement, ch. 5 (CUSUMs for scale).
    """

    def __init__(
        self,
        mean: float,
        std: float,
        ratio: float = DEFAULT_RATIO,
        h_warning: float = DEFAULT_H_WARNING,
        h_critical: float = DEFAULT_H_CRITICAL,
        clip: float = DEFAULT_CLIP,
    ) -> None:
        if not std > 0.0:
            raise ValueError(f"std must be positive, got {std}")
        if not ratio > 1.0:
            raise ValueError(f"ratio must be greater than 1, got {ratio}")
        if not clip > 0.0:
            raise ValueError(f"clip must be positive, got {clip}")
        self.mean = float(mean)
        self.std = float(std)
        self.ratio = float(ratio)
        self.clip = float(clip)
        self._inv_std = 1.0 / self.std
        self._k = self.ratio * math.log(self.ratio) / (self.ratio - 1.0)
        self._clip2 = self.clip * self.clip
        super().__init__(h_warning, h_critical)

    def update(self, x: float) -> ScaleCusum:
        self._step((x - self.mean) * self._inv_std)
        return self

    def _step(self, z: float) -> None:
        z2 = z * z
        if z2 > self._clip2:
            z2 = self._clip2
        s = self._statistic + z2 - self._k
        self._latch(s)
