"""Two-sided Gaussian CUSUM on standardized values, for score-like metrics."""

from __future__ import annotations

from otel_taskmaster.drift.base import ChangeDetector

# Tuned for a shift of 0.75 sigma (k = half of it), between the 0.5 and 1 sigma shifts we must
# catch. With h = 12 the two-sided in-control ARL is about 34,000 observations by Siegmund's
# approximation (measured: 0.2-0.5 false alarms per 10,000), which leaves room in a
# 1-per-10,000 budget for the scale detector beside it; a 1 sigma shift takes ~18 observations.
DEFAULT_K = 0.375
DEFAULT_H_WARNING = 10.0
DEFAULT_H_CRITICAL = 12.0
# One observation moves the sums by at most clip - k: a single wild value cannot raise an alarm.
DEFAULT_CLIP = 4.0


class GaussianCusum(ChangeDetector):
    """Page's two-sided CUSUM on ``z = (x - mean) / std``, winsorized at ``clip``.

    The upper sum ``max(0, S + z - k)`` and the lower sum ``max(0, S - z - k)`` grow under a
    mean shift of either sign; the statistic is the larger of the two.

    Parameters
    ----------
    mean
        In-control mean of ``x``.
    std
        In-control standard deviation of ``x``.
    k
        Reference value, in standard deviations: half the shift the detector is tuned for.
    h_warning, h_critical
        Thresholds on the statistic, in standard deviations.
    clip
        Standardized values are clipped to ``[-clip, clip]`` before they reach the sums.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(12345)
    >>> detector = GaussianCusum(mean=0.85, std=0.1)
    >>> stream = [rng.gauss(0.85, 0.1) for _ in range(200)]
    >>> stream += [rng.gauss(0.75, 0.1) for _ in range(200)]  # one sigma lower
    >>> for i, x in enumerate(stream):
    ...     _ = detector.update(x)
    ...     if detector.warning_detected:
    ...         print(f"warning at {i}")
    ...     if detector.drift_detected:
    ...         print(f"drift at {i}, direction {detector.direction}")
    warning at 251
    drift at 254, direction -1

    References
    ----------
    E. S. Page (1954). Continuous inspection schemes. Biometrika 41, 100-115.
    D. Siegmund (1985). Sequential Analysis, ch. X (ARL approximations).
    """

    def __init__(
        self,
        mean: float,
        std: float,
        k: float = DEFAULT_K,
        h_warning: float = DEFAULT_H_WARNING,
        h_critical: float = DEFAULT_H_CRITICAL,
        clip: float = DEFAULT_CLIP,
    ) -> None:
        if not std > 0.0:
            raise ValueError(f"std must be positive, got {std}")
        if not k >= 0.0:
            raise ValueError(f"k must be non-negative, got {k}")
        if not clip > k:
            raise ValueError(f"clip must exceed k, got {clip=}, {k=}")
        self.mean = float(mean)
        self.std = float(std)
        self.k = float(k)
        self.clip = float(clip)
        self._inv_std = 1.0 / self.std
        super().__init__(h_warning, h_critical)

    def _reset(self) -> None:
        super()._reset()
        self._upper = 0.0
        self._lower = 0.0

    def update(self, x: float) -> GaussianCusum:
        self._step((x - self.mean) * self._inv_std)
        return self

    def _step(self, z: float) -> None:
        clip = self.clip
        if z > clip:
            z = clip
        elif z < -clip:
            z = -clip
        cap = self._cap
        upper = self._upper + z - self.k
        if upper < 0.0:
            upper = 0.0
        elif upper > cap:
            upper = cap
        lower = self._lower - z - self.k
        if lower < 0.0:
            lower = 0.0
        elif lower > cap:
            lower = cap
        self._upper = upper
        self._lower = lower
        s = upper if upper >= lower else lower
        # The latch described in drift/base.py.
        old = self._state
        if s >= self.h_critical:
            new = 2
        elif s >= self.h_warning:
            new = old if old > 1 else 1
        elif s <= 0.0:
            new = 0
        else:
            new = old
        self._statistic = s
        self._state = new
        self._rose = new if new > old else 0

    @property
    def direction(self) -> int:
        """+1 if the evidence is for an upward shift, -1 for downward, 0 if none."""
        if self._upper > self._lower:
            return 1
        if self._lower > self._upper:
            return -1
        return 0
