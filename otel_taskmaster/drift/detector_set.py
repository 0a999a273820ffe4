"""The detectors one metric series runs, chosen by the kind of its baseline entry.

- gaussian (scores): two-sided mean CUSUM + scale CUSUM on ``z = (x - mean) / std``;
- lognormal (latency): the same on ``ln(x)``, plus a tail CUSUM for a slow minority;
- bernoulli (yes/no checks): a Bernoulli CUSUM for a doubled rate.

The set's level is the highest level of its detectors. A baseline entry without ``std`` (or
``mean``, or ``rate``) is self-starting: the first ``warmup`` observations estimate what is
missing (Welford's running moments, O(1) memory) and raise no alarm; a given ``mean`` is kept,
so an offset from it is detected as drift. A self-started rate waits for 50 events (at most
ten times ``warmup`` trials), since a 1% rate estimated from 500 trials is too rough to
watch for a doubling. Spreads are floored at ``min_std`` so that a metric
that was constant in the reference period cannot alarm on one odd value.
"""

from __future__ import annotations

import math

from otel_taskmaster.drift.base import CRITICAL, OK, ChangeDetector
from otel_taskmaster.drift.baseline import BERNOULLI, LOGNORMAL, BaselineEntry
from otel_taskmaster.drift.bernoulli_cusum import BernoulliCusum
from otel_taskmaster.drift.cusum import GaussianCusum
from otel_taskmaster.drift.scale_cusum import ScaleCusum
from otel_taskmaster.drift.tail_cusum import TailCusum

DEFAULT_WARMUP = 500
DEFAULT_MIN_STD = 0.01
# A rate fitted as 0 (no refusals in the reference period) still needs a p0 to double.
MIN_RATE = 0.001
# A self-started rate comes from at least this many events (relative error ~14%; at 20 events,
# ~22%, the benchmark's false alarms doubled)...
MIN_WARMUP_EVENTS = 50
# ...unless the warm-up has run this many times its nominal length.
MAX_WARMUP_FACTOR = 10
# The "current value" reported beside an alert: an exponential average over ~100 observations,
# the seed's window length, kept in O(1).
_EWMA_ALPHA = 2.0 / 101.0
_LOG_FLOOR = 1e-9
_LN_FLOOR = math.log(_LOG_FLOOR)
_ln = math.log


class DetectorSet:
    """Runs the detectors for one metric series and reports their combined level.

    Parameters
    ----------
    entry
        The baseline entry; its ``kind`` picks the detectors.
    warmup
        Observations used to estimate a missing mean, std or rate.
    min_std
        Floor on the standard deviation (in log units for lognormal entries).

    Examples
    --------
    >>> import random
    >>> from otel_taskmaster.drift.baseline import BaselineEntry
    >>> rng = random.Random(12345)
    >>> detectors = DetectorSet(BaselineEntry("overall_quality", mean=0.89))  # mean only
    >>> stream = [rng.gauss(0.89, 0.05) for _ in range(1500)]
    >>> stream += [rng.gauss(0.84, 0.05) for _ in range(200)]
    >>> for i, x in enumerate(stream):
    ...     _ = detectors.update(x)
    ...     if detectors.drift_detected:
    ...         print(f"drift at {i} by {detectors.reason}, std {detectors.std:.3f}")
    drift at 1514 by mean, std 0.047
    """

    # Set by _arm() for the entry's kind only.
    _mean_cusum: GaussianCusum
    _scale_cusum: ScaleCusum
    _tail_cusum: TailCusum
    _rate_cusum: BernoulliCusum

    def __init__(
        self,
        entry: BaselineEntry,
        warmup: int = DEFAULT_WARMUP,
        min_std: float = DEFAULT_MIN_STD,
    ) -> None:
        self.validate(warmup, min_std)
        self.entry = entry
        self.warmup = warmup
        self.min_std = min_std
        self._log = entry.kind == LOGNORMAL
        self._bernoulli = entry.kind == BERNOULLI
        self.mean: float | None = entry.mean
        self.std: float | None = entry.std
        self.rate: float | None = entry.rate
        self._inv_std = 0.0
        self._center = 0.0
        # Starts at the baseline centre (or the first warm-up value): no evidence yet.
        self._current = 0.0
        self._state = OK
        self._rose = OK
        # Welford accumulators for the warm-up.
        self._w_n = 0
        self._w_mean = 0.0
        self._w_m2 = 0.0
        self._armed = False
        # Metric attributes for whoever reports this series (the monitor).
        self.labels: dict[str, str] = {}
        if not entry.self_starting:
            self._arm()

    @staticmethod
    def validate(warmup: int, min_std: float) -> None:
        """Raises ValueError for parameters a DetectorSet would refuse."""
        if warmup < 2:
            raise ValueError(f"warmup must be at least 2, got {warmup}")
        if not min_std > 0.0:
            raise ValueError(f"min_std must be positive, got {min_std}")

    def _arm(self) -> None:
        if self._bernoulli:
            p0 = max(self.rate if self.rate is not None else 0.0, MIN_RATE)
            self.rate = p0
            self._rate_cusum = BernoulliCusum(p0)
        else:
            assert self.mean is not None and self.std is not None
            std = max(self.std, self.min_std)
            self.std = std
            self._center = self.mean
            self._inv_std = 1.0 / std
            self._mean_cusum = GaussianCusum(self.mean, std)
            self._scale_cusum = ScaleCusum(self.mean, std)
            if self._log:
                tail_rate = self.entry.tail_rate
                # A fitted tail rate of 0 would make any exceedance infinitely surprising.
                tail_p0 = max(tail_rate, MIN_RATE) if tail_rate is not None else None
                self._tail_cusum = TailCusum(self.mean, std, p0=tail_p0)
        centre = self.rate if self._bernoulli else self.mean
        if self._w_n == 0 and centre is not None:
            self._current = centre
        self._armed = True

    def _warm(self, y: float) -> None:
        # The warm-up average seeds the reported current value.
        self._current = y if self._w_n == 0 else self._current + _EWMA_ALPHA * (y - self._current)
        self._w_n += 1
        delta = y - self._w_mean
        self._w_mean += delta / self._w_n
        self._w_m2 += delta * (y - self._w_mean)
        if self._w_n < self.warmup:
            return
        if self._bernoulli:
            # A rare event needs more than `warmup` trials for a usable rate: wait for
            # MIN_WARMUP_EVENTS of them, up to MAX_WARMUP_FACTOR * warmup trials.
            events = self._w_mean * self._w_n
            if events < MIN_WARMUP_EVENTS - 0.5 and self._w_n < MAX_WARMUP_FACTOR * self.warmup:
                return
            self.rate = self._w_mean
        else:
            if self.mean is None:
                self.mean = self._w_mean
            if self.std is None:
                self.std = math.sqrt(self._w_m2 / (self._w_n - 1))
        self._arm()

    def update(self, x: float) -> DetectorSet:
        """Feeds one observation (a yes/no check takes ``x >= 0.5`` as yes; NaN is skipped)."""
        if x != x:  # NaN would poison the sums for good
            return self
        if self._log:
            y = _ln(x) if x > _LOG_FLOOR else _LN_FLOOR
        elif self._bernoulli:
            y = 1.0 if x >= 0.5 else 0.0
        else:
            y = x
        if not self._armed:
            self._warm(y)
            return self
        self._current += _EWMA_ALPHA * (y - self._current)
        old = self._state
        if self._bernoulli:
            rate_cusum = self._rate_cusum
            rate_cusum._step(y)
            state = rate_cusum._state
        else:
            z = (y - self._center) * self._inv_std
            mean_cusum = self._mean_cusum
            scale_cusum = self._scale_cusum
            mean_cusum._step(z)
            scale_cusum._step(z)
            state = mean_cusum._state
            if scale_cusum._state > state:
                state = scale_cusum._state
            if self._log:
                tail = self._tail_cusum
                tail._step_z(z)
                if tail._state > state:
                    state = tail._state
        self._state = state
        self._rose = state if state > old else OK
        return self

    def _detectors(self) -> list[tuple[str, ChangeDetector]]:
        found = []
        for label, attr in (
            ("mean", "_mean_cusum"),
            ("scale", "_scale_cusum"),
            ("tail", "_tail_cusum"),
            ("rate", "_rate_cusum"),
        ):
            detector = getattr(self, attr, None)
            if detector is not None:
                found.append((label, detector))
        return found

    @property
    def armed(self) -> bool:
        """False while a self-starting baseline is still warming up."""
        return self._armed

    @property
    def state(self) -> int:
        """0 ok, 1 warning, 2 critical: the highest level among the detectors."""
        return self._state

    @property
    def level(self) -> float:
        """The highest detector statistic as a share of its critical threshold (0..1)."""
        return max((detector.level for _, detector in self._detectors()), default=0.0)

    @property
    def drift_detected(self) -> bool:
        """True on the update that raised the set's level to critical."""
        return self._rose == CRITICAL

    @property
    def rose(self) -> int:
        """The level this update raised the set to (0 if it did not rise)."""
        return self._rose

    @property
    def reason(self) -> str:
        """Which detector is furthest along: ``mean``, ``scale``, ``tail`` or ``rate``."""
        best, name = -1.0, "none"
        for label, detector in self._detectors():
            if detector.level > best:
                best, name = detector.level, label
        return name

    @property
    def direction(self) -> int:
        """+1 up, -1 down, 0 unknown (a rate or tail alarm is always up)."""
        if self.reason == "mean":
            return self._mean_cusum.direction
        return 1 if self.reason in ("scale", "tail", "rate") else 0

    @property
    def baseline_value(self) -> float | None:
        """The in-control centre in the metric's own units (a median for lognormal)."""
        if self._bernoulli:
            return self.rate
        if self.mean is None:
            return None
        return math.exp(self.mean) if self._log else self.mean

    @property
    def current_value(self) -> float | None:
        """Recent centre (exponential average over ~100), in the metric's own units."""
        if not self._armed and self._w_n == 0:
            return None
        return math.exp(self._current) if self._log else self._current
