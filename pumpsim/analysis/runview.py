"""A pump's run as the requirement oracles see it, and their verdicts.

:class:`PumpView` gathers one pump's hardware truth (the motor's exact rate
breakpoints, the line pressure), the inputs the engine delivered, the alarms
and records, and the scenario's program and settings, with the helpers the
monitors of :mod:`pumpsim.analysis.oracles_logic`,
:mod:`pumpsim.analysis.oracles_alarms` and :mod:`pumpsim.analysis.oracles_physics` share.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pumpsim.pump.alarms import default_alarm_table, restrictiveness
from pumpsim.pump.program import PcaStep, resolve_program

__all__ = [
    "PumpView",
    "Verdict",
    "verdict",
    "mlh",
    "near",
    "DoseIndex",
    "last_before",
    "PASS",
    "FAIL",
    "NOT_EXERCISED",
    "ERROR",
    "CHANGING",
    "SAME_INSTANT",
    "REL",
    "GRACE",
]

PASS, FAIL, NOT_EXERCISED = "pass", "fail", "not exercised"
ERROR = "error"  # the oracle itself raised: a bug of verify, never a verdict on the pump
_T = 1e-6  # [s] same instant
_REL = 1e-6  # relative tolerance on rates and volumes
_GRACE = 1.0  # [s] an alarm "with" an event may follow it by this much


@dataclass(frozen=True)
class Verdict:
    """One requirement on one run: ``status`` pass / fail / not exercised."""

    requirement: str
    status: str
    evidence: str
    time_s: float | None = None
    pump: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "time_s": self.time_s,
            "pump": self.pump,
            "evidence": self.evidence,
        }


class PumpView:
    """One pump's hardware truth, inputs and records, with the helpers the monitors use."""

    def __init__(
        self,
        sc: Any,
        pump: Any,
        records: Iterable[Any],
        ts: Any,
        motor: tuple[Any, Any] | None,
        duration: float,
        pressure: tuple[Any, Any, Any] | None = None,
    ) -> None:
        self.sc, self.pump, self.id = sc, pump, pump.id
        self.pressure = pressure  # downstream pressure breakpoints (times, values, slopes)
        self.source = f"pump.{pump.id}"
        self.duration = duration
        self.records = [r for r in records if r.source == self.source]
        self.by_kind: dict[str, list[Any]] = {}  # kind -> its records, in time order
        for r in self.records:
            self.by_kind.setdefault(r.kind, []).append(r)
        self._times = {k: [r.time_s for r in v] for k, v in self.by_kind.items()}
        self.ts = ts
        weight = sc.patient.weight if sc.patient is not None else None
        try:
            self.program = resolve_program(pump, weight)
        except Exception:  # a program that needs what is missing: no program-based checks
            self.program = []
        s = pump.settings
        self.max_rate = s.max_rate or 1200.0 / 3600.0
        self.kvo_rate = s.kvo_rate if s.kvo_rate is not None else 1.0 / 3600.0
        self.table = default_alarm_table()
        self.profile = self.table.profile(getattr(s, "alarm_profile", "GIP"))
        self.reservoir = pump.reservoir if pump.reservoir is not None else math.inf
        if motor is None:  # a saved result: the sampled flow (grid resolution)
            col = f"pump.{pump.id}.rate[mL/h]"
            col = col if col in ts.columns else f"pump.{pump.id}.flow[mL/h]"
            motor = (ts.index.to_numpy(float), ts[col].to_numpy(float) / 3600.0)
        t, q = np.asarray(motor[0], float), np.asarray(motor[1], float)
        keep = np.r_[True, np.diff(q) != 0] if q.size else np.zeros(0, bool)
        self.t, self.q = t[keep], q[keep]
        self.cum = np.r_[0.0, np.cumsum(self.q[:-1] * np.diff(self.t))] if self.t.size else self.t
        self.inputs = [
            (r.time_s, r.details.get("input", ""), r.details)
            for r in self.records
            if r.kind == "input"
        ]
        self.raised = [
            (r.time_s, r.details.get("alarm", ""), r.details.get("priority", "high"))
            for r in self.records
            if r.kind == "alarm"
        ]
        self.active = self._alarm_intervals()
        self._bolus_starts: list[tuple[float, float, float, float, str]] | None = None

    # -- the motor ---------------------------------------------------------------
    def q_at(self, t: float) -> float:
        """Motor rate from ``t`` on [mL/s]."""
        i = int(np.searchsorted(self.t, t + _T, side="right")) - 1
        return float(self.q[i]) if i >= 0 else 0.0

    def q_before(self, t: float) -> float:
        i = int(np.searchsorted(self.t, t - _T, side="right")) - 1
        return float(self.q[i]) if i >= 0 else 0.0

    def volume(self, t: float) -> float:
        """Volume the motor moved up to ``t`` [mL]."""
        i = int(np.searchsorted(self.t, t, side="right")) - 1
        return float(self.cum[i] + self.q[i] * (t - self.t[i])) if i >= 0 else 0.0

    def q_range(self, a: float, b: float) -> tuple[float, float]:
        """Min and max motor rate on the open interval (a, b)."""
        i0 = max(int(np.searchsorted(self.t, a + _T, side="right")) - 1, 0)
        i1 = max(int(np.searchsorted(self.t, b - _T, side="right")) - 1, i0)
        seg = self.q[i0 : i1 + 1]
        return (float(seg.min()), float(seg.max())) if seg.size else (0.0, 0.0)

    def steady_rates(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The motor rate [mL/s] on each open interval (a, b) where it held one value
        throughout, else NaN (vectorised, linear in the number of intervals)."""
        a, b = np.asarray(a, float), np.asarray(b, float)
        if not self.t.size:
            return np.full(a.shape, np.nan)
        i0 = np.searchsorted(self.t, a + _T, side="right") - 1
        i1 = np.searchsorted(self.t, b - _T, side="right") - 1
        one = (i0 == i1) & (i0 >= 0)
        return np.where(one, self.q[np.maximum(i0, 0)], np.nan)

    def stopped(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether the motor stood still on each open interval (a, b) (vectorised)."""
        a, b = np.asarray(a, float), np.asarray(b, float)
        if not self.t.size:
            return np.ones(a.shape, bool)
        running = np.r_[0, np.cumsum(self.q > 0)]  # running segments among the first k
        i0 = np.maximum(np.searchsorted(self.t, a + _T, side="right") - 1, 0)
        i1 = np.maximum(np.searchsorted(self.t, b - _T, side="right") - 1, i0)
        return np.asarray((running[i1 + 1] - running[i0]) == 0)

    def volumes(self, t: np.ndarray) -> np.ndarray:
        """:meth:`volume` at many times (vectorised)."""
        t = np.asarray(t, float)
        if not self.t.size:
            return np.zeros(t.shape)
        i = np.searchsorted(self.t, t, side="right") - 1
        j = np.maximum(i, 0)
        return np.where(i >= 0, self.cum[j] + self.q[j] * (t - self.t[j]), 0.0)

    def next_change(self, t: float) -> float:
        i = int(np.searchsorted(self.t, t + _T, side="right"))
        return float(self.t[i]) if i < self.t.size else self.duration

    def time_of_volume(self, v: float) -> float | None:
        """When the motor has moved ``v`` mL (None: never in this run)."""
        for i in range(self.t.size):
            end = self.t[i + 1] if i + 1 < self.t.size else self.duration
            reach = self.cum[i] + self.q[i] * (end - self.t[i])
            if reach >= v - 1e-12 and self.q[i] > 0:
                return float(self.t[i] + (v - self.cum[i]) / self.q[i])
        return None

    # -- alarms ------------------------------------------------------------------
    def action(self, kind: str, priority: str) -> str:
        if kind == "vtbi_complete":
            return {"stop": "stop", "kvo": "kvo"}.get(self.pump.settings.vtbi_end, "continue")
        if kind in self.table.alarms:
            return self.table.alarms[kind].action
        return "stop" if priority == "high" else "continue"

    def _alarm_intervals(self) -> list[tuple[float, float, str, str]]:
        cleared: dict[str, list[float]] = {}
        for r in self.by_kind.get("alarm_cleared", []):
            cleared.setdefault(r.details.get("alarm", ""), []).append(r.time_s)
        starts = [ti for ti, name, _ in self.inputs if name == "start"]
        out = []
        for t, kind, prio in self.raised:
            times = cleared.get(kind, [])
            i = bisect.bisect_left(times, t)
            end = times[i] if i < len(times) else self.duration
            if self.action(kind, prio) == "stop":
                j = bisect.bisect_right(starts, t)
                while j < len(starts) and starts[j] < end:
                    if self.q_at(starts[j]) > 0:
                        end = starts[j]
                        break
                    j += 1
            out.append((t, end, kind, prio))
        return out

    def active_at(self, t: float) -> list[tuple[float, float, str, str]]:
        return [a for a in self.active if a[0] <= t + _T and t < a[1] - _T]

    def inhibiting(self, kind: str, prio: str) -> bool:
        return prio == "high" or restrictiveness(self.action(kind, prio)) >= 1

    def records_at(self, kind: str, t: float, within: float = _T) -> list[Any]:
        """Records of ``kind`` written from ``t`` to ``t + within`` (a bisection)."""
        times = self._times.get(kind, [])
        i = bisect.bisect_left(times, t - _T)
        j = bisect.bisect_right(times, t + within)
        return self.by_kind[kind][i:j] if j > i else []

    # -- boluses -------------------------------------------------------------------
    def raised_between(self, a: float, b: float) -> list[float]:
        """Times of the alarms raised from ``a`` to ``b`` (a bisection)."""
        times = self._times.get("alarm", [])
        return times[bisect.bisect_left(times, a) : bisect.bisect_right(times, b)]

    def bolus_starts(self) -> list[tuple[float, float, float, float, str]]:
        """Boluses answering inputs: (start, base rate, bolus rate, end, input kind)."""
        if self._bolus_starts is None:
            self._bolus_starts = self._find_bolus_starts()
        return self._bolus_starts

    def _find_bolus_starts(self) -> list[tuple[float, float, float, float, str]]:
        out, seen = [], set()
        for t, kind, _ in self.inputs:
            if kind not in ("pca_press", "clinician_bolus") or t in seen:
                continue
            base, level = self.q_before(t), self.q_at(t)
            at_t = near(self.t, t)
            if at_t and level > base * (1 + _REL) + 1e-12:
                seen.add(t)
                out.append((t, base, level, self.next_change(t), kind))
        return out

    def pca_step(self) -> PcaStep | None:
        return next((s for s in self.program if isinstance(s, PcaStep)), None)

    def pca_boluses(
        self, basal: float, demand_only: bool = True
    ) -> list[tuple[float, float, float]]:
        """Boluses from the motor alone: (start, end, volume above the basal); demand doses
        only, unless ``demand_only`` is False (then clinician boluses too)."""
        out: list[list[float]] = []
        for i in range(self.t.size):
            end = float(self.t[i + 1]) if i + 1 < self.t.size else self.duration
            above = self.q[i] > basal * (1 + _REL) + 1e-12
            rising = i > 0 and self.q[i] > self.q[i - 1] * (1 + _REL) + 1e-12
            extra = (self.q[i] - basal) * (end - self.t[i])
            if above and (rising or not out or out[-1][1] < self.t[i] - _T):
                out.append([float(self.t[i]), end, extra])
            elif above:
                out[-1][1], out[-1][2] = end, out[-1][2] + extra
        clinician = [t for t, k, _ in self.inputs if k == "clinician_bolus"]
        return [
            (a, b, v)
            for a, b, v in out
            if not (demand_only and any(abs(a - c) <= _T for c in clinician))
        ]


class DoseIndex:
    """Boluses in time order, (start, end, volume above the basal), indexed for bisection."""

    def __init__(self, doses: list[tuple[float, float, float]]) -> None:
        self.d = doses
        self.a = [x[0] for x in doses]
        self.b = [x[1] for x in doses]
        self.cum = [0.0, *np.cumsum([x[2] for x in doses]).tolist()]

    def window_volume(
        self, pv: PumpView, t: float, window: float, upto: int | None = None
    ) -> float:
        """Volume counted in the window ending at ``t`` (the first ``upto`` doses only): doses
        by their start, the rest (basal, KVO) as delivered."""
        n = len(self.d) if upto is None else upto
        start = max(t - window, 0.0)
        i0 = bisect.bisect_right(self.a, t - window + _T, 0, n)
        i1 = bisect.bisect_right(self.a, t + _T, 0, n)
        bolus = self.cum[i1] - self.cum[i0]
        moved = pv.volume(t) - pv.volume(start)
        inside = 0.0
        for j in range(bisect.bisect_right(self.b, start, 0, n), n):
            a, b, v = self.d[j]
            if a >= t:
                break
            if b > a:
                inside += v * max(0.0, min(b, t) - max(a, start)) / (b - a)
        return bolus + max(moved - inside, 0.0)

    def running(self, t: float) -> bool:
        """Is a dose under way at ``t`` (started before it, not yet ended)?"""
        i = bisect.bisect_left(self.a, t) - 1
        return i >= 0 and self.a[i] < t < self.b[i]


def near(times: Any, t: float, tol: float = _T) -> bool:
    """Is a value of the sorted ``times`` within ``tol`` of ``t``? (a bisection)"""
    i = bisect.bisect_left(times, t - tol)
    return i < len(times) and times[i] <= t + tol


def last_before(times: Any, t: float) -> float | None:
    """The last of the sorted ``times`` before ``t - SAME_INSTANT`` (None: none)."""
    i = bisect.bisect_left(times, t - _T)
    return float(times[i - 1]) if i > 0 else None


def verdict(
    rid: str, status: str, evidence: str, t: float | None = None, pv: PumpView | None = None
) -> Verdict:
    """A verdict on requirement ``rid`` (at time ``t`` [s], about pump ``pv``)."""
    return Verdict(rid, status, evidence, t, pv.id if pv is not None else None)


def mlh(q: float) -> str:
    """A rate [mL/s] as text in mL/h."""
    return f"{q * 3600:.4g} mL/h"


#: inputs that change an infusion's course
CHANGING = ("titrate", "program", "stop", "start", "confirm", "clinician_bolus")

SAME_INSTANT, REL, GRACE = _T, _REL, _GRACE
