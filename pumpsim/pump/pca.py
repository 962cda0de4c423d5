"""PCA bookkeeping: lockout, hourly count and the dose limit over a rolling window.

Pure arithmetic on times [s] and volumes [mL], no Hardware: the controller
asks :class:`PcaLedger` whether a demand may be given and records what it
gives. A demand dose counts at its start time; the background flow (basal or
KVO) counts as delivered, integrated over the window. The lockout runs from the
start of a demand dose (docs/references.md [PCAAdult] [OPCA2020]; OPCA R5.2.0(3), R5.2.0(5)).

Example (the published morphine regimen: 1 mg demand, 6-min lockout, 30 mg per
4 h, 1 mg/mL):

>>> ledger = PcaLedger(demand=1.0, lockout=360.0, limit=30.0, window=4 * 3600.0)
>>> for k in range(30):
...     assert ledger.refusal(k * 360.0) is None
...     ledger.record(k * 360.0, 1.0)
>>> ledger.refusal(180 * 60.0), ledger.next_free(180 * 60.0) / 60
('dose_limit', 240.0)
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

__all__ = ["PcaLedger"]

_EPS_T = 1e-9  # [s] times closer than this are the same instant
_REL = 1e-9  # relative tolerance on volumes


@dataclass
class PcaLedger:
    """Demand doses and background flow of one PCA program.

    Parameters
    ----------
    demand : float
        Demand dose [mL].
    lockout : float
        Lockout from the start of a demand dose [s].
    limit, window : float or None
        At most ``limit`` [mL] in any ``window`` [s] (doses and background).
    max_demands : int or None
        At most this many demand doses in any hour.
    """

    demand: float
    lockout: float
    limit: float | None = None
    window: float | None = None
    max_demands: int | None = None
    doses: list[tuple[float, float]] = field(default_factory=list)
    background: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 0.0)])
    last_demand: float | None = None
    demand_times: list[float] = field(default_factory=list)  # demand doses only

    # -- recording -------------------------------------------------------------
    def record(self, t: float, volume: float, demand: bool = True) -> None:
        """A dose of ``volume`` [mL] starts at ``t`` (a demand dose unless ``demand`` is
        False, e.g. a clinician bolus, which counts toward the limit but not the lockout)."""
        self.doses.append((t, volume))
        if demand:
            self.last_demand = t
            self.demand_times.append(t)

    def set_background(self, t: float, rate: float) -> None:
        """From ``t`` on the background flow (basal or KVO) is ``rate`` [mL/s]."""
        if self.background[-1][0] == t:
            self.background[-1] = (t, rate)
        elif self.background[-1][1] != rate:
            self.background.append((t, rate))

    # -- questions -------------------------------------------------------------
    def lockout_end(self) -> float | None:
        """When the current lockout ends [s] (None before the first demand)."""
        return None if self.last_demand is None else self.last_demand + self.lockout

    def in_lockout(self, t: float) -> bool:
        end = self.lockout_end()
        return end is not None and t < end - _EPS_T

    def demands_last_hour(self, t: float) -> int:
        """Demand doses (not clinician boluses) started in the hour to ``t``."""
        return sum(1 for s in self.demand_times if s > t - 3600.0 + _EPS_T)

    def background_volume(self, t0: float, t1: float) -> float:
        """Background volume delivered in (t0, t1] [mL]."""
        total = 0.0
        pts = self.background
        for i, (s, rate) in enumerate(pts):
            e = pts[i + 1][0] if i + 1 < len(pts) else t1
            lo, hi = max(s, t0), min(e, t1)
            if hi > lo:
                total += rate * (hi - lo)
        return total

    def window_volume(self, t: float) -> float:
        """Volume counted in the window ending at ``t`` [mL]."""
        if self.window is None:
            return 0.0
        start = t - self.window
        # doses are recorded in time order: the window's are a tail, found by bisection
        first = bisect.bisect_right(self.doses, (start + _EPS_T, math.inf))
        doses = sum(v for _, v in self.doses[first:])
        return doses + self.background_volume(start, t)

    def would_exceed(self, t: float, volume: float | None = None) -> bool:
        """Would a dose of ``volume`` (default the demand) at ``t`` exceed the limit?"""
        if self.limit is None or self.window is None:
            return False
        dose = self.demand if volume is None else volume
        return self.window_volume(t) + dose > self.limit * (1 + _REL)

    def refusal(self, t: float) -> str | None:
        """Why a demand at ``t`` must be refused (``lockout``, ``hourly_count``,
        ``dose_limit``), or None when it may be given."""
        if self.in_lockout(t):
            return "lockout"
        if self.max_demands is not None and self.demands_last_hour(t) >= self.max_demands:
            return "hourly_count"
        if self.would_exceed(t):
            return "dose_limit"
        return None

    def next_free(self, t: float) -> float | None:
        """When the oldest dose in the window leaves it [s] (then ask again);
        None when no dose is in the window."""
        if self.window is None:
            return None
        first = bisect.bisect_right(self.doses, (t - self.window + _EPS_T, math.inf))
        return self.doses[first][0] + self.window if first < len(self.doses) else None
