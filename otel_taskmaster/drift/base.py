"""The contract every change detector follows: ``update(x)``, a level, and a statistic.

A detector keeps a running statistic (a CUSUM sum) and two thresholds. The level (``state``)
is 0 (ok), 1 (warning) or 2 (critical). Levels latch: once raised, a level holds until the
statistic is back to 0 (the CUSUM has forgotten the evidence), so a drift that persists shows
as one alert and not as a flapping one, and the next alarm needs a fresh climb from 0, as the
textbook run lengths assume. The statistic is capped at 1.5 times the critical threshold,
which bounds how long a detector takes to re-arm once the process is back to normal (tens of
observations for the mean CUSUM, one to two hundred for the scale and rate CUSUMs).
``drift_detected`` and ``warning_detected`` are true only on the update that raised the level,
like river's per-update flags. One-sided detectors share ``_latch``; the two-sided mean CUSUM
inlines its own, since it latches on the larger of two sums.
"""

from __future__ import annotations

import abc

OK = 0
WARNING = 1
CRITICAL = 2

SEVERITY_NAMES = {WARNING: "warning", CRITICAL: "critical"}
_CAP_FACTOR = 1.5


class ChangeDetector(abc.ABC):
    """A sequential change detector with a warning and a critical level.

    Parameters
    ----------
    h_warning
        Statistic at which the level becomes warning.
    h_critical
        Statistic at which the level becomes critical.
    """

    def __init__(self, h_warning: float, h_critical: float) -> None:
        if not (h_warning > 0.0 and h_critical > 0.0):
            raise ValueError(f"thresholds must be positive, got {h_warning=}, {h_critical=}")
        if h_warning > h_critical:
            raise ValueError(f"h_warning ({h_warning}) must not exceed h_critical ({h_critical})")
        self.h_warning = float(h_warning)
        self.h_critical = float(h_critical)
        self._cap = _CAP_FACTOR * self.h_critical
        self._reset()

    def _reset(self) -> None:
        self._statistic = 0.0
        self._state = OK
        self._rose = OK

    def _latch(self, s: float) -> None:
        """Moves a one-sided statistic to ``s`` and the level with it (see the module doc)."""
        old = self._state
        if s <= 0.0:
            # Back to zero evidence: re-armed (and the common in-control case).
            self._statistic = 0.0
            self._state = OK
            self._rose = OK
            return
        if s >= self.h_critical:
            if s > self._cap:
                s = self._cap
            new = CRITICAL
        elif s >= self.h_warning:
            new = old if old > WARNING else WARNING
        else:
            new = old
        self._statistic = s
        self._state = new
        self._rose = new if new > old else OK

    @abc.abstractmethod
    def update(self, x: float) -> ChangeDetector:
        """Feeds one observation; returns the detector so calls can chain."""

    @property
    def state(self) -> int:
        """0 ok, 1 warning, 2 critical (latched, see the module docstring)."""
        return self._state

    @property
    def statistic(self) -> float:
        """The current statistic, in the units of the thresholds."""
        return self._statistic

    @property
    def level(self) -> float:
        """The statistic as a share of the critical threshold (1.0 = critical, at most 1.5)."""
        return self._statistic / self.h_critical

    @property
    def drift_detected(self) -> bool:
        """True on the update that raised the level to critical."""
        return self._rose == CRITICAL

    @property
    def warning_detected(self) -> bool:
        """True on the update that raised the level to warning."""
        return self._rose == WARNING
